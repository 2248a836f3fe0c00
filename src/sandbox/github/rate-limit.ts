/**
 * @module sandbox/github/rate-limit
 * GitHub's REST rate limits, as docs.github.com ("Rate limits for the REST API") describes them:
 * a primary limit per installation (installation tokens), per user (user-to-server and personal
 * access tokens) or per caller without a token, counted in a window that starts with the first
 * request (an hour; 5000 requests), told in `x-ratelimit-limit/remaining/used/reset/resource`; at
 * 0 remaining GitHub answers 403 "API rate limit exceeded for …". And a secondary limit, which
 * the admin API switches on for some seconds: every request is then answered 403 (or 429) with
 * `Retry-After`. Counters live in memory only (they die with the process).
 */
import type { AdminApi } from '../core/admin.js'
import { HttpError } from '../core/http.js'
import { apiError, type Gh } from './context.js'

export interface RateLimitConfig {
  /** Requests per window (GitHub: 5000 an hour). */
  limit: number
  /** The window's length in seconds (GitHub: 3600). */
  windowSeconds: number
}

interface Window {
  started: number
  used: number
}

interface Limits {
  config: RateLimitConfig
  windows: Map<string, Window>
  /** The secondary limit: refused until `until` (ms, sandbox clock). */
  secondary?: { until: number; status: 403 | 429 }
}

const DEFAULT: RateLimitConfig = { limit: 5000, windowSeconds: 3600 }
const all = new WeakMap<Gh, Limits>()

function limitsOf(gh: Gh): Limits {
  let l = all.get(gh)
  if (!l) all.set(gh, (l = { config: { ...DEFAULT }, windows: new Map() }))
  return l
}

/** Sets the primary limit (and starts every window afresh). */
export function configureRateLimit(gh: Gh, c: Partial<RateLimitConfig>): RateLimitConfig {
  const l = limitsOf(gh)
  l.config = { ...l.config, ...c }
  l.windows.clear()
  return l.config
}

/** Switches the secondary limit on for `seconds` (0 switches it off). */
export function triggerSecondary(gh: Gh, seconds: number, status: 403 | 429 = 403): void {
  const l = limitsOf(gh)
  if (seconds <= 0) delete l.secondary
  else l.secondary = { until: gh.now() + seconds * 1000, status }
}

function windowOf(gh: Gh, key: string): Window {
  const l = limitsOf(gh)
  const now = gh.now()
  let w = l.windows.get(key)
  if (!w || now >= w.started + l.config.windowSeconds * 1000) {
    w = { started: now, used: 0 }
    l.windows.set(key, w)
  }
  return w
}

function headersOf(gh: Gh, w: Window): Record<string, string> {
  const { limit, windowSeconds } = limitsOf(gh).config
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, limit - w.used)),
    'x-ratelimit-reset': String(Math.ceil((w.started + windowSeconds * 1000) / 1000)),
    'x-ratelimit-used': String(w.used),
    'x-ratelimit-resource': 'core',
  }
}

/**
 * Counts one request of `key` (`installation ID n`, `user ID n`, an address) and answers its
 * headers. @throws 403 (or 429) with `Retry-After` under the secondary limit; 403 "API rate limit
 * exceeded" with `x-ratelimit-remaining: 0` when the primary one is used up (not counted)
 */
export function countRequest(gh: Gh, key: string): Record<string, string> {
  const l = limitsOf(gh)
  const now = gh.now()
  if (l.secondary && now >= l.secondary.until) delete l.secondary
  const w = windowOf(gh, key)
  if (l.secondary) {
    const wait = Math.max(1, Math.ceil((l.secondary.until - now) / 1000))
    throw apiError(
      l.secondary.status,
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      { ...headersOf(gh, w), 'Retry-After': String(wait) },
    )
  }
  if (w.used >= l.config.limit)
    throw apiError(403, `API rate limit exceeded for ${key}.`, headersOf(gh, w))
  w.used++
  return headersOf(gh, w)
}

/** What `GET /rate_limit` answers for `key` (not counted, as GitHub does not count it). */
export function rateStatus(gh: Gh, key: string) {
  const w = windowOf(gh, key)
  const h = headersOf(gh, w)
  const core = {
    limit: Number(h['x-ratelimit-limit']),
    remaining: Number(h['x-ratelimit-remaining']),
    reset: Number(h['x-ratelimit-reset']),
    used: w.used,
    resource: 'core',
  }
  const search = { ...core, limit: 30, remaining: 30, used: 0, resource: 'search' }
  return { resources: { core, search }, rate: core }
}

/** `/_sandbox/rate-limit`: the primary limit, and the secondary one switched on for a while. */
export function addRateLimitEndpoints(api: AdminApi, gh: Gh): void {
  api.add(
    'GET|PUT',
    'rate-limit',
    'PUT /_sandbox/rate-limit {limit?, windowSeconds?} (the primary limit per installation or user; GET shows it)',
    ({ method, body }) => {
      if (method === 'GET') return [200, limitsOf(gh).config]
      const c: Partial<RateLimitConfig> = {}
      for (const k of ['limit', 'windowSeconds'] as const) {
        const v = body[k]
        if (v === undefined) continue
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000)
          throw new HttpError(422, `${k} must be a whole number from 1 to 1000000`)
        c[k] = v
      }
      return [200, configureRateLimit(gh, c)]
    },
  )
  api.add(
    'POST',
    'rate-limit/secondary',
    'POST /_sandbox/rate-limit/secondary {retryAfter: seconds (0 ends it), status?: 403|429}',
    ({ body }) => {
      const s = body['retryAfter']
      const status = body['status'] ?? 403
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 3600)
        throw new HttpError(422, 'retryAfter must be a whole number of seconds from 0 to 3600')
      if (status !== 403 && status !== 429) throw new HttpError(422, 'status is 403 or 429')
      triggerSecondary(gh, s, status)
      return [200, { retryAfter: s, status }]
    },
  )
}
