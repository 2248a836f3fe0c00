/**
 * @module sandbox/gitlab/context
 * What every part of the sandbox GitLab shares: state, the origin (web, `/api/v4`, `/oauth/*` and
 * Git on one origin, as GitLab serves them), the mode (gitlab.com or self-managed), the movable
 * clock, injected failures, deliveries and OAuth codes; and GitLab's error bodies and offset
 * pagination (`page`/`per_page`, `Link`, `X-Page`, `X-Per-Page`, `X-Total`, `X-Total-Pages`,
 * `X-Next-Page`, `X-Prev-Page`; rest/_index.pagination.md).
 */
import type { Deliveries } from '../core/deliveries.js'
import type { Failures } from '../core/failures.js'
import { HttpError } from '../core/http.js'
import type { GitLabState, Scope } from './state.js'

/** An authorization code (single use, 10 minutes of the sandbox clock). */
export interface OAuthCode {
  appId: number
  username: string
  redirectUri: string
  scopes: Scope[]
  challenge?: string
  method?: 'S256' | 'plain'
  expiresAt: number
}

export interface Gl {
  state: GitLabState
  /** `http://host:port`: web, Git and OAuth. */
  url: string
  /** `{url}/api/v4`. */
  api: string
  selfManaged: boolean
  /** `X-Gitlab-Instance`: the instance's own URL (self-managed) or https://gitlab.com. */
  instance: string
  /** The version `User-Agent: GitLab/<version>` names. */
  version: string
  failures: Failures
  deliveries: Deliveries
  /** The sandbox clock: real time (or a test's) plus the admin API's offset. */
  now(): number
  track(p: Promise<unknown>): void
  codes: Map<string, OAuthCode>
  /** Delivery id (Idempotency-Key) → the event's X-Gitlab-Event-UUID. */
  eventUuids: Map<string, string>
  /** The event UUID deliveries made now belong to (set around `deliver`). */
  currentEvent: string
  /** Per-caller request counts of the current rate-limit window. */
  rate: Map<string, { start: number; count: number }>
}

export const iso = (ms: number) => new Date(ms).toISOString()

/**
 * An error answered with a GitLab body: `{"message": "404 Project Not Found"}` by default, or the
 * given object (`{"error": "insufficient_scope", …}`). The server's error hook reads it back.
 */
export function glError(
  status: number,
  body: string | Record<string, unknown>,
  headers: Record<string, string> = {},
): HttpError {
  return new HttpError(
    status,
    typeof body === 'string' ? body : `json:${JSON.stringify(body)}`,
    headers,
  )
}

/** The server's error body for an HttpError message (see glError). */
export function errorBody(message: string): unknown {
  if (message.startsWith('json:')) return JSON.parse(message.slice(5)) as unknown
  return { message }
}

export const notFound = (what?: string) =>
  glError(404, what ? `404 ${what} Not Found` : '404 Not Found')
export const forbidden = () => glError(403, '403 Forbidden')
export const unauthorized = () => glError(401, '401 Unauthorized')
export const badRequest = (message: string) => glError(400, { error: message })

/** `page` (default 1) and `per_page` (default 20, at most 100; the maxPagelen knob caps it). */
export function paging(gl: Gl, u: URL): { page: number; perPage: number } {
  const num = (k: string, d: number) => {
    const v = u.searchParams.get(k)
    const n = v === null || v === '' ? d : Number(v)
    return Number.isInteger(n) && n > 0 ? n : d
  }
  const cap = gl.state.data.settings.maxPagelen
  const perPage = Math.min(num('per_page', 20), 100, cap ?? 100)
  return { page: num('page', 1), perPage }
}

/** One page of `items` with GitLab's pagination headers. */
export function pageOf<T>(gl: Gl, u: URL, items: T[]) {
  const { page, perPage } = paging(gl, u)
  const pages = Math.max(1, Math.ceil(items.length / perPage))
  const at = (p: number) => {
    // GitLab's links keep the request's parameters and end with page and per_page.
    const x = new URL(`${gl.url}${u.pathname}${u.search}`)
    x.searchParams.delete('page')
    x.searchParams.delete('per_page')
    x.searchParams.append('page', String(p))
    x.searchParams.append('per_page', String(perPage))
    return x.toString()
  }
  const links: string[] = []
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`)
  if (page < pages) links.push(`<${at(page + 1)}>; rel="next"`)
  links.push(`<${at(1)}>; rel="first"`, `<${at(pages)}>; rel="last"`)
  const headers: Record<string, string> = {
    Link: links.join(', '),
    'X-Page': String(page),
    'X-Per-Page': String(perPage),
    'X-Total': String(items.length),
    'X-Total-Pages': String(pages),
    'X-Next-Page': page < pages ? String(page + 1) : '',
    'X-Prev-Page': page > 1 ? String(page - 1) : '',
  }
  return { items: items.slice((page - 1) * perPage, page * perPage), headers }
}

/** A boolean query parameter as Grape reads it (`true`/`false`/`1`/`0`). */
export function flag(u: URL, k: string): boolean | undefined {
  const v = u.searchParams.get(k)
  if (v === null) return undefined
  if (['true', '1', 't', 'yes'].includes(v.toLowerCase())) return true
  if (['false', '0', 'f', 'no', ''].includes(v.toLowerCase())) return false
  throw badRequest(`${k} is invalid`)
}
