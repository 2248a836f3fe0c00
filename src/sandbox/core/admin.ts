/**
 * @module sandbox/core/admin
 * The `/_sandbox/` admin API: a registry where a provider's sandbox adds its endpoints (users,
 * organisations, repositories, tokens …) and the core adds those every sandbox has: the index,
 * settings, injected failures, deliveries and their resend, stats and, when the provider limits
 * requests, its rate limits. `GET /_sandbox` lists every endpoint registered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Deliveries } from './deliveries.js'
import type { Failures } from './failures.js'
import { HttpError, readJson, sendJson } from './http.js'
import type { SandboxRequest } from './server.js'

export interface AdminCall {
  req: IncomingMessage
  res: ServerResponse
  method: string
  /** The values of the pattern's `:name` segments. */
  params: Record<string, string>
  /** The JSON body (an empty object for GET and DELETE). */
  body: Record<string, unknown>
  /** A string field of the body, or undefined. */
  str(key: string): string | undefined
}

/** Answers with a status and JSON body (or answers itself and returns undefined). */
export type AdminHandler = (
  c: AdminCall,
) => Promise<[number, unknown] | undefined> | [number, unknown] | undefined

interface Entry {
  methods: string[] | '*'
  pattern: string[]
  doc: string
  handler: AdminHandler
}

/** A setting changed by `PUT /_sandbox/settings`: checked, then stored (null deletes it). */
export interface SettingSpec {
  key: string
  /** An error message for a bad value, or undefined. */
  check(value: unknown): string | undefined
}

/** The settings every sandbox has (a provider may add its own). */
export const COMMON_SETTINGS: SettingSpec[] = [
  {
    key: 'accessTokenLifetimeSeconds',
    check: (v) =>
      typeof v !== 'number' || v < 1
        ? 'accessTokenLifetimeSeconds must be a positive number'
        : undefined,
  },
  {
    // A test knob: a slow token endpoint makes concurrent refreshes overlap.
    key: 'tokenDelayMs',
    check: (v) =>
      v !== null && (typeof v !== 'number' || v < 0 || v > 10_000)
        ? 'tokenDelayMs must be 0–10000 or null'
        : undefined,
  },
  {
    // A test knob: smaller pages than asked for, to exercise clients that follow `next`.
    key: 'maxPagelen',
    check: (v) =>
      v !== null && (typeof v !== 'number' || v < 1)
        ? 'maxPagelen must be a positive number or null'
        : undefined,
  },
]

export interface CommonAdminOptions {
  service: string
  /** Extra fields of the index (the provider's URLs). */
  about(): Record<string, unknown>
  settings: { specs: SettingSpec[]; values: Record<string, unknown>; save(): void }
  failures: Failures
  deliveries: Deliveries
  /** Matches a delivery id as given in the path against a recorded one. */
  deliveryMatches?(given: string, recorded: string): boolean
  stats(): unknown
  /** The provider's request limiter, when it has one (`GET|PUT|DELETE /_sandbox/rate-limits`). */
  rateLimits?: { admin(method: string, body: Record<string, unknown>): unknown }
  /** Bodies of these documented endpoints are listed in the index. */
  settingsDoc: string
  rateLimitsDoc?: string
}

export class AdminApi {
  readonly #entries: Entry[] = []

  /**
   * Adds an endpoint: `method` ('GET', 'POST', … or '*'), a path pattern below `/_sandbox/`
   * with `:name` segments (`users/:username/revoke-grants`), and the line `GET /_sandbox` shows.
   */
  add(method: string, pattern: string, doc: string, handler: AdminHandler): this {
    this.#entries.push({
      methods: method === '*' ? '*' : method.split('|'),
      pattern: pattern.split('/').filter((s) => s !== ''),
      doc,
      handler,
    })
    return this
  }

  /** The documented endpoints, in the order added. */
  docs(): string[] {
    return this.#entries.map((e) => e.doc).filter((d) => d !== '')
  }

  /** The route for the server: answers `/_sandbox/…`, passes on anything else. */
  route = async (r: SandboxRequest): Promise<boolean> => {
    if (r.parts[0] !== '_sandbox') return false
    const parts = r.parts.slice(1)
    const found = this.#match(r.method, parts)
    const body = r.method === 'POST' || r.method === 'PUT' ? await readJson(r.req) : {}
    if (!found)
      throw new HttpError(404, 'No such sandbox admin endpoint (GET /_sandbox lists them)')
    const out = await found.entry.handler({
      req: r.req,
      res: r.res,
      method: r.method,
      params: found.params,
      body,
      str: (k) => (typeof body[k] === 'string' ? (body[k] as string) : undefined),
    })
    if (out) sendJson(r.res, out[0], out[1])
    return true
  }

  #match(method: string, parts: string[]) {
    for (const entry of this.#entries) {
      if (entry.methods !== '*' && !entry.methods.includes(method)) continue
      if (entry.pattern.length !== parts.length) continue
      const params: Record<string, string> = {}
      const ok = entry.pattern.every((p, i) => {
        if (p.startsWith(':')) {
          params[p.slice(1)] = parts[i]!
          return true
        }
        return p === parts[i]
      })
      if (ok) return { entry, params }
    }
    return undefined
  }
}

/**
 * Adds the index (`GET /_sandbox`) and the endpoints every sandbox has. Call it after the
 * provider's own endpoints, so the index lists those first.
 */
export function addCommonEndpoints(api: AdminApi, o: CommonAdminOptions): AdminApi {
  api.add('GET', '', '', () => [200, { service: o.service, ...o.about(), endpoints: api.docs() }])
  api.add('PUT', 'settings', o.settingsDoc, ({ body }) => {
    // Applied in order, as checked (a bad value stops there, unsaved).
    for (const s of o.settings.specs) {
      if (body[s.key] === undefined) continue
      const problem = s.check(body[s.key])
      if (problem) throw new HttpError(400, problem)
      if (body[s.key] === null) delete o.settings.values[s.key]
      else o.settings.values[s.key] = body[s.key]
    }
    o.settings.save()
    return [200, o.settings.values]
  })
  api.add(
    'POST',
    'failures',
    'POST /_sandbox/failures {count, status, retryAfter?, method?, path?}',
    ({ body }) => [200, o.failures.set(body)],
  )
  const limiter = o.rateLimits
  if (limiter)
    api.add('*', 'rate-limits', o.rateLimitsDoc ?? '', ({ method, body }) => [
      200,
      limiter.admin(method, body),
    ])
  api.add('GET', 'stats', 'GET /_sandbox/stats', () => [200, o.stats()])
  api.add('GET', 'deliveries', 'GET /_sandbox/deliveries', () => [
    200,
    { deliveries: o.deliveries.records },
  ])
  api.add(
    'POST',
    'deliveries/:id/resend',
    'POST /_sandbox/deliveries/{id}/resend',
    async ({ params }) => {
      const id = params['id']!
      const match = o.deliveryMatches
      const sent = o.deliveries.resend(id, match ? (r) => match(id, r) : undefined)
      if (!sent) throw new HttpError(404, `No delivery ${id} to resend`)
      await sent
      return [200, { resent: id }]
    },
  )
  return api
}
