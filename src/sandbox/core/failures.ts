/**
 * @module sandbox/core/failures
 * Injected failures for retry and outage tests: the next `count` API requests (of `method`, to
 * exactly `path`, when given, so background calls cannot take them) answer `status`, with
 * `Retry-After` when asked. Set through `POST /_sandbox/failures`; memory only.
 */
import { HttpError } from './http.js'

export interface FailurePlan {
  count: number
  status: number
  retryAfter?: number
  method?: string
  path?: string
}

export class Failures {
  plan: FailurePlan = { count: 0, status: 503 }

  /** Replaces the plan from an admin request body (400 on a bad one). */
  set(body: Record<string, unknown>): FailurePlan {
    const count = body['count']
    const status = body['status']
    if (typeof count !== 'number' || typeof status !== 'number')
      throw new HttpError(400, 'count and status are numbers')
    this.plan = { count, status }
    if (typeof body['retryAfter'] === 'number') this.plan.retryAfter = body['retryAfter']
    if (typeof body['method'] === 'string') this.plan.method = body['method']
    if (typeof body['path'] === 'string') this.plan.path = body['path']
    return this.plan
  }

  /** Takes one injected failure for this request, if one is aimed at it. */
  take(method: string, path: string): { status: number; headers: Record<string, string> } | null {
    const p = this.plan
    if (
      p.count <= 0 ||
      (p.method !== undefined && p.method !== method) ||
      (p.path !== undefined && p.path !== path)
    )
      return null
    p.count--
    const headers: Record<string, string> = {}
    if (p.retryAfter !== undefined) headers['Retry-After'] = String(p.retryAfter)
    return { status: p.status, headers }
  }
}
