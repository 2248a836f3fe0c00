/**
 * @module providers/github/webhook
 * Verifies and parses the GitHub App's webhook deliveries (one app-level webhook for every
 * installation; providers.md §2, docs.github.com "Validating webhook deliveries" and "Webhook
 * events and payloads"). The signature is `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
 * raw body with the webhook secret>`, compared in constant time before anything is parsed; the
 * legacy SHA-1 `X-Hub-Signature` alone is refused. `X-GitHub-Event` names the event,
 * `X-GitHub-Delivery` (a GUID) the delivery.
 *
 * Mapped: `push` (branches and tags; creation, deletion, forced; commits with their file lists),
 * `pull_request` (`opened`/`reopened` → OPEN, `synchronize`/`edited` → UPDATED, as Bitbucket's
 * `pullrequest:updated` covers both pushes and edits; `closed` → CLOSED with `merged`), and the
 * installation events, returned as an IgnoredEvent carrying `installation` for the connect layer.
 * Everything else (ping, create/delete, which `push` already covers, other actions) is ignored
 * with a reason. Keys are read tolerantly: a missing or mistyped optional key leaves its field
 * empty; only the repository's `full_name` (and a pull request's `number`) are required.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { WebhookRejected } from '../errors.js'
import type {
  IgnoredEvent,
  InstallationChange,
  ProviderEvent,
  PullRequestEvent,
  PushChange,
  RawWebhook,
} from '../provider.js'

/** GitHub does not deliver payloads above 25 MB (docs: "Payloads are capped at 25 MB"). */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024

/** The most commits a push payload lists (docs, push event: "a maximum of 2048 commits"). */
export const PUSH_COMMITS_CAP = 2048

const ZERO = /^0+$/

