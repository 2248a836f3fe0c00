/**
 * @module sandbox/gitlab/auth
 * GitLab's rules for who an API request comes from and what it reaches: a token in
 * `PRIVATE-TOKEN`, `Authorization: Bearer` or the `private_token`/`access_token` query parameter
 * (personal, group and project access tokens, OAuth access tokens); unknown tokens 401
 * `{"message":"401 Unauthorized"}`, expired or revoked ones 401 `invalid_token` as GitLab words
 * them; a token without the scope the endpoint needs 403 `insufficient_scope`. Projects out of
 * reach answer 404 (GitLab hides private projects), a role too low for the action 403.
 */
import type { IncomingMessage } from 'node:http'
import { forbidden, glError, notFound, unauthorized, type Gl } from './context.js'
import type { AccessLevel, GlGroup, GlProject, GlToken, GlUser, Scope } from './state.js'

export interface Caller {
  user: GlUser
  token: GlToken
  secret: string
}

/** The token a request presents, if any. */
export function presented(req: IncomingMessage, u: URL): string | undefined {
  const pt = req.headers['private-token']
  if (typeof pt === 'string' && pt !== '') return pt.trim()
  const h = req.headers.authorization
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null
  if (m) return m[1]
  return u.searchParams.get('private_token') ?? u.searchParams.get('access_token') ?? undefined
}

const invalidToken = (description: string) =>
  glError(
    401,
    { error: 'invalid_token', error_description: description },
    { 'WWW-Authenticate': `Bearer realm="Protected by OAuth 2.0", error="invalid_token"` },
  )

/** The caller of a token, or a 401 as GitLab answers it. */
export function callerOfToken(gl: Gl, secret: string): Caller {
  const t = gl.state.token(secret)
  if (!t || t.kind === 'refresh') throw unauthorized()
  const user = gl.state.user(t.username)
  if (!user) throw unauthorized()
  const grant = t.grant ? gl.state.token(t.grant) : undefined
  if (t.revoked || grant?.revoked) {
    if (t.kind === 'oauth')
      throw invalidToken('Token was revoked. You have to re-authorize from the user.')
    throw unauthorized()
  }
  if (t.expiresAt !== undefined && t.expiresAt <= gl.now()) {
    if (t.kind === 'oauth')
      throw invalidToken('Token is expired. You can either do re-authorization or token refresh.')
    throw unauthorized()
  }
  return { user, token: t, secret }
}

/** Who the request comes from (undefined without a token). */
export function callerOf(gl: Gl, req: IncomingMessage, u: URL): Caller | undefined {
  const secret = presented(req, u)
  if (!secret) return undefined
  const c = callerOfToken(gl, secret)
  c.token.lastUsedAt = new Date(gl.now()).toISOString()
  return c
}

export function requireCaller(c: Caller | undefined): Caller {
  if (!c) throw unauthorized()
  return c
}

/** 403 insufficient_scope unless the token holds one of `any`. */
export function requireScope(c: Caller, any: Scope[]): void {
  if (any.some((s) => c.token.scopes.includes(s))) return
  throw glError(
    403,
    {
      error: 'insufficient_scope',
      error_description:
        'The request requires higher privileges than provided by the access token.',
      scope: any.join(' '),
    },
    {
      'WWW-Authenticate': `Bearer realm="Protected by OAuth 2.0", error="insufficient_scope", scope="${any.join(' ')}"`,
    },
  )
}

/** Scopes an API call needs: reads take read_api or api, writes take api. */
export const READ: Scope[] = ['api', 'read_api']
export const WRITE: Scope[] = ['api']

/**
 * Whether the caller acts as an instance administrator: an admin user on a self-managed
 * instance (gitlab.com has none for its users), with the `admin_mode` scope when admin mode is on.
 */
export function isAdmin(gl: Gl, c: Caller | undefined): boolean {
  if (!c || !gl.selfManaged || !c.user.admin) return false
  return !gl.state.data.settings.adminMode || c.token.scopes.includes('admin_mode')
}

/** The caller's level on the project (an administrator counts as owner). */
export function levelOn(gl: Gl, c: Caller | undefined, p: GlProject): AccessLevel | 0 {
  if (!c) return 0
  if (isAdmin(gl, c)) return 50
  return gl.state.projectLevel(c.user.username, p)
}

export function canSeeProject(gl: Gl, c: Caller | undefined, p: GlProject): boolean {
  if (p.visibility === 'public') return true
  if (p.visibility === 'internal' && c && !c.user.bot) return true
  return levelOn(gl, c, p) > 0
}

/**
 * The project `ref` names (id or full path) when the caller sees it and holds `min` (10 guest …
 * 50 owner; public and internal projects let anyone who sees them read the code): 404 Project
 * Not Found when unseen, 403 Forbidden when the role is too low.
 */
export function projectFor(
  gl: Gl,
  c: Caller | undefined,
  ref: string,
  min: AccessLevel | 0 = 0,
): GlProject {
  const p = gl.state.projectByRef(ref)
  if (!p || !canSeeProject(gl, c, p)) throw notFound('Project')
  const level = levelOn(gl, c, p)
  const readable = min <= 20 && p.visibility !== 'private'
  if (level < min && !readable) throw forbidden()
  return p
}

/** Groups the caller is a member of, directly, through an ancestor, or below (visibility). */
export function canSeeGroup(gl: Gl, c: Caller | undefined, g: GlGroup): boolean {
  if (g.visibility === 'public') return true
  if (g.visibility === 'internal' && c) return true
  if (!c) return false
  if (isAdmin(gl, c)) return true
  const name = c.user.username
  if (gl.state.groupLevel(name, g) > 0) return true
  // A member of a subgroup or of a project below sees the group (GitLab's shared ancestry).
  const below = gl.state.descendants(g)
  if (below.some((d) => gl.state.groupLevel(name, d) > 0)) return true
  return gl.state.data.projects.some(
    (p) =>
      p.groupId !== null &&
      below.some((d) => d.id === p.groupId) &&
      gl.state.projectMemberLevel(name, p) > 0,
  )
}

export function groupFor(gl: Gl, c: Caller | undefined, ref: string): GlGroup {
  const g = gl.state.groupByRef(ref)
  if (!g || !canSeeGroup(gl, c, g)) throw notFound('Group')
  return g
}
