/**
 * @module sandbox/github/deliver
 * The GitHub App's one webhook (the core's Deliveries sends, retries and resends): which app
 * gets an event (installation events always; push and pull_request when subscribed and the
 * installation reaches the repository), GitHub's delivery headers (`X-GitHub-Event`,
 * `X-GitHub-Delivery`, `X-Hub-Signature-256`, `X-Hub-Signature`, `X-GitHub-Hook-ID`,
 * `X-GitHub-Hook-Installation-Target-Type/ID`, `User-Agent: GitHub-Hookshot/…`, and the
 * `X-GitHub-Enterprise-*` pair in enterprise mode), and the log `GET /app/hook/deliveries` lists.
 * Payload shapes come from payloads-min.ts (swapped for payloads.ts in one import).
 */
import { createHmac } from 'node:crypto'
import type { DeliveryOptions, DeliveryRecord, HookTarget } from '../core/deliveries.js'
import type { Gh } from './context.js'
import type { GhApp, GhInstallation, GhRepo } from './state.js'

/** One delivery as `GET /app/hook/deliveries` lists it. */
export interface HookLogEntry {
  id: number
  guid: string
  appId: number
  event: string
  action: string | null
  installationId: number | null
  repositoryId: number | null
  redelivery: boolean
  at: number
  record: DeliveryRecord
}

/** The app's webhook as a delivery target (none when it has no URL or is inactive). */
export function appHook(a: GhApp): HookTarget | undefined {
  if (!a.webhookUrl || !a.webhookActive) return undefined
  return { id: String(a.hookId), url: a.webhookUrl, secret: a.webhookSecret }
}

export function deliveryOptions(gh: Gh): Omit<DeliveryOptions, 'track'> {
  return {
    headers(h, record, body) {
      const app = gh.state.data.apps.find((a) => String(a.hookId) === h.id)
      const headers: Record<string, string> = {
        'User-Agent': 'GitHub-Hookshot/sandbox',
        'X-GitHub-Event': record.event,
        'X-GitHub-Delivery': record.id,
        'X-GitHub-Hook-ID': h.id,
        'X-GitHub-Hook-Installation-Target-Type': 'integration',
        'X-GitHub-Hook-Installation-Target-ID': String(app?.id ?? ''),
      }
      if (h.secret) {
        headers['X-Hub-Signature-256'] =
          `sha256=${createHmac('sha256', h.secret).update(body).digest('hex')}`
        headers['X-Hub-Signature'] =
          `sha1=${createHmac('sha1', h.secret).update(body).digest('hex')}`
      }
      if (gh.enterprise) {
        headers['X-GitHub-Enterprise-Version'] = '3.19.0'
        headers['X-GitHub-Enterprise-Host'] = new URL(gh.urls.web).host
      }
      return headers
    },
    findHook(id) {
      const a = gh.state.data.apps.find((x) => String(x.hookId) === id)
      return a && appHook(a)
    },
  }
}

export interface SendOptions {
  event: string
  action?: string
  installation?: GhInstallation
  repository?: GhRepo
  payload: Record<string, unknown>
}

/** Sends one event to the app's webhook (in the background) and logs the delivery. */
export function sendToApp(gh: Gh, app: GhApp, o: SendOptions): HookLogEntry | undefined {
  const hook = appHook(app)
  if (!hook) return undefined
  const [record] = gh.deliveries.deliver([hook], o.event, o.payload)
  if (!record) return undefined
  const entry: HookLogEntry = {
    id: gh.state.newId(),
    guid: record.id,
    appId: app.id,
    event: o.event,
    action: o.action ?? null,
    installationId: o.installation?.id ?? null,
    repositoryId: o.repository?.id ?? null,
    redelivery: false,
    at: gh.now(),
    record,
  }
  gh.hookLog.push(entry)
  if (gh.hookLog.length > 1000) gh.hookLog.shift()
  return entry
}

/**
 * The installations whose app subscribes to `event` and that reach the repository (not
 * suspended), each with its app: a repository event goes to each.
 */
export function subscribers(gh: Gh, repo: GhRepo, event: string) {
  return gh.state.data.installations
    .filter((i) => !i.suspendedAt)
    .map((i) => ({ installation: i, app: gh.state.app(i.appId)! }))
    .filter(
      ({ installation, app }) =>
        app &&
        app.events.includes(event) &&
        gh.state.installationRepos(installation).some((r) => r.id === repo.id),
    )
}

/** Redelivers a logged delivery (same body and guid; a new log entry marked redelivery). */
export function redeliver(gh: Gh, entry: HookLogEntry): HookLogEntry | undefined {
  const sent = gh.deliveries.resend(entry.guid)
  if (!sent) return undefined
  const again: HookLogEntry = { ...entry, id: gh.state.newId(), redelivery: true, at: gh.now() }
  gh.hookLog.push(again)
  return again
}
