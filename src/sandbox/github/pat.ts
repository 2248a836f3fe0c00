/**
 * @module sandbox/github/pat
 * Fine-grained personal access tokens (`github_pat_…`): made through the admin API for a user,
 * for one resource owner (the user, or an organization they belong to), all or selected
 * repositories of it, permissions (contents, metadata, pull_requests) and an expiry. And the REST
 * endpoints such a token uses beyond the repository ones: `GET /user/repos` (what the token
 * reaches, paged) and `GET /orgs/{org}`. auth.ts holds what a token reaches.
 */
import { randomBytes } from 'node:crypto'
import type { AdminApi } from '../core/admin.js'
import { HttpError } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { patRepos, type Caller } from './auth.js'
import { apiError, iso, notFound, pageOf, type Gh } from './context.js'
import { headBranch } from './gitdata.js'
import { repository } from './render.js'
import { LEVELS, type GhToken, type Level, type Permissions } from './state.js'

const PAT_PERMISSIONS = ['contents', 'metadata', 'pull_requests']

/** Checks a PAT's permissions: contents, metadata, pull_requests; read or write. */
function permissionsFrom(v: unknown): Permissions {
  if (v === undefined) return { metadata: 'read', contents: 'read' }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new HttpError(422, 'permissions must be an object of permission → read|write')
  const out: Permissions = { metadata: 'read' }
  for (const [k, level] of Object.entries(v)) {
    if (!PAT_PERMISSIONS.includes(k))
      throw new HttpError(422, `permission ${k.slice(0, 40)} is not one of ${PAT_PERMISSIONS}`)
    if (!LEVELS.includes(level as Level) || level === 'admin')
      throw new HttpError(422, `permission ${k} is read or write`)
    if (k === 'metadata' && level !== 'read') throw new HttpError(422, 'metadata is read only')
    out[k] = level as Level
  }
  return out
}

export function addPatEndpoints(api: AdminApi, gh: Gh): void {
  const { state } = gh
  api.add(
    'POST',
    'users/:username/tokens',
    'POST /_sandbox/users/{username}/tokens {owner?, repositories?: "all"|[name], permissions?: {contents?, metadata?, pull_requests?: read|write}, expiresInSeconds?} → a github_pat_ token',
    ({ params, body, str }) => {
      const user = state.userByLogin(params['username']!)
      if (!user) throw new HttpError(404, `No user ${params['username']}`)
      const owner = str('owner') ?? user.username
      const account = state.account(owner)
      if (!account) throw new HttpError(422, `No user or organization '${owner}'`)
      if (
        account.type === 'User'
          ? account.user.username !== user.username
          : !account.org.admins.includes(user.username) &&
            !account.org.members.includes(user.username)
      )
        throw new HttpError(422, `${user.username} cannot make tokens for ${owner}`)
      const login = account.type === 'User' ? account.user.username : account.org.login
      const repos = body['repositories'] ?? 'all'
      let repositoryIds: number[] | undefined
      if (repos !== 'all') {
        if (!Array.isArray(repos)) throw new HttpError(422, 'repositories is "all" or [name]')
        repositoryIds = repos.map((n) => {
          const r = state.repo(login, String(n))
          if (!r) throw new HttpError(422, `No repository ${login}/${String(n)}`)
          return r.id
        })
      }
      const secs = body['expiresInSeconds']
      if (secs !== undefined && (typeof secs !== 'number' || !Number.isFinite(secs)))
        throw new HttpError(422, 'expiresInSeconds must be a number (negative: already expired)')
      const t: GhToken = {
        kind: 'pat',
        appId: 0,
        username: user.username,
        owner: login,
        repositorySelection: repositoryIds ? 'selected' : 'all',
        ...(repositoryIds ? { repositoryIds } : {}),
        permissions: permissionsFrom(body['permissions']),
        ...(secs === undefined ? {} : { expiresAt: gh.now() + secs * 1000 }),
        revoked: false,
      }
      const token = newPat(gh, t)
      state.save()
      return [
        201,
        {
          token,
          owner: login,
          repositories: repos,
          permissions: t.permissions,
          expiresAt: t.expiresAt === undefined ? null : iso(t.expiresAt),
        },
      ]
    },
  )
}

/** `github_pat_` and 82 characters, as GitHub's fine-grained tokens. */
function newPat(gh: Gh, t: GhToken): string {
  const body = randomBytes(64).toString('base64url').replace(/[-_]/g, 'A').slice(0, 82)
  const token = `github_pat_${body.slice(0, 22)}_${body.slice(22, 81)}`
  gh.state.data.tokens[token] = t
  return token
}

type Send = (status: number, body: unknown, headers?: Record<string, string>) => void

/** `GET /user/repos` and `GET /orgs/{org}`; false for any other path. */
export async function patApi(
  gh: Gh,
  r: SandboxRequest,
  parts: string[],
  caller: Caller | undefined,
  send: Send,
): Promise<boolean> {
  const [a, b, c] = parts
  if (a === 'user' && b === 'repos' && !c) {
    if (!caller) throw apiError(401, 'Requires authentication')
    if (caller.kind === 'installation')
      throw apiError(403, 'Resource not accessible by integration')
    const repos =
      caller.kind === 'pat'
        ? patRepos(gh, caller.t)
        : gh.state.data.repositories.filter((x) => gh.state.canRead(caller.username, x))
    const page = pageOf(gh, r.url, repos)
    const rows = []
    for (const x of page.items)
      rows.push(repository(gh, x, await headBranch(gh.state.repoDir(x.owner, x.name))))
    send(200, rows, page.headers)
    return true
  }
  if (a === 'orgs' && b && !c) {
    const o = gh.state.org(b)
    if (!o) throw notFound()
    send(200, organization(gh, o.login))
    return true
  }
  return false
}

/** An organization as `GET /orgs/{org}` answers it to anyone (its public part). */
function organization(gh: Gh, login: string) {
  const o = gh.state.org(login)!
  const api = `${gh.urls.api}/orgs/${o.login}`
  return {
    login: o.login,
    id: o.id,
    node_id: Buffer.from(`04:Organization${o.id}`).toString('base64'),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${gh.urls.web}/avatars/u/${o.id}`,
    description: null,
    name: o.name,
    company: null,
    blog: '',
    location: null,
    email: null,
    twitter_username: null,
    is_verified: false,
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: gh.state.data.repositories.filter(
      (x) => x.owner.toLowerCase() === o.login.toLowerCase() && !x.private,
    ).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    html_url: `${gh.urls.web}/${o.login}`,
    created_at: o.createdAt,
    updated_at: o.createdAt,
    archived_at: null,
    type: 'Organization',
  }
}
