/**
 * @module sandbox/bitbucket/api
 * Bitbucket's REST 2.0 endpoints Junction's adapter calls, under `/2.0/`: the user and their
 * workspaces, workspaces, projects, repositories, branches, commits and diffstats (webhooks and
 * pull requests are in hooks.ts and pullrequests.ts). Injected failures and the request limits
 * apply here first.
 */
import { commitInfo, diff, git, refs, resolveRef } from '../core/git.js'
import { basicAuth, bearer, HttpError, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { caller, findRepo, hasScope, reaches, reachesRepo, requireCaller } from './auth.js'
import { apiError, pageParams, repoJson, type Bb } from './context.js'
import { hooks } from './hooks.js'
import { pullRequests } from './pullrequests.js'
import { branchFilter, projectFields } from './query.js'
import * as render from './render.js'

export async function api(bb: Bb, r: SandboxRequest): Promise<void> {
  const { state, urls, limiter } = bb
  const { req, res, url: u } = r
  const parts = r.parts.slice(1)
  limiter.observe(req, res)
  state.stats.apiRequests++
  const injected = bb.failures.take(r.method, u.pathname)
  if (injected)
    return sendJson(
      res,
      injected.status,
      render.error('Injected failure (sandbox)'),
      injected.headers,
    )
  // Bitbucket's request limits (credentials this sandbox does not know as bearer tokens pass).
  const presented = bearer(req)
  const live = presented ? state.liveToken(presented) : undefined
  const credential = live && presented ? { token: live, secret: presented } : undefined
  if ((!req.headers.authorization || credential) && !limiter.admit(req, res, parts, credential))
    return
  const method = r.method
  const [a, b, c, d, e, f] = parts
  if (a === 'user' && !b && method === 'GET') {
    const cl = requireCaller(state, req, 'account', 'read:user:bitbucket')
    if (!cl.username) throw apiError(403, 'This endpoint needs a user: access tokens have none')
    return sendJson(res, 200, render.account(state.user(cl.username)!, urls))
  }
  if (a === 'user' && b === 'workspaces' && !c && method === 'GET') {
    const cl = requireCaller(state, req, 'account', 'read:workspace:bitbucket')
    const username = cl.username
    if (!username) throw apiError(403, 'This endpoint needs a user: access tokens have none')
    const access = state.data.workspaces
      .filter((w) => state.isMember(username, w.slug))
      .map((w) => ({
        type: 'workspace_access',
        administrator: w.admins.includes(username),
        workspace: render.workspaceBase(w, urls),
        links: { self: { href: `${urls.api}/workspaces/${w.slug}` } },
      }))
    const { page, pagelen } = pageParams(bb, u)
    return sendJson(res, 200, render.paginated(access, page, pagelen, u))
  }
  if (a === 'workspaces' && b && !c && method === 'GET') {
    const cl = requireCaller(state, req, undefined, 'read:workspace:bitbucket')
    // Repository and project access tokens "can't be used to manage or interact with
    // workspaces" (support.atlassian.com/bitbucket-cloud/docs/access-tokens).
    if (cl.token.kind === 'project' || cl.token.kind === 'repository')
      throw apiError(403, 'Forbidden')
    const w = state.workspace(b)
    if (!w || !reaches(state, cl, b)) throw apiError(404, `No workspace with identifier '${b}'.`)
    return sendJson(res, 200, render.workspace(w, urls))
  }
  if (a === 'workspaces' && b && c === 'projects' && d && !e && method === 'GET') {
    const cl = requireCaller(state, req, 'project')
    if (cl.token.kind === 'repository') throw apiError(403, 'Forbidden')
    const w = state.workspace(b)
    const p = w && state.projectsOf(b).find((x) => x.key === d)
    const mine =
      cl.token.kind === 'project'
        ? cl.token.workspace === b && cl.token.project === d
        : reaches(state, cl, b)
    if (!w || !p || !mine) throw apiError(404, `Project ${d} not found`)
    return sendJson(res, 200, {
      ...render.projectRest(w, urls, p),
      owner: { type: 'team', uuid: w.uuid, username: w.slug, display_name: w.name },
      is_private: true,
      description: '',
      created_on: w.createdOn,
      updated_on: w.createdOn,
      has_publicly_visible_repos: state.data.repositories.some(
        (x) => x.workspace === b && !x.isPrivate && state.projectOf(x).key === d,
      ),
    })
  }
  if (a !== 'repositories' || !b) throw apiError(404, 'Resource not found')
  const cl = caller(state, req)
  if (req.headers.authorization && !cl)
    throw apiError(
      401,
      basicAuth(req) || bearer(req)
        ? 'Token is invalid, expired, or not supported for this endpoint.'
        : 'Access token expired or invalid.',
    )
  if (cl && !hasScope(cl, 'repository'))
    throw apiError(
      403,
      `Your credentials lack one or more required privilege scopes: ${cl.token.kind === 'api' ? 'read:repository:bitbucket' : 'repository'}`,
    )
  if (!c) {
    if (method !== 'GET') throw new HttpError(405, 'Method not allowed', { Allow: 'GET' })
    if (!state.workspace(b)) throw apiError(404, `No workspace with identifier '${b}'.`)
    // The one filter the adapter sends (a project's repositories); anything else is refused.
    const q = u.searchParams.get('q')
    const pm = q === null ? undefined : /^\s*project\.key\s*=\s*"([^"\\]*)"\s*$/.exec(q)
    if (q !== null && !pm) throw apiError(400, `Invalid query: ${q.slice(0, 200)}`)
    // A listing holds what the caller can see: public repositories for anyone, private ones
    // only within the token's reach (a repository token sees its own and the public ones).
    const visible = state.data.repositories.filter(
      (x) =>
        x.workspace === b &&
        (!pm || state.projectOf(x).key === pm[1]) &&
        (!x.isPrivate || (cl && reachesRepo(state, cl, x))),
    )
    const { page, pagelen } = pageParams(bb, u)
    const all = await Promise.all(visible.map((x) => repoJson(bb, x)))
    return sendJson(res, 200, render.paginated(all, page, pagelen, u))
  }
  const repo = findRepo(state, cl, b, c)
  const dir = state.repoDir(b, c)
  const full = `${b}/${c}`
  const commitJson = async (id: string) => {
    const info = await commitInfo(dir, id)
    return info && render.commit(info, full, urls, state.data.users)
  }
  if (!d) {
    if (method !== 'GET') throw new HttpError(405, 'Method not allowed', { Allow: 'GET' })
    return sendJson(res, 200, await repoJson(bb, repo))
  }
  if (d === 'refs' && e === 'branches') {
    if (method !== 'GET') throw new HttpError(405, 'Method not allowed', { Allow: 'GET' })
    const name = parts.slice(5).join('/')
    if (name) {
      // Bitbucket Cloud answers 404 to an encoded slash in a branch name path parameter
      // (`release%2F1.0`; BCLOUD-9969 and its kin); clients filter with `q=name = "…"`.
      const raw = u.pathname.slice(u.pathname.indexOf('/refs/branches/') + 15)
      if (/%2f/i.test(raw)) throw apiError(404, `Branch not found: ${name}`)
      const id = await resolveRef(dir, `refs/heads/${name}`)
      const target = id && (await commitJson(id))
      if (!target) throw apiError(404, `Branch not found: ${name}`)
      return sendJson(res, 200, render.branch(name, target, full, urls))
    }
    const wanted = branchFilter(u.searchParams.get('q'))
    const all = [...(await refs(dir)).entries()].filter(
      ([ref]) => ref.startsWith('refs/heads/') && wanted(ref.slice(11)),
    )
    const { page, pagelen } = pageParams(bb, u)
    const values = []
    for (const [ref, id] of all) {
      const target = await commitJson(id)
      if (target) values.push(render.branch(ref.slice(11), target, full, urls))
    }
    const listing = render.paginated(values, page, pagelen, u)
    return sendJson(res, 200, projectFields(listing, u.searchParams.get('fields')))
  }
  if (d === 'commit' && e && !f && method === 'GET') {
    const target = /^[0-9a-f]{4,40}$/.test(e) ? await commitJson(e) : undefined
    if (!target) throw apiError(404, `Commit not found: ${e}`)
    return sendJson(res, 200, target)
  }
  if (d === 'diffstat' && e && method === 'GET') {
    const spec = parts.slice(4).join('/')
    const m = /^([0-9a-f]{4,40})(?:\.\.([0-9a-f]{4,40}))?$/.exec(spec)
    if (!m) throw apiError(404, `Invalid diff spec: ${spec}`)
    // Bitbucket's A..B: A carries the changes, B is the base.
    const head = await resolveRef(dir, m[1]!)
    let base = m[2] ? await resolveRef(dir, m[2]) : undefined
    if (!head || (m[2] && !base)) throw apiError(404, 'Commit not found')
    // topic=true: a three-dot diff, from the merge base of the two.
    if (base && u.searchParams.get('topic') === 'true')
      base = (await git(dir, ['merge-base', head, base])).trim() || base
    const { page, pagelen } = pageParams(bb, u, 500)
    const entries = (await diff(dir, head, base)).map(render.diffstat)
    return sendJson(res, 200, render.paginated(entries, page, pagelen, u))
  }
  if (d === 'hooks') return hooks(bb, r, repo, cl, e)
  if (d === 'pullrequests') return pullRequests(bb, r, repo, cl, e, f)
  throw apiError(404, 'Resource not found')
}
