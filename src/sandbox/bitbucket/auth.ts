/**
 * @module sandbox/bitbucket/auth
 * Bitbucket's rules for who a request comes from and what it reaches: OAuth and access tokens as
 * Bearer, Atlassian API tokens as Basic `email:token`, classic and granular scopes, the reach of
 * workspace, project and repository access tokens, and Git's user names (`x-token-auth`,
 * `x-bitbucket-api-token-auth`).
 */
import type { IncomingMessage } from 'node:http'
import { basicAuth, bearer } from '../core/http.js'
import { apiError } from './context.js'
import { granularScope, type SandboxState, type SbRepository, type SbToken } from './state.js'

export interface Caller {
  token: SbToken
  /** The user an OAuth token acts for. */
  username?: string
}

/** A Git caller: a token's, or a user's own password (no token). */
export type GitCaller = Caller | { username: string; token?: undefined }

/**
 * Who a REST request comes from: an OAuth or access token (repository, project, workspace) as
 * Bearer; an Atlassian API token only as Basic `email:token` (as Bearer it is refused, as
 * bitbucket.org answers 401 "Token is invalid, expired, or not supported for this endpoint").
 */
export function caller(state: SandboxState, req: IncomingMessage): Caller | undefined {
  const t = bearer(req)
  if (t) {
    const token = state.liveToken(t)
    if (!token || token.kind === 'refresh' || token.kind === 'api') return undefined
    return token.username ? { token, username: token.username } : { token }
  }
  const b = basicAuth(req)
  if (b) {
    const token = state.liveToken(b.password)
    const u = token?.kind === 'api' && token.username ? state.user(token.username) : undefined
    if (!token || !u || u.email.toLowerCase() !== b.user.toLowerCase()) return undefined
    return { token, username: u.username }
  }
  return undefined
}

/**
 * Whether the caller's token has a scope: classic names (`repository`, `webhook`, …; a `:write`
 * or `:admin` one includes the read) for OAuth and access tokens, granular ones
 * (`read:repository:bitbucket`, …) for API tokens (`granular`, or the classic name's pair).
 */
export function hasScope(c: Caller, scope: string, granular = granularScope(scope)): boolean {
  const has = (x: string) => c.token.scopes.includes(x)
  if (c.token.kind === 'api') {
    const [level, area] = granular.split(':')
    return (
      has(granular) ||
      (level === 'read' && (has(`write:${area}:bitbucket`) || has(`admin:${area}:bitbucket`)))
    )
  }
  return has(scope) || has(`${scope}:write`) || has(`${scope}:admin`)
}

export function requireCaller(
  state: SandboxState,
  req: IncomingMessage,
  scope?: string,
  granular?: string,
): Caller {
  const c = caller(state, req)
  if (!c)
    throw apiError(
      401,
      basicAuth(req)
        ? 'Token is invalid, expired, or not supported for this endpoint.'
        : 'Access token expired or invalid.',
    )
  const need = c.token.kind === 'api' ? (granular ?? (scope && granularScope(scope))) : scope
  if (need && !hasScope(c, scope ?? need, granular))
    throw apiError(403, `Your credentials lack one or more required privilege scopes: ${need}`)
  return c
}

/** Whether the caller reaches the workspace itself (repository and project tokens do not). */
export function reaches(state: SandboxState, c: Caller, workspace: string): boolean {
  if (c.token.kind === 'workspace') return c.token.workspace === workspace
  if (c.token.kind === 'project' || c.token.kind === 'repository') return false
  return !!c.username && state.isMember(c.username, workspace)
}

/**
 * Whether the caller reaches a repository: a repository access token only its own, a project
 * access token those of its project, a workspace token its workspace's, a user those of the
 * workspaces they belong to.
 */
export function reachesRepo(state: SandboxState, c: Caller, r: SbRepository): boolean {
  const t = c.token
  if (t.kind === 'repository') return t.workspace === r.workspace && t.repository === r.slug
  if (t.kind === 'project')
    return t.workspace === r.workspace && t.project === state.projectOf(r).key
  return reaches(state, c, r.workspace)
}

/** The repository, or 404 (401 for a private one without credentials). */
export function findRepo(
  state: SandboxState,
  c: Caller | undefined,
  ws: string,
  slug: string,
): SbRepository {
  const r = state.repository(ws, slug)
  if (!r) throw apiError(404, `Repository ${ws}/${slug} not found`)
  if (r.isPrivate && (!c || !reachesRepo(state, c, r))) {
    if (!c) throw apiError(401, 'This repository is private: authentication required.')
    throw apiError(404, `Repository ${ws}/${slug} not found`)
  }
  return r
}

/**
 * Who a Git request comes from: `x-token-auth` with an OAuth or access token; an Atlassian API
 * token with the static user `x-bitbucket-api-token-auth` or the account's username
 * (support.atlassian.com/bitbucket-cloud/docs/using-api-tokens); a user's own password (the
 * sandbox's convenience).
 */
export function gitCaller(state: SandboxState, req: IncomingMessage): GitCaller | undefined {
  const b = basicAuth(req)
  if (b) {
    const t = state.liveToken(b.password)
    if (b.user === 'x-token-auth') {
      if (!t || t.kind === 'refresh' || t.kind === 'api') return undefined
      return t.username ? { token: t, username: t.username } : { token: t }
    }
    if (t?.kind === 'api' && t.username) {
      if (b.user === 'x-bitbucket-api-token-auth' || b.user === t.username)
        return { token: t, username: t.username }
      return undefined
    }
    if (b.user === 'x-bitbucket-api-token-auth') return undefined
    const u = state.checkPassword(b.user, b.password)
    return u ? { username: u.username } : undefined
  }
  return caller(state, req)
}

/** Whether a Git caller may read (and push to) the repository. */
export function gitReaches(
  state: SandboxState,
  c: GitCaller | undefined,
  ws: string,
  slug: string,
): boolean {
  if (!c) return false
  const r = state.repository(ws, slug)
  if (c.token) return !!r && reachesRepo(state, c, r) && hasScope(c, 'repository')
  return state.isMember(c.username, ws)
}
