/**
 * @module sandbox/gitlab/rate-limit
 * GitLab's request throttle as its clients see it: a fixed window per caller (user, or address
 * without a token), every API answer carrying `RateLimit-Limit`, `RateLimit-Observed`,
 * `RateLimit-Remaining`, `RateLimit-Reset` (epoch seconds) and `RateLimit-ResetTime`, and past
 * the limit a 429 `Retry later` with `Retry-After`. The limit and window are set through
 * `PUT /_sandbox/rate-limits {limit, windowSeconds}` (default 2000 a minute, GitLab.com's
 * authenticated API limit); `DELETE` forgets the counts.
 */
import { HttpError } from '../core/http.js'
import type { Gl } from './context.js'

const DEFAULT = { limit: 2000, windowSeconds: 60 }

export function limits(gl: Gl) {
  return gl.state.data.settings.rateLimit ?? DEFAULT
}

/** Counts one request of `key`; the headers to send, or a 429 thrown past the limit. */
export function countRequest(gl: Gl, key: string): Record<string, string> {
  const { limit, windowSeconds } = limits(gl)
  const now = gl.now()
  let w = gl.rate.get(key)
  if (!w || now >= w.start + windowSeconds * 1000) {
    w = { start: now, count: 0 }
    gl.rate.set(key, w)
  }
  w.count++
  const resetMs = w.start + windowSeconds * 1000
  const headers = {
    'RateLimit-Limit': String(limit),
    'RateLimit-Observed': String(w.count),
    'RateLimit-Remaining': String(Math.max(0, limit - w.count)),
    'RateLimit-Reset': String(Math.ceil(resetMs / 1000)),
    'RateLimit-ResetTime': new Date(resetMs).toUTCString(),
  }
  if (w.count > limit)
    throw new HttpError(429, 'text:Retry later\n', {
      ...headers,
      'Retry-After': String(Math.max(1, Math.ceil((resetMs - now) / 1000))),
    })
  return headers
}

/** `GET|PUT|DELETE /_sandbox/rate-limits`. */
export function rateLimitAdmin(gl: Gl) {
  return {
    admin(method: string, body: Record<string, unknown>): unknown {
      if (method === 'PUT') {
        const limit = body['limit']
        const windowSeconds = body['windowSeconds'] ?? limits(gl).windowSeconds
        if (
          typeof limit !== 'number' ||
          limit < 1 ||
          typeof windowSeconds !== 'number' ||
          windowSeconds < 1
        )
          throw new HttpError(400, 'limit and windowSeconds are positive numbers')
        gl.state.data.settings.rateLimit = { limit, windowSeconds }
        gl.rate.clear()
        gl.state.save()
      } else if (method === 'DELETE') {
        delete gl.state.data.settings.rateLimit
        gl.rate.clear()
        gl.state.save()
      }
      return { ...limits(gl), callers: Object.fromEntries(gl.rate) }
    },
  }
}
