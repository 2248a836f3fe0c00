/**
 * @module providers/gitlab/webhook
 * Verifies and parses GitLab webhook deliveries (shared/spec/gitlab/webhooks.md,
 * webhook_events.md). GitLab signs nothing: it echoes the webhook's secret token in
 * `X-Gitlab-Token`, compared here in constant time (SHA-256 digests of both, so lengths never
 * leak). The delivery id is `Idempotency-Key` (the same across GitLab's retries, 17.4+), else
 * `X-Gitlab-Event-UUID` (14.8+), else a hash of the body.
 *
 * - `Push Hook` / `Tag Push Hook`: one ref per delivery. `before`/`after` all zeros mean created /
 *   deleted. `commits` holds at most the newest 20, oldest first (reversed here: newest first);
 *   their `added`/`modified`/`removed` become the changed files only for an update of an existing
 *   branch whose commits all fit (`total_commits_count` ≤ their number); otherwise the engine asks
 *   `changedFiles`. (GitLab does not say whether a push was forced.)
 * - `Merge Request Hook`: `open`/`reopen` → OPEN; `update` with `oldrev` (new commits) → UPDATED,
 *   without it (a title, label or approval change) → ignored; `merge` → CLOSED merged; `close` →
 *   CLOSED. The payload carries no target commit: `destinationCommit` is the target branch,
 *   which `getCommit` resolves (GitLab's `commits/:sha` takes a branch name).
 * Anything else is an IgnoredEvent. Only the few keys below are read, each tolerantly (an email
 * GitLab shows as `[REDACTED]` is never read).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { WebhookRejected } from '../errors.js'
import type {
  IgnoredEvent,
  ProviderEvent,
  PullRequestEvent,
  PushChange,
  PushEvent,
  RawWebhook,
} from '../provider.js'

/** Larger deliveries are refused before parsing (a push lists at most 20 commits' files). */
export const MAX_WEBHOOK_BYTES = 8 * 1024 * 1024

const ZERO = /^0+$/

const header = (h: RawWebhook['headers'], name: string): string | undefined => {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const digest = (s: string | Buffer) => createHash('sha256').update(s).digest()

function verifyToken(req: RawWebhook, secret: string): void {
  const given = header(req.headers, 'x-gitlab-token')
  if (given === undefined || given === '')
    throw new WebhookRejected('The delivery carries no X-Gitlab-Token', 401)
  if (!timingSafeEqual(digest(given), digest(secret)))
    throw new WebhookRejected('X-Gitlab-Token does not match the webhook secret', 401)
}

function repositoryOf(body: Record<string, unknown>) {
  const p = obj(body['project'])
  const fullName = str(p['path_with_namespace'])
  if (!fullName.includes('/')) throw new WebhookRejected('The delivery names no project')
  const id = p['id'] ?? body['project_id']
  return { fullName, id: typeof id === 'number' || typeof id === 'string' ? String(id) : '' }
}

function parsePush(body: Record<string, unknown>, deliveryId: string): PushEvent | IgnoredEvent {
  const ref = str(body['ref'])
  const m = /^refs\/(heads|tags)\/(.+)$/.exec(ref)
  if (!m)
    return { kind: 'ignored', deliveryId, reason: `push to ${ref.slice(0, 100) || '(no ref)'}` }
  const before = str(body['before'])
  const after = str(body['after'])
  const created = ZERO.test(before)
  const deleted = ZERO.test(after)
  const commits = arr(body['commits']).map(obj)
  const change: PushChange = {
    kind: m[1] === 'heads' ? 'branch' : 'tag',
    name: m[2]!,
    created,
    deleted,
    forced: false,
    commits: commits
      .map((c) => ({ id: str(c['id']), message: str(c['message']) }))
      .filter((c) => c.id !== '')
      .reverse(),
  }
  if (before && !created) change.before = before
  if (after && !deleted) change.after = after
  const event: PushEvent = {
    kind: 'push',
    deliveryId,
    repository: repositoryOf(body),
    changes: [change],
  }
  const total = body['total_commits_count']
  if (
    change.kind === 'branch' &&
    !created &&
    !deleted &&
    commits.length > 0 &&
    typeof total === 'number' &&
    total <= commits.length
  ) {
    const files = new Set<string>()
    for (const c of commits)
      for (const k of ['added', 'modified', 'removed'])
        for (const f of arr(c[k])) if (typeof f === 'string') files.add(f)
    event.changedFiles = [...files]
  }
  return event
}

function parseMergeRequest(
  body: Record<string, unknown>,
  deliveryId: string,
): PullRequestEvent | IgnoredEvent {
  const a = obj(body['object_attributes'])
  const kind = str(a['action'])
  let action: PullRequestEvent['action'] | undefined
  if (kind === 'open' || kind === 'reopen') action = 'OPEN'
  else if (kind === 'update' && str(a['oldrev']) !== '') action = 'UPDATED'
  else if (kind === 'merge' || kind === 'close') action = 'CLOSED'
  if (!action)
    return {
      kind: 'ignored',
      deliveryId,
      reason: `merge request ${kind.slice(0, 40) || '(no action)'}${kind === 'update' ? ' without new commits' : ''} starts nothing`,
    }
  const iid = a['iid']
  if (typeof iid !== 'number') throw new WebhookRejected('The delivery has no merge request iid')
  return {
    kind: 'pull_request',
    deliveryId,
    repository: repositoryOf(body),
    action,
    merged: kind === 'merge',
    number: iid,
    title: str(a['title']),
    sourceBranch: str(a['source_branch']),
    destinationBranch: str(a['target_branch']),
    sourceCommit: str(obj(a['last_commit'])['id']),
    destinationCommit: str(a['target_branch']),
  }
}

export function parseGitLabWebhook(req: RawWebhook, secret: string): ProviderEvent | IgnoredEvent {
  if (req.body.length > MAX_WEBHOOK_BYTES)
    throw new WebhookRejected(`The delivery exceeds ${MAX_WEBHOOK_BYTES} bytes`)
  verifyToken(req, secret)
  const deliveryId =
    header(req.headers, 'idempotency-key') ||
    header(req.headers, 'x-gitlab-event-uuid') ||
    `sha256:${digest(req.body).toString('hex')}`
  const event = header(req.headers, 'x-gitlab-event') ?? ''
  let parsed: unknown
  try {
    parsed = JSON.parse(req.body.toString('utf8'))
  } catch {
    throw new WebhookRejected('The delivery body is not JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new WebhookRejected('The delivery body is not an object')
  const body = parsed as Record<string, unknown>
  const objectKind = str(body['object_kind'])
  if (
    (event === 'Push Hook' && objectKind === 'push') ||
    (event === 'Tag Push Hook' && objectKind === 'tag_push')
  )
    return parsePush(body, deliveryId)
  if (event === 'Merge Request Hook' && objectKind === 'merge_request')
    return parseMergeRequest(body, deliveryId)
  return {
    kind: 'ignored',
    deliveryId,
    reason: `event ${event.slice(0, 60) || '(none)'} starts nothing`,
  }
}
