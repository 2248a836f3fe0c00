/**
 * @module sandbox/gitlab/hooks
 * Project webhooks (project_webhooks.md): `GET|POST /projects/:id/hooks`,
 * `GET|PUT|DELETE /projects/:id/hooks/:hook_id`, for Maintainers and Owners with an `api`-scoped
 * token (`read_api` for the GETs). The secret token is stored but never answered; changing the
 * URL drops it, as GitLab does.
 */
import { randomUUID } from 'node:crypto'
import type { SandboxRequest } from '../core/server.js'
import { readParams, type Send } from './api.js'
import { projectFor, READ, requireCaller, requireScope, WRITE, type Caller } from './auth.js'
import { badRequest, iso, notFound, pageOf, type Gl } from './context.js'
import { hook } from './render.js'
import type { GlHook } from './state.js'

const bool = (v: unknown, d: boolean) =>
  v === undefined ? d : v === true || v === 'true' || v === '1' || v === 1

function checkUrl(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw badRequest('url is missing')
  try {
    const u = new URL(v)
    if (u.protocol === 'http:' || u.protocol === 'https:') return v
  } catch {
    // fall through
  }
  throw badRequest('url is blocked: Only allowed schemes are http, https')
}

function apply(h: GlHook, b: Record<string, unknown>): void {
  const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined)
  h.name = str('name') ?? h.name
  h.description = str('description') ?? h.description
  h.pushEvents = bool(b['push_events'], h.pushEvents)
  h.tagPushEvents = bool(b['tag_push_events'], h.tagPushEvents)
  h.mergeRequestsEvents = bool(b['merge_requests_events'], h.mergeRequestsEvents)
  h.enableSslVerification = bool(b['enable_ssl_verification'], h.enableSslVerification)
  h.pushEventsBranchFilter = str('push_events_branch_filter') ?? h.pushEventsBranchFilter
  const strategy = str('branch_filter_strategy')
  if (strategy !== undefined) {
    if (!['wildcard', 'regex', 'all_branches'].includes(strategy))
      throw badRequest('branch_filter_strategy does not have a valid value')
    h.branchFilterStrategy = strategy as GlHook['branchFilterStrategy']
  }
  if (str('token') !== undefined) h.token = str('token')!
}

export async function hooksApi(
  gl: Gl,
  r: SandboxRequest,
  caller: Caller | undefined,
  ref: string,
  rest: string[],
  send: Send,
): Promise<void> {
  const c = requireCaller(caller)
  requireScope(c, r.method === 'GET' ? READ : WRITE)
  const p = projectFor(gl, c, ref, 40)
  const { state } = gl
  const [id, more] = rest
  if (more !== undefined) throw notFound()
  if (id === undefined) {
    if (r.method === 'GET') {
      const page = pageOf(
        gl,
        r.url,
        state.data.hooks.filter((h) => h.projectId === p.id),
      )
      return send(
        200,
        page.items.map((h) => hook(gl, h)),
        page.headers,
      )
    }
    if (r.method !== 'POST') throw notFound()
    const b = await readParams(r)
    const h: GlHook = {
      id: state.newId(),
      uuid: randomUUID(),
      projectId: p.id,
      url: checkUrl(b['url']),
      name: '',
      description: '',
      token: '',
      pushEvents: true,
      tagPushEvents: false,
      mergeRequestsEvents: false,
      pushEventsBranchFilter: '',
      branchFilterStrategy: 'wildcard',
      enableSslVerification: true,
      createdAt: iso(gl.now()),
    }
    apply(h, b)
    state.data.hooks.push(h)
    state.save()
    return send(201, hook(gl, h))
  }
  const h = state.data.hooks.find((x) => String(x.id) === id && x.projectId === p.id)
  if (!h) throw notFound()
  if (r.method === 'GET') return send(200, hook(gl, h))
  if (r.method === 'PUT') {
    const b = await readParams(r)
    const url = checkUrl(b['url'])
    if (url !== h.url) h.token = ''
    h.url = url
    apply(h, b)
    state.save()
    return send(200, hook(gl, h))
  }
  if (r.method === 'DELETE') {
    state.data.hooks = state.data.hooks.filter((x) => x !== h)
    state.save()
    r.res.writeHead(204).end()
    return
  }
  throw notFound()
}

/** Whether a push to `branch` passes the hook's branch filter. */
export function branchMatches(h: GlHook, branch: string): boolean {
  const f = h.pushEventsBranchFilter
  if (h.branchFilterStrategy === 'all_branches' || f === '') return true
  if (h.branchFilterStrategy === 'regex') {
    try {
      return new RegExp(f).test(branch)
    } catch {
      return false
    }
  }
  const re = new RegExp(
    `^${f
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  )
  return re.test(branch)
}
