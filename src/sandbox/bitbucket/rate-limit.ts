/**
 * @module sandbox/bitbucket/rate-limit
 * Bitbucket Cloud's API request limits, as its "API request limits" page and the scaled-rate-limits
 * announcement describe them, so that clients meet them in tests:
 *
 * - a rolling one-hour window, counted per credential: an OAuth access token counts against its
 *   consumer (whoever the user), an access token (workspace, project, repository) against itself,
 *   a user's own credential against the user; anonymous requests per IP;
 * - 1,000 requests an hour to `/2.0/repositories/*` and, separately, 1,000 to webhook endpoints;
 *   60 an hour for anonymous requests to the whole API;
 * - access tokens of a workspace with more than 100 paid seats get 10 more an hour per seat
 *   above 100, up to 10,000, and see `X-RateLimit-Limit`, `X-RateLimit-Resource` and
 *   `X-RateLimit-NearLimit` (less than a fifth left) on those endpoints; other credentials see none;
 * - past the limit: `429` with the plain-text body "Rate limit for this resource has been exceeded"
 *   and no `Retry-After` (what recorded answers from bitbucket.org show); refused requests do not
 *   count.
 *
 * The window and limits can be changed through `/_sandbox/rate-limits` (tests use short windows).
 * The limiter also keeps the last requests it saw (time, method, path, status) for tests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HttpError } from '../core/http.js'
import type { SbToken } from './state.js'

export interface RateLimitSettings {
  enabled: boolean
  /** The rolling window (Bitbucket: one hour). */
  windowMs: number
  /** Requests per window per credential to /2.0/repositories/* (1,000). */
  repositories: number
  /** Requests per window per credential to webhook endpoints (1,000). */
  webhooks: number
  /** Anonymous requests per window per IP to the whole API (60). */
  anonymous: number
  /** Paid seats per workspace (scales access tokens' repository limit above 100 seats). */
  seats: Record<string, number>
}

export const BITBUCKET_LIMITS: RateLimitSettings = {
  enabled: true,
  windowMs: 3_600_000,
  repositories: 1000,
  webhooks: 1000,
  anonymous: 60,
  seats: {},
}

export interface SeenRequest {
  at: number
  method: string
  path: string
  status: number
}

const RECENT = 5000

export class RateLimiter {
  settings: RateLimitSettings
  readonly #hits = new Map<string, number[]>()
  readonly recent: SeenRequest[] = []

  constructor(settings: Partial<RateLimitSettings> = {}) {
    this.settings = { ...BITBUCKET_LIMITS, ...settings }
  }

  /** Notes the request (and its status once answered) among the recent ones. */
  observe(req: IncomingMessage, res: ServerResponse): void {
    const at = Date.now()
    res.once('finish', () => {
      this.recent.push({
        at,
        method: req.method ?? 'GET',
        path: req.url ?? '',
        status: res.statusCode,
      })
      if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT)
    })
  }

  /**
   * Counts an API request (`parts` after `/2.0/`) against its credential: sets the rate-limit
   * headers Bitbucket sends on `res` and returns true, or answers 429 and returns false.
   */
  admit(
    req: IncomingMessage,
    res: ServerResponse,
    parts: string[],
    credential: { token: SbToken; secret: string } | undefined,
    now = Date.now(),
  ): boolean {
    const s = this.settings
    if (!s.enabled) return true
    const hooks = parts.includes('hooks')
    let key: string
    let limit: number
    let scaled = false
    if (!credential) {
      key = `ip:${req.socket.remoteAddress ?? ''}`
      limit = s.anonymous
    } else {
      if (parts[0] !== 'repositories' && !hooks) return true
      const t = credential.token
      // Access tokens (workspace, project, repository) count alone; OAuth against the consumer;
      // a user's own credentials against the user.
      const accessToken = !['access', 'refresh', 'api'].includes(t.kind)
      const who = accessToken
        ? `token:${credential.secret}`
        : t.kind === 'access' && t.consumer
          ? `consumer:${t.consumer}`
          : `user:${t.username ?? ''}`
      key = `${hooks ? 'webhooks' : 'repositories'}|${who}`
      limit = hooks ? s.webhooks : s.repositories
      // Access tokens on the repository endpoints: scaled limits and their headers.
      scaled = !hooks && accessToken
      const seats = s.seats[t.workspace ?? parts[1] ?? ''] ?? 0
      if (scaled && seats > 100)
        limit = Math.min(limit * 10, limit + Math.floor(((seats - 100) * limit) / 100))
    }
    const since = now - s.windowMs
    const hits = (this.#hits.get(key) ?? []).filter((at) => at > since)
    this.#hits.set(key, hits)
    if (hits.length >= limit) {
      const body = 'Rate limit for this resource has been exceeded'
      res.writeHead(429, {
        'Content-Type': 'text/plain',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-cache, no-store',
      })
      res.end(body)
      return false
    }
    hits.push(now)
    if (scaled) {
      res.setHeader('X-RateLimit-Limit', String(limit))
      res.setHeader('X-RateLimit-Resource', 'api')
      res.setHeader('X-RateLimit-NearLimit', String(limit - hits.length < limit / 5))
    }
    return true
  }

  /** `GET|PUT|DELETE /_sandbox/rate-limits`: the settings and counts; change; reset. */
  admin(method: string, body: Record<string, unknown>): unknown {
    if (method === 'DELETE') {
      this.#hits.clear()
      this.recent.length = 0
    } else if (method === 'PUT') {
      const next = { ...this.settings }
      for (const k of ['windowMs', 'repositories', 'webhooks', 'anonymous'] as const) {
        const v = body[k]
        if (v === undefined) continue
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
          throw new HttpError(400, `${k} must be a positive integer`)
        next[k] = v
      }
      if (body['enabled'] !== undefined) {
        if (typeof body['enabled'] !== 'boolean') throw new HttpError(400, 'enabled is a boolean')
        next.enabled = body['enabled']
      }
      const seats = body['seats']
      if (seats !== undefined) {
        if (
          !seats ||
          typeof seats !== 'object' ||
          Object.values(seats).some((n) => typeof n !== 'number' || n < 0)
        )
          throw new HttpError(400, 'seats maps workspace slugs to seat counts')
        next.seats = { ...(seats as Record<string, number>) }
      }
      this.settings = next
    } else if (method !== 'GET')
      throw new HttpError(405, 'Method not allowed', { Allow: 'GET, PUT, DELETE' })
    const since = Date.now() - this.settings.windowMs
    const used: Record<string, number> = {}
    for (const [k, hits] of this.#hits) {
      // Token-keyed buckets are shown by a prefix of the token only.
      const shown = k.replace(/token:(.{4}).*$/, 'token:$1…')
      used[shown] = hits.filter((at) => at > since).length
    }
    return { settings: this.settings, used, recent: this.recent }
  }
}
