/**
 * @module sandbox/gitlab/api
 * GitLab's REST API under `/api/v4`: injected failures first, then the caller (401s), the rate
 * limit (rate-limit.ts; its headers on every answer), then the endpoints: the user and their
 * token (`GET /user`, `GET /personal_access_tokens/self`), groups (`GET /groups`,
 * `/groups/:id`, `/groups/:id/projects`), projects (`GET /projects`; one project's endpoints are
 * in api-project.ts) and the instance's OAuth applications (`/applications`, administrators
 * only; none on gitlab.com).
 */
import { randomBytes } from 'node:crypto'
import { resolveRef } from '../core/git.js'
import { HttpError, readBody, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { projectApi } from './api-project.js'
import {
  callerOf,
  canSeeGroup,
  canSeeProject,
  groupFor,
  isAdmin,
  READ,
  requireCaller,
  requireScope,
  WRITE,
  type Caller,
} from './auth.js'
import { badRequest, flag, forbidden, iso, notFound, pageOf, type Gl } from './context.js'
import { headBranch } from './gitdata.js'
import { countRequest } from './rate-limit.js'
import { application, currentUser, group, patSelf, project, simpleProject } from './render.js'
import { SCOPES, type GlProject, type Scope } from './state.js'

export type Send = (status: number, body: unknown, headers?: Record<string, string>) => void

/** A request body as Grape takes it: JSON, or a form. */
export async function readParams(r: SandboxRequest): Promise<Record<string, unknown>> {
  const raw = (await readBody(r.req, 1024 * 1024)).toString('utf8')
  if (raw.trim() === '') return {}
  if ((r.req.headers['content-type'] ?? '').includes('json')) {
    try {
      const v = JSON.parse(raw) as unknown
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>
    } catch {
      // fall through
    }
    throw badRequest('The body must be a JSON object')
  }
  return Object.fromEntries(new URLSearchParams(raw))
}

export async function defaultBranchOf(gl: Gl, p: GlProject): Promise<string | null> {
  try {
    const dir = gl.state.projectDir(p)
    const b = await headBranch(dir)
    return (await resolveRef(dir, `refs/heads/${b}`)) ? b : null
  } catch {
    return null
  }
}

export async function api(gl: Gl, r: SandboxRequest, parts: string[]): Promise<void> {
  const { res, method, url: u } = r
  gl.state.stats.apiRequests++
  const injected = gl.failures.take(method, u.pathname)
  if (injected)
    return sendJson(
      res,
      injected.status,
      { message: 'Injected failure (sandbox)' },
      injected.headers,
    )
  const caller = callerOf(gl, r.req, u)
  let rate: Record<string, string>
  try {
    rate = countRequest(gl, caller ? `user:${caller.user.id}` : `ip:${r.req.socket.remoteAddress}`)
  } catch (e) {
    if (!(e instanceof HttpError) || e.status !== 429) throw e
    res.writeHead(429, { ...e.headers, 'Content-Type': 'text/plain' }).end('Retry later\n')
    return
  }
  const send: Send = (status, body, headers = {}) =>
    sendJson(res, status, body, { ...rate, ...headers })
  try {
    await route(gl, r, parts, caller, send)
  } catch (e) {
    if (e instanceof HttpError) throw new HttpError(e.status, e.message, { ...rate, ...e.headers })
    throw e
  }
}

async function route(
  gl: Gl,
  r: SandboxRequest,
  parts: string[],
  caller: Caller | undefined,
  send: Send,
): Promise<void> {
  const { method, url: u } = r
  const [a, b, c, d] = parts
  if (a === 'user' && !b && method === 'GET') {
    const c0 = requireCaller(caller)
    requireScope(c0, ['api', 'read_api', 'read_user'])
    return send(200, currentUser(gl, c0))
  }
  if (a === 'personal_access_tokens' && b === 'self' && !c && method === 'GET') {
    const c0 = requireCaller(caller)
    if (c0.token.kind === 'oauth') throw notFound()
    return send(200, patSelf(gl, c0.token, c0.user))
  }
  if (a === 'applications') return applications(gl, r, caller, b, c, send)
  if (a === 'groups' && method === 'GET') {
    if (caller) requireScope(caller, READ)
    if (!b) return listGroups(gl, u, caller, send)
    const g = groupFor(gl, caller, b)
    if (!c) {
      if (flag(u, 'with_projects') === false) return send(200, group(gl, g))
      // GitLab's single group answer lists its projects (those the caller sees) too.
      const rows = []
      for (const p of gl.state.data.projects)
        if (p.groupId === g.id && canSeeProject(gl, caller, p))
          rows.push(project(gl, p, await defaultBranchOf(gl, p), caller))
      return send(200, { ...group(gl, g), projects: rows, shared_projects: [] })
    }
    if (c === 'projects' && !d) {
      const scope = flag(u, 'include_subgroups') ? gl.state.descendants(g) : [g]
      const list = gl.state.data.projects.filter(
        (p) => p.groupId !== null && scope.some((x) => x.id === p.groupId),
      )
      return listProjects(gl, u, caller, list, send)
    }
    if (c === 'subgroups' && !d) {
      const subs = gl.state.data.groups.filter(
        (x) => x.parentId === g.id && canSeeGroup(gl, caller, x),
      )
      const page = pageOf(gl, u, subs)
      return send(
        200,
        page.items.map((x) => group(gl, x)),
        page.headers,
      )
    }
    throw notFound()
  }
  if (a === 'projects') {
    if (!b) {
      if (method !== 'GET') throw notFound()
      if (caller) requireScope(caller, READ)
      return listProjects(gl, u, caller, gl.state.data.projects, send)
    }
    return projectApi(gl, r, caller, b, parts.slice(2), send)
  }
  throw notFound()
}

const compare = (a: string | number, b: string | number) =>
  typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))

