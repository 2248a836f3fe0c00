/**
 * @module sandbox/bitbucket/admin-tokens
 * The admin API's token endpoints: workspace, project and repository access tokens (Bitbucket:
 * Workspace, Project or Repository settings → Access tokens), Atlassian API tokens
 * (id.atlassian.com → Security → API tokens), revoking or restoring one token, and revoking or
 * restoring every OAuth grant of a user (what "revoke access" on the consumer does).
 */
import type { AdminApi } from '../core/admin.js'
import { HttpError } from '../core/http.js'
import type { Bb } from './context.js'
import { API_TOKEN_DEFAULT_SCOPES, DEFAULT_SCOPES, type SbToken } from './state.js'

export function addTokenEndpoints(api: AdminApi, { state }: Bb): void {
  const scopesOf = (body: Record<string, unknown>, fallback: string[]) =>
    Array.isArray(body['scopes']) ? (body['scopes'] as unknown[]).map(String) : fallback
  const expiry = (body: Record<string, unknown>, t: SbToken) => {
    if (typeof body['expiresIn'] === 'number') t.expiresAt = Date.now() + body['expiresIn'] * 1000
  }

  api.add(
    'POST',
    'access-tokens',
    'POST /_sandbox/access-tokens {workspace, project? | repository?, scopes?, expiresIn?}',
    ({ body, str }) => {
      const ws = str('workspace') ?? ''
      if (!state.workspace(ws)) throw new HttpError(404, `No workspace '${ws}'`)
      const project = str('project')
      const repository = str('repository')
      if (project !== undefined && repository !== undefined)
        throw new HttpError(400, 'give project or repository, not both')
      if (project !== undefined && !state.projectsOf(ws).some((p) => p.key === project))
        throw new HttpError(404, `No project '${project}' in ${ws}`)
      if (repository !== undefined && !state.repository(ws, repository))
        throw new HttpError(404, `No repository '${ws}/${repository}'`)
      // Access tokens have no `account` scope (they are not users).
      const narrowed = DEFAULT_SCOPES.filter((x) => x !== 'account').concat(
        project !== undefined ? ['project'] : [],
      )
      const scopes = scopesOf(
        body,
        repository === undefined && project === undefined ? DEFAULT_SCOPES : narrowed,
      )
      const t: SbToken =
        repository !== undefined
          ? { kind: 'repository', workspace: ws, repository, scopes, revoked: false }
          : project !== undefined
            ? { kind: 'project', workspace: ws, project, scopes, revoked: false }
            : { kind: 'workspace', workspace: ws, scopes, revoked: false }
      expiry(body, t)
      const token = state.newToken(t)
      state.save()
      return [
        201,
        {
          token,
          kind: t.kind,
          workspace: ws,
          ...(project !== undefined ? { project } : {}),
          ...(repository !== undefined ? { repository } : {}),
          scopes,
        },
      ]
    },
  )

  api.add(
    'POST',
    'api-tokens',
    'POST /_sandbox/api-tokens {username, scopes?, expiresIn?}',
    ({ body, str }) => {
      const user = state.user(str('username') ?? '')
      if (!user) throw new HttpError(404, `No user '${str('username') ?? ''}'`)
      const scopes = scopesOf(body, API_TOKEN_DEFAULT_SCOPES)
      const t: SbToken = { kind: 'api', username: user.username, scopes, revoked: false }
      expiry(body, t)
      const token = state.newToken(t)
      state.save()
      return [201, { token, username: user.username, email: user.email, scopes }]
    },
  )

  for (const action of ['revoke', 'restore'] as const)
    api.add('POST', `tokens/${action}`, `POST /_sandbox/tokens/${action} {token}`, ({ str }) => {
      const t = state.token(str('token') ?? '')
      if (!t) throw new HttpError(404, 'No such token')
      t.revoked = action === 'revoke'
      state.save()
      return [200, { revoked: t.revoked }]
    })

  // Revokes (restores) every OAuth grant of the user: their refresh tokens, and with them the
  // access tokens issued from those.
  for (const [action, revoke, key] of [
    ['revoke-grants', true, 'revoked'],
    ['restore-grants', false, 'restored'],
  ] as const)
    api.add(
      'POST',
      `users/:username/${action}`,
      `POST /_sandbox/users/{username}/${action}`,
      ({ params }) => {
        let n = 0
        for (const t of Object.values(state.data.tokens))
          if (t.username === params['username'] && t.kind === 'refresh' && t.revoked !== revoke) {
            t.revoked = revoke
            n++
          }
        state.save()
        return [200, { [key]: n }]
      },
    )
}
