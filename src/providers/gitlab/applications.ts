/**
 * @module providers/gitlab/applications
 * Registers Junction's OAuth application on a self-managed GitLab instance with an administrator's
 * token (shared/spec/gitlab/applications.md: `POST /api/v4/applications`, instance-wide, admin
 * only), for a host's setup. The answer's `application_id` is the OAuth client id and `secret` the
 * client secret (shown this once). Refusals say what to fix: a token without the `api` scope, a
 * user who is not an administrator, or an instance in Admin Mode whose token lacks `admin_mode`.
 */
import { ProviderAuthFailed, ProviderError, ProviderRequestFailed } from '../errors.js'
import { HttpClient } from '../http-client.js'
import { OAUTH_SCOPES } from './oauth.js'

export interface InstanceApplicationRequest {
  /** `https://HOST/api/v4`. */
  apiUrl: string
  /** An administrator's personal access token (`api`, plus `admin_mode` under Admin Mode). */
  adminToken: string
  name: string
  /** `<public-url>/oauth/gitlab/callback`. */
  redirectUri: string
  /** Space-separated (default: what Junction asks for, `api`). */
  scopes?: string
  fetch?: typeof fetch
}

export interface InstanceApplication {
  /** The OAuth client id (`application_id`). */
  applicationId: string
  /** The client secret (`secret`; GitLab never shows it again). */
  clientSecret: string
  /** The application's record id (for `DELETE /applications/:id`). */
  id: string
}

interface TokenSelf {
  scopes?: string[]
}

async function body(res: Response): Promise<Record<string, unknown>> {
  return ((await res.json().catch(() => ({}))) ?? {}) as Record<string, unknown>
}

export async function createInstanceApplication(
  r: InstanceApplicationRequest,
): Promise<InstanceApplication> {
  const api = r.apiUrl.replace(/\/+$/, '')
  const http = new HttpClient('GitLab', r.fetch ? { fetch: r.fetch } : {})
  const headers = { 'PRIVATE-TOKEN': r.adminToken, Accept: 'application/json' }
  const fail = (message: string, status?: number) => new ProviderRequestFailed(message, status)

  // The token's scopes first (GitLab 15.5+; an older instance answers 404 and is not asked).
  const self = await http.request(`${api}/personal_access_tokens/self`, {
    headers,
    accept: [401, 403, 404],
  })
  if (self.status === 401) {
    await self.body?.cancel()
    throw new ProviderAuthFailed('GitLab refused the administrator token (401)', 401)
  }
  let scopes: string[] | undefined
  if (self.ok) scopes = ((await self.json()) as TokenSelf).scopes
  else await self.body?.cancel()
  if (scopes && !scopes.includes('api'))
    throw fail(
      `The administrator token lacks the api scope, which creating an application needs (it has: ${scopes.join(', ') || 'none'})`,
    )

  // `is_admin` is answered only to a caller acting as administrator (Admin Mode satisfied).
  const user = await http.request(`${api}/user`, { headers, accept: [401, 403] })
  if (!user.ok) {
    await user.body?.cancel()
    throw new ProviderAuthFailed(
      `GitLab refused the administrator token (${user.status})`,
      user.status,
    )
  }
  const me = await body(user)
  const who = typeof me['username'] === 'string' ? me['username'] : "The token's user"

  const res = await http.request(`${api}/applications`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: r.name,
      redirect_uri: r.redirectUri,
      scopes: r.scopes ?? OAUTH_SCOPES,
      confidential: true,
    }),
    accept: [400, 401, 403, 422],
  })
  const b = await body(res)
  if (res.status === 403) {
    if (b['error'] === 'insufficient_scope')
      throw fail(
        `The administrator token lacks the ${typeof b['scope'] === 'string' ? b['scope'] : 'api'} scope`,
        403,
      )
    // An administrator whose token has admin_mode is never refused: the user is not one. Without
    // admin_mode, GitLab answers an administrator under Admin Mode as it answers anyone else.
    if (scopes?.includes('admin_mode') || me['is_admin'] === true)
      throw fail(
        `${who} is not an administrator of this GitLab instance: instance applications need one`,
        403,
      )
    throw fail(
      `GitLab refused: ${who} is not an administrator of this instance, or the instance is in Admin Mode and the token lacks the admin_mode scope (instance applications need an administrator acting in Admin Mode)`,
      403,
    )
  }
  if (res.status === 401)
    throw new ProviderAuthFailed('GitLab refused the administrator token', 401)
  if (!res.ok) {
    const m = b['message'] ?? b['error']
    const why = typeof m === 'string' ? m : m === undefined ? '' : JSON.stringify(m)
    throw fail(
      `GitLab refused the application (${res.status}${why ? `: ${why.slice(0, 300)}` : ''})`,
      res.status,
    )
  }
  const id = b['id']
  const applicationId = b['application_id']
  const secret = b['secret']
  if (typeof applicationId !== 'string' || typeof secret !== 'string' || id === undefined)
    throw new ProviderError('GitLab answered the application without its id or secret')
  return { applicationId, clientSecret: secret, id: String(id) }
}