function direction(u: URL, d: 'asc' | 'desc'): 'asc' | 'desc' {
  const v = u.searchParams.get('sort') ?? d
  if (v !== 'asc' && v !== 'desc') throw badRequest('sort does not have a valid value')
  return v
}

function minLevel(u: URL): number | undefined {
  const v = u.searchParams.get('min_access_level')
  if (v === null) return undefined
  const n = Number(v)
  if (![10, 15, 20, 30, 40, 50].includes(n))
    throw badRequest('min_access_level does not have a valid value')
  return n
}

function listGroups(gl: Gl, u: URL, caller: Caller | undefined, send: Send) {
  const min = minLevel(u)
  const all = flag(u, 'all_available') ?? false
  const admin = isAdmin(gl, caller)
  const name = caller?.user.username ?? ''
  let list = gl.state.data.groups.filter((g) => {
    if (min !== undefined) return caller !== undefined && gl.state.groupLevel(name, g) >= min
    if (!caller || all) return canSeeGroup(gl, caller, g)
    if (admin) return true
    // Without all_available, a user's groups: those they are a member of (or inherit).
    return gl.state.groupLevel(name, g) > 0
  })
  if (flag(u, 'top_level_only')) list = list.filter((g) => g.parentId === null)
  const search = u.searchParams.get('search')?.toLowerCase()
  if (search) list = list.filter((g) => g.fullPath.toLowerCase().includes(search))
  // GitLab's default order: by name, ascending; order_by id|name|path, sort asc|desc.
  const key = u.searchParams.get('order_by') ?? 'name'
  if (!['id', 'name', 'path', 'similarity'].includes(key))
    throw badRequest('order_by does not have a valid value')
  const by = (g: (typeof list)[number]) =>
    key === 'id' ? g.id : key === 'path' ? g.fullPath : g.name
  list.sort((x, y) => compare(by(x), by(y)) || x.id - y.id)
  if (direction(u, 'asc') === 'desc') list.reverse()
  const page = pageOf(gl, u, list)
  send(
    200,
    page.items.map((g) => group(gl, g)),
    page.headers,
  )
}

