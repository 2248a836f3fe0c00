/**
 * @module providers/bitbucket/webhook
 * Verifies and parses Bitbucket webhook deliveries: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of
 * the raw body>` (Bitbucket's header of this name is SHA-256, unlike GitHub's), `X-Event-Key`,
 * `X-Request-UUID`. Push payloads carry no file lists; pull-request payloads carry 12-character
 * commit abbreviations (providers.md §1.5). Only the few keys below are read, each optionally:
 * today's payloads (test/fixtures/bitbucket) carry far more, older ones less; a key that is
 * absent, `null` or not a string leaves its field empty rather than refusing the delivery (only
 * the repository's `full_name` and a pull request's `id` are required).
 * `pullrequest:updated` is both a push to the source branch and an edit of the title or
 * description; both are `UPDATED` (README, Triggers).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { WebhookRejected } from '../errors.js'
import type {
  IgnoredEvent,
  ProviderEvent,
  PullRequestEvent,
  PushChange,
  RawWebhook,
} from '../provider.js'

/** Larger deliveries are refused before parsing (Bitbucket's own payloads stay far below). */
export const MAX_WEBHOOK_BYTES = 1024 * 1024

const header = (h: RawWebhook['headers'], name: string): string | undefined => {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}

export function signBitbucket(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

function verifySignature(req: RawWebhook, secret: string): void {
  const sig = header(req.headers, 'x-hub-signature')
  if (!sig) throw new WebhookRejected('The delivery carries no X-Hub-Signature')
  const m = /^sha256=([0-9a-f]{64})$/i.exec(sig.trim())
  if (!m) throw new WebhookRejected('X-Hub-Signature is not sha256=<64 hex digits>')
  const expected = createHmac('sha256', secret).update(req.body).digest()
  const given = Buffer.from(m[1]!, 'hex')
  if (!timingSafeEqual(expected, given))
    throw new WebhookRejected('X-Hub-Signature does not match the body')
}

interface BbRef {
  type?: string
  name?: string
  target?: { hash?: string }
}

interface BbPushBody {
  repository?: { full_name?: string; uuid?: string }
  push?: {
    changes?: {
      old?: BbRef | null
      new?: BbRef | null
      created?: boolean
      closed?: boolean
      forced?: boolean
      commits?: { hash?: string; message?: string }[]
    }[]
  }
}

interface BbPullRequestBody {
  repository?: { full_name?: string; uuid?: string }
  pullrequest?: {
    id?: number
    title?: string
    state?: string
    source?: { branch?: { name?: string }; commit?: { hash?: string } }
    destination?: { branch?: { name?: string }; commit?: { hash?: string } }
  }
}

const PULL_REQUEST_ACTIONS: Record<string, PullRequestEvent['action']> = {
  'pullrequest:created': 'OPEN',
  'pullrequest:updated': 'UPDATED',
  'pullrequest:push': 'UPDATED',
  'pullrequest:fulfilled': 'CLOSED',
  'pullrequest:rejected': 'CLOSED',
}

/** A string field, or '' when the payload has none there. */
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

function repositoryOf(body: { repository?: { full_name?: string; uuid?: string } }) {
  const r = body.repository
  if (typeof r?.full_name !== 'string' || !r.full_name.includes('/'))
    throw new WebhookRejected('The delivery names no repository')
  return { fullName: r.full_name, id: str(r.uuid).replace(/^\{|\}$/g, '') }
}

export function parseBitbucketWebhook(
  req: RawWebhook,
  secret: string,
): ProviderEvent | IgnoredEvent {
  if (req.body.length > MAX_WEBHOOK_BYTES)
    throw new WebhookRejected(`The delivery exceeds ${MAX_WEBHOOK_BYTES} bytes`)
  verifySignature(req, secret)
  const deliveryId = header(req.headers, 'x-request-uuid')
  if (!deliveryId) throw new WebhookRejected('The delivery carries no X-Request-UUID')
  const eventKey = header(req.headers, 'x-event-key') ?? ''
  let body: unknown
  try {
    body = JSON.parse(req.body.toString('utf8'))
  } catch {
    throw new WebhookRejected('The delivery body is not JSON')
  }
  if (typeof body !== 'object' || body === null)
    throw new WebhookRejected('The delivery body is not an object')

  if (eventKey === 'repo:push') {
    const b = body as BbPushBody
    const repository = repositoryOf(b)
    const changes: PushChange[] = []
    for (const c of b.push?.changes ?? []) {
      const ref = c.new ?? c.old
      if (!ref?.name || (ref.type !== 'branch' && ref.type !== 'tag')) continue
      const change: PushChange = {
        kind: ref.type,
        name: ref.name,
        created: c.created === true || !c.old,
        deleted: c.closed === true || !c.new,
        forced: c.forced === true,
        commits: (c.commits ?? [])
          .filter((x) => typeof x.hash === 'string')
          .map((x) => ({ id: x.hash!, message: str(x.message) })),
      }
      const before = str(c.old?.target?.hash)
      const after = str(c.new?.target?.hash)
      if (before) change.before = before
      if (after) change.after = after
      changes.push(change)
    }
    return { kind: 'push', deliveryId, repository, changes }
  }

  const action = PULL_REQUEST_ACTIONS[eventKey]
  if (action) {
    const b = body as BbPullRequestBody
    const repository = repositoryOf(b)
    const pr = b.pullrequest
    if (!pr || typeof pr.id !== 'number')
      throw new WebhookRejected('The delivery has no pull request')
    return {
      kind: 'pull_request',
      deliveryId,
      repository,
      action,
      merged: eventKey === 'pullrequest:fulfilled',
      number: pr.id,
      title: str(pr.title),
      sourceBranch: str(pr.source?.branch?.name),
      destinationBranch: str(pr.destination?.branch?.name),
      sourceCommit: str(pr.source?.commit?.hash),
      destinationCommit: str(pr.destination?.commit?.hash),
    }
  }
  return { kind: 'ignored', deliveryId, reason: `event ${eventKey || '(none)'} starts nothing` }
}