const header = (h: RawWebhook['headers'], name: string): string | undefined => {
  const v = h[name] ?? h[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : v
}

/** `sha256=<hex>` for `body`, as GitHub computes `X-Hub-Signature-256`. */
export function signGitHub(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** @throws WebhookRejected when the signature is absent, malformed or does not match. */
export function verifyGitHubSignature(req: RawWebhook, secret: string): void {
  if (!secret) throw new WebhookRejected('No webhook secret is configured for the GitHub App')
  const sig = header(req.headers, 'x-hub-signature-256')
  if (!sig)
    throw new WebhookRejected(
      header(req.headers, 'x-hub-signature')
        ? 'The delivery carries only the SHA-1 X-Hub-Signature; X-Hub-Signature-256 is required'
        : 'The delivery carries no X-Hub-Signature-256',
    )
  const m = /^sha256=([0-9a-f]{64})$/i.exec(sig.trim())
  if (!m) throw new WebhookRejected('X-Hub-Signature-256 is not sha256=<64 hex digits>')
  const expected = createHmac('sha256', secret).update(req.body).digest()
  if (!timingSafeEqual(expected, Buffer.from(m[1]!, 'hex')))
    throw new WebhookRejected('X-Hub-Signature-256 does not match the body')
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const idOf = (v: unknown): string | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? String(v) : str(v)

/** The JSON body; GitHub also offers `application/x-www-form-urlencoded` with `payload=<json>`. */
function parseBody(req: RawWebhook): Record<string, unknown> {
  let text = req.body.toString('utf8')
  const type = header(req.headers, 'content-type') ?? ''
  if (type.startsWith('application/x-www-form-urlencoded'))
    text = new URLSearchParams(text).get('payload') ?? ''
  try {
    const body: unknown = JSON.parse(text)
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error()
    return body as Record<string, unknown>
  } catch {
    throw new WebhookRejected('The delivery body is not a JSON object')
  }
}

function repositoryOf(body: Record<string, unknown>): { fullName: string; id: string } {
  const r = obj(body['repository'])
  const fullName = str(r['full_name'])
  if (!fullName) throw new WebhookRejected('The delivery names no repository.full_name')
  return { fullName, id: idOf(r['id']) ?? '' }
}

function installationIdOf(body: Record<string, unknown>): string | undefined {
  return idOf(obj(body['installation'])['id'])
}

function parsePush(
  body: Record<string, unknown>,
  deliveryId: string,
): ProviderEvent | IgnoredEvent {
  const ref = str(body['ref']) ?? ''
  const kind = ref.startsWith('refs/heads/')
    ? 'branch'
    : ref.startsWith('refs/tags/')
      ? 'tag'
      : undefined
  if (!kind) return { kind: 'ignored', deliveryId, reason: `push to ${ref.slice(0, 100)}` }
  const before = str(body['before'])
  const after = str(body['after'])
  const deleted = body['deleted'] === true || (after !== undefined && ZERO.test(after))
  const created = body['created'] === true || (before !== undefined && ZERO.test(before))
  const commits = arr(body['commits']).map(obj)
  const change: PushChange = {
    kind,
    name: ref.slice(kind === 'branch' ? 'refs/heads/'.length : 'refs/tags/'.length),
    created,
    deleted,
    forced: body['forced'] === true,
    // GitHub lists the pushed commits oldest first; the interface wants newest first.
    commits: commits
      .map((c) => ({ id: str(c['id']) ?? '', message: str(c['message']) ?? '' }))
      .filter((c) => c.id !== '')
      .reverse(),
  }
  if (before && !ZERO.test(before)) change.before = before
  if (after && !ZERO.test(after)) change.after = after
  const event: ProviderEvent = {
    kind: 'push',
    deliveryId,
    repository: repositoryOf(body),
    changes: [change],
  }
  const installationId = installationIdOf(body)
  if (installationId) event.installationId = installationId
  // The commits' file lists equal the push's diff only for a plain fast-forward whose commits
  // all fit in the payload; otherwise leave it to `changedFiles` (the compare API).
  if (!created && !deleted && !change.forced && commits.length > 0) {
    if (commits.length < PUSH_COMMITS_CAP) {
      const files = new Set<string>()
      for (const c of commits)
        for (const k of ['added', 'modified', 'removed'])
          for (const f of arr(c[k])) if (typeof f === 'string') files.add(f)
      event.changedFiles = [...files]
    }
  }
  return event
}

const PULL_REQUEST_ACTIONS: Record<string, PullRequestEvent['action']> = {
  opened: 'OPEN',
  reopened: 'OPEN',
  synchronize: 'UPDATED',
  edited: 'UPDATED',
  closed: 'CLOSED',
}

function parsePullRequest(
  body: Record<string, unknown>,
  deliveryId: string,
): PullRequestEvent | IgnoredEvent {
  const action = str(body['action']) ?? ''
  const mapped = PULL_REQUEST_ACTIONS[action]
  if (!mapped) return { kind: 'ignored', deliveryId, reason: `pull_request ${action.slice(0, 60)}` }
  const pr = obj(body['pull_request'])
  const num = typeof body['number'] === 'number' ? body['number'] : pr['number']
  if (typeof num !== 'number' || !Number.isInteger(num))
    throw new WebhookRejected('The pull_request delivery carries no number')
  const head = obj(pr['head'])
  const base = obj(pr['base'])
  const event: PullRequestEvent = {
    kind: 'pull_request',
    deliveryId,
    repository: repositoryOf(body),
    action: mapped,
    merged: mapped === 'CLOSED' && pr['merged'] === true,
    number: num,
    title: str(pr['title']) ?? '',
    sourceBranch: str(head['ref']) ?? '',
    destinationBranch: str(base['ref']) ?? '',
    sourceCommit: str(head['sha']) ?? '',
    destinationCommit: str(base['sha']) ?? '',
  }
  const installationId = installationIdOf(body)
  if (installationId) event.installationId = installationId
  return event
}

const fullNames = (v: unknown): string[] =>
  arr(v)
    .map((r) => str(obj(r)['full_name']))
    .filter((n): n is string => n !== undefined)

function parseInstallation(
  event: string,
  body: Record<string, unknown>,
  deliveryId: string,
): IgnoredEvent {
  const action = str(body['action']) ?? ''
  const inst = obj(body['installation'])
  const change: InstallationChange = {
    action:
      event === 'installation_repositories'
        ? `repositories_${action}`
        : event === 'github_app_authorization'
          ? `authorization_${action}`
          : action,
  }
  const id = idOf(inst['id'])
  if (id) change.installationId = id
  const account = str(obj(inst['account'])['login'])
  if (account) change.account = account
  const selection = str(body['repository_selection']) ?? str(inst['repository_selection'])
  if (selection === 'all' || selection === 'selected') change.repositorySelection = selection
  const added = fullNames(
    event === 'installation_repositories' ? body['repositories_added'] : body['repositories'],
  )
  if (added.length > 0 && (event === 'installation_repositories' || action === 'created'))
    change.repositoriesAdded = added
  const removed = fullNames(body['repositories_removed'])
  if (removed.length > 0) change.repositoriesRemoved = removed
  return {
    kind: 'ignored',
    deliveryId,
    reason: `${event} ${action.slice(0, 60)}`,
    installation: change,
  }
}

/**
 * Verifies the delivery's signature over the raw body, then parses it.
 * @throws WebhookRejected when the signature is missing or wrong, or the body malformed.
 */
export function parseGitHubWebhook(req: RawWebhook, secret: string): ProviderEvent | IgnoredEvent {
  if (req.body.length > MAX_WEBHOOK_BYTES)
    throw new WebhookRejected('The delivery is larger than GitHub sends')
  verifyGitHubSignature(req, secret)
  const event = header(req.headers, 'x-github-event')
  if (!event) throw new WebhookRejected('The delivery carries no X-GitHub-Event')
  const deliveryId = header(req.headers, 'x-github-delivery') ?? ''
  if (!deliveryId) throw new WebhookRejected('The delivery carries no X-GitHub-Delivery')
  const body = parseBody(req)
  switch (event) {
    case 'push':
      return parsePush(body, deliveryId)
    case 'pull_request':
      return parsePullRequest(body, deliveryId)
    case 'installation':
    case 'installation_repositories':
    case 'installation_target':
    case 'github_app_authorization':
      return parseInstallation(event, body, deliveryId)
    case 'ping':
      return { kind: 'ignored', deliveryId, reason: 'ping' }
    default:
      return { kind: 'ignored', deliveryId, reason: `event ${event.slice(0, 60)}` }
  }
}