async function listProjects(
  gl: Gl,
  u: URL,
  caller: Caller | undefined,
  from: GlProject[],
  send: Send,
) {
  const min = minLevel(u)
  const membership = flag(u, 'membership') ?? false
  const owned = flag(u, 'owned') ?? false
  const name = caller?.user.username ?? ''
  let list = from.filter((p) => canSeeProject(gl, caller, p))
  if ((membership || min !== undefined || owned) && !caller) list = []
  if (membership) list = list.filter((p) => gl.state.projectLevel(name, p) > 0)
  if (min !== undefined) list = list.filter((p) => gl.state.projectLevel(name, p) >= min)
  if (owned) list = list.filter((p) => p.namespaceKind === 'user' && p.owner === name)
  const search = u.searchParams.get('search')?.toLowerCase()
  if (search) list = list.filter((p) => p.name.toLowerCase().includes(search))
  // GitLab's default order: created_at descending (newest first); ids break ties.
  const key = u.searchParams.get('order_by') ?? 'created_at'
  const keys: Record<string, (p: GlProject) => string | number> = {
    id: (p) => p.id,
    created_at: (p) => p.createdAt,
    name: (p) => p.name,
    path: (p) => gl.state.fullPath(p),
    updated_at: (p) => p.lastActivityAt,
    last_activity_at: (p) => p.lastActivityAt,
  }
  const by = keys[key]
  if (!by) throw badRequest('order_by does not have a valid value')
  list = [...list].sort((x, y) => compare(by(x), by(y)) || x.id - y.id)
  if (direction(u, 'desc') === 'desc') list.reverse()
  const page = pageOf(gl, u, list)
  const simple = flag(u, 'simple') ?? false
  const rows = []
  for (const p of page.items) {
    const branch = await defaultBranchOf(gl, p)
    rows.push(simple ? simpleProject(gl, p, branch, caller) : project(gl, p, branch, caller))
  }
  send(200, rows, page.headers)
}

async function applications(
  gl: Gl,
  r: SandboxRequest,
  caller: Caller | undefined,
  id: string | undefined,
  more: string | undefined,
  send: Send,
) {
  const c0 = requireCaller(caller)
  requireScope(c0, r.method === 'GET' ? READ : WRITE)
  // Administrators only (gitlab.com has none among its users); in admin mode a token acts as
  // one only with the admin_mode scope (isAdmin), else GitLab answers 403 Forbidden.
  if (!isAdmin(gl, c0)) throw forbidden()
  const { state } = gl
  if (!id && r.method === 'GET') {
    const apps = state.data.apps.filter((a) => a.owner === null)
    return send(
      200,
      apps.map((a) => application(a, false)),
    )
  }
  if (!id && r.method === 'POST') {
    const body = await readParams(r)
    for (const k of ['name', 'redirect_uri', 'scopes'])
      if (typeof body[k] !== 'string' || body[k] === '') throw badRequest(`${k} is missing`)
    const scopes = String(body['scopes'])
      .split(/[\s,]+/)
      .filter((s) => s !== '')
    const bad = scopes.find((s) => !(SCOPES as readonly string[]).includes(s))
    if (bad)
      throw new HttpError(
        400,
        `json:${JSON.stringify({ message: { scopes: [`${bad} is not a valid scope`] } })}`,
      )
    const app = {
      id: state.newId(),
      uid: randomBytes(32).toString('hex'),
      secret: `gloas-${randomBytes(32).toString('hex')}`,
      name: String(body['name']),
      redirectUri: String(body['redirect_uri']),
      scopes: scopes as Scope[],
      confidential: body['confidential'] !== false && body['confidential'] !== 'false',
      owner: null,
      createdAt: iso(gl.now()),
    }
    state.data.apps.push(app)
    state.save()
    return send(201, application(app, true))
  }
  const app = state.data.apps.find((a) => String(a.id) === id && a.owner === null)
  if (!app) throw notFound('Application')
  if (more === 'renew-secret' && r.method === 'POST') {
    app.secret = `gloas-${randomBytes(32).toString('hex')}`
    state.save()
    return send(200, application(app, true))
  }
  if (!more && r.method === 'DELETE') {
    state.data.apps = state.data.apps.filter((a) => a !== app)
    for (const t of Object.values(state.data.tokens)) if (t.appId === app.id) t.revoked = true
    state.save()
    r.res.writeHead(204).end()
    return
  }
  throw notFound()
}
