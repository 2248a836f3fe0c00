/**
 * @module sandbox/github/api
 * GitHub's REST endpoints the adapter calls with an installation or user token, below the API
 * base (the root, or `/api/v3` in enterprise mode): the user and their installations, an
 * installation's repositories, repositories, branches, commits, compare, refs, archives (a 302 to
 * codeload) and pull requests, paged with `Link` headers; the app endpoints (JWT) are in
 * apps-api.ts; a personal access token's own ones are in pat.ts. Injected failures apply first;
 * then the rate limits (rate-limit.ts), whose `x-ratelimit-*` headers every answer carries.
 */
import { createHmac } from 'node:crypto'
import { resolveRef } from '../core/git.js'
import { HttpError, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { appsApi } from './apps-api.js'
import { patApi } from './pat.js'
import { countRequest, rateStatus } from './rate-limit.js'
import {
  callerOf,
  reachable,
  repoFor,
  requireCaller,
  userInstallations,
  type Caller,
} from './auth.js'
import { apiError, ghError, linkHeader, notFound, pageOf, paging, type Gh } from './context.js'
import { pullHeads } from './events.js'
import {
  changes,
  commitOf,
  countRange,
  headBranch,
  logOf,
  mergeBase,
  refEntries,
} from './gitdata.js'
import { installation, privateUser, repository } from './render.js'
import { branch, commit, diffEntry, gitRef, pull, shortBranch } from './render-git.js'
import type { GhRepo } from './state.js'

/** The compare API lists at most this many files. */
export const COMPARE_FILES_CAP = 300

/** The primary limit's key: per installation, per user, or per caller without a token. */
function rateKey(c: Caller | undefined, r: SandboxRequest): string {
  if (!c) return `${r.req.socket.remoteAddress ?? 'anonymous'}`
  if (c.kind === 'installation') return `installation ID ${c.installation.id}`
  return `user ID ${c.username}`
}

async function repoRows(gh: Gh, repos: GhRepo[]) {
  const out = []
  for (const r of repos)
    out.push(repository(gh, r, await headBranch(gh.state.repoDir(r.owner, r.name))))
  return out
}

/** Signs a codeload link for a repository archive (5 minutes). */
export function codeloadLink(gh: Gh, r: GhRepo, format: 'zip' | 'tar.gz', sha: string): string {
  const exp = Math.floor(gh.now() / 1000) + 300
  const path = `/${r.owner}/${r.name}/legacy.${format}/${sha}`
  const sig = createHmac('sha256', gh.codeloadKey).update(`${path}|${exp}`).digest('base64url')
  return `${gh.urls.codeload}${path}?token=${exp}.${sig}`
}

export async function api(gh: Gh, r: SandboxRequest, parts: string[]): Promise<void> {
  const { res, method, url: u } = r
  gh.state.stats.apiRequests++
  const injected = gh.failures.take(method, u.pathname)
  if (injected)
    return sendJson(res, injected.status, ghError('Injected failure (sandbox)'), injected.headers)
  if (await appsApi(gh, r, parts)) return
  const [a, b] = parts
  const caller = callerOf(gh, r.req)
  if (a === 'rate_limit' && !b && method === 'GET')
    return sendJson(res, 200, rateStatus(gh, rateKey(caller, r)))
  const rate = countRequest(gh, rateKey(caller, r))
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    sendJson(res, status, body, {
      ...rate,
      'X-GitHub-Media-Type': 'github.v3; format=json',
      ...headers,
    })
  try {
    await tokenApi(gh, r, parts, caller, send)
  } catch (e) {
    // GitHub tells the rate limit on refusals too.
    if (e instanceof HttpError) throw new HttpError(e.status, e.message, { ...rate, ...e.headers })
    throw e
  }
}

async function tokenApi(
  gh: Gh,
  r: SandboxRequest,
  parts: string[],
  caller: Caller | undefined,
  send: Send,
): Promise<void> {
  const { method, url: u } = r
  const [a, b, c, d] = parts
  if (method !== 'GET') throw notFound()
  if (await patApi(gh, r, parts, caller, send)) return
  if (a === 'user') {
    const c0 = requireCaller(gh, r.req)
    if (c0.kind === 'installation') throw apiError(403, 'Resource not accessible by integration')
    if (!b) return send(200, privateUser(gh, c0.username))
    if (c0.kind !== 'user') throw apiError(403, 'Resource not accessible by personal access token')
    if (b === 'installations' && !c) {
      const all = userInstallations(gh, c0.app.id, c0.username)
      const page = pageOf(gh, u, all)
      return send(
        200,
        { total_count: all.length, installations: page.items.map((i) => installation(gh, i)) },
        page.headers,
      )
    }
    if (b === 'installations' && c && d === 'repositories' && !parts[4]) {
      const i = userInstallations(gh, c0.app.id, c0.username).find((x) => String(x.id) === c)
      if (!i) throw notFound()
      const repos = gh.state.installationRepos(i).filter((x) => gh.state.canRead(c0.username, x))
      const page = pageOf(gh, u, repos)
      return send(
        200,
        {
          total_count: repos.length,
          repository_selection: i.repositorySelection,
          repositories: await repoRows(gh, page.items),
        },
        page.headers,
      )
    }
    throw notFound()
  }
  if (a === 'installation' && b === 'repositories' && !c) {
    const c0 = requireCaller(gh, r.req)
    if (c0.kind !== 'installation')
      throw apiError(
        403,
        'You must authenticate with an installation access token in order to list repositories for an installation.',
      )
    const repos = reachable(gh, c0)
    const page = pageOf(gh, u, repos)
    return send(
      200,
      {
        total_count: repos.length,
        repository_selection: c0.t.repositoryIds ? 'selected' : c0.installation.repositorySelection,
        repositories: await repoRows(gh, page.items),
      },
      page.headers,
    )
  }
  if (a === 'repos' && b && c) return repoApi(gh, r, caller, b, c, parts.slice(3), send)
  throw notFound()
}

type Send = (status: number, body: unknown, headers?: Record<string, string>) => void

async function repoApi(
  gh: Gh,
  r: SandboxRequest,
  caller: Caller | undefined,
  owner: string,
  name: string,
  rest: string[],
  send: Send,
): Promise<void> {
  const u = r.url
  const [what, ...more] = rest
  const arg = more.join('/')
  const perm = what === 'pulls' ? 'pull_requests' : what === undefined ? 'metadata' : 'contents'
  const repo = repoFor(gh, caller, owner, name, perm)
  const dir = gh.state.repoDir(repo.owner, repo.name)
  const main = await headBranch(dir)
  if (what === undefined) return send(200, repository(gh, repo, main, true))
  if (what === 'branches' && !arg) {
    const heads = (await refEntries(dir)).filter((e) => e.ref.startsWith('refs/heads/'))
    const page = pageOf(gh, u, heads)
    return send(
      200,
      page.items.map((e) => shortBranch(gh, repo, e.ref.slice(11), e.sha)),
      page.headers,
    )
  }
  if (what === 'branches') {
    const c =
      (await resolveRef(dir, `refs/heads/${arg}`)) && (await commitOf(dir, `refs/heads/${arg}`))
    if (!c) throw apiError(404, 'Branch not found')
    return send(200, branch(gh, repo, arg, c))
  }
  if (what === 'commits' && !arg) {
    const from = u.searchParams.get('sha') ?? main
    const tip = await resolveRef(dir, from.startsWith('-') ? '' : from)
    if (!tip) {
      if (!(await resolveRef(dir, 'HEAD'))) throw apiError(409, 'Git Repository is empty.')
      throw apiError(404, 'Not Found')
    }
    const { page, perPage } = paging(gh, u)
    const total = await countRange(dir, tip)
    const list = await logOf(dir, tip, (page - 1) * perPage, perPage)
    return send(
      200,
      list.map((c) => commit(gh, repo, c)),
      linkHeader(u, page, perPage, total),
    )
  }
  if (what === 'commits') {
    const c = await commitOf(dir, arg)
    if (!c) throw apiError(422, `No commit found for SHA: ${arg.slice(0, 100)}`)
    const files = await changes(dir, c.sha)
    return send(200, commit(gh, repo, c, files.slice(0, 300)))
  }
  if (what === 'compare' && arg) {
    const m = /^(.+?)\.\.\.(.+)$/.exec(arg)
    if (!m) throw notFound()
    const base = await commitOf(dir, m[1]!)
    const head = await commitOf(dir, m[2]!)
    if (!base || !head) throw notFound()
    const mb = await mergeBase(dir, base.sha, head.sha)
    if (!mb) throw notFound()
    const mbCommit = (await commitOf(dir, mb))!
    const ahead = await countRange(dir, `${mb}..${head.sha}`)
    const behind = await countRange(dir, `${mb}..${base.sha}`)
    const status =
      ahead === 0 && behind === 0
        ? 'identical'
        : behind === 0
          ? 'ahead'
          : ahead === 0
            ? 'behind'
            : 'diverged'
    const perPage = Math.min(Number(u.searchParams.get('per_page') ?? '250') || 250, 250)
    const page = Math.max(1, Number(u.searchParams.get('page') ?? '1') || 1)
    const list = (await logOf(dir, `${mb}..${head.sha}`, 0, 10_000, true)).slice(
      (page - 1) * perPage,
      page * perPage,
    )
    const files = (await changes(dir, head.sha, mb)).slice(0, COMPARE_FILES_CAP)
    const html = `${gh.urls.web}/${repo.owner}/${repo.name}/compare/${m[1]}...${m[2]}`
    return send(200, {
      url: `${gh.urls.api}/repos/${repo.owner}/${repo.name}/compare/${arg}`,
      html_url: html,
      permalink_url: `${gh.urls.web}/${repo.owner}/${repo.name}/compare/${repo.owner}:${base.sha.slice(0, 7)}...${repo.owner}:${head.sha.slice(0, 7)}`,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      base_commit: commit(gh, repo, base),
      merge_base_commit: commit(gh, repo, mbCommit),
      status,
      ahead_by: ahead,
      behind_by: behind,
      total_commits: ahead,
      commits: list.map((c) => commit(gh, repo, c)),
      files: files.map((f) => diffEntry(gh, repo, head.sha, f)),
    })
  }
  if (what === 'zipball' || what === 'tarball') {
    const c = await commitOf(dir, arg || main)
    if (!c) throw notFound()
    const location = codeloadLink(gh, repo, what === 'zipball' ? 'zip' : 'tar.gz', c.sha)
    r.res.writeHead(302, { Location: location, 'Content-Length': 0 })
    r.res.end()
    return
  }
  if (what === 'git' && (more[0] === 'ref' || more[0] === 'matching-refs')) {
    const ref = more.slice(1).join('/')
    const all = await refEntries(dir)
    if (all.length === 0) throw apiError(409, 'Git Repository is empty.')
    if (more[0] === 'ref') {
      const e = all.find((x) => x.ref === `refs/${ref}`)
      if (!ref || !e) throw notFound()
      return send(200, gitRef(gh, repo, e.ref, e.type, e.sha))
    }
    const hits = all.filter((x) => x.ref.startsWith(`refs/${ref}`))
    return send(
      200,
      hits.map((e) => gitRef(gh, repo, e.ref, e.type, e.sha)),
    )
  }
  if (what === 'pulls') {
    const pulls = gh.state.data.pulls.filter((p) => p.repoId === repo.id)
    if (!arg) {
      const st = u.searchParams.get('state') ?? 'open'
      if (!['open', 'closed', 'all'].includes(st)) throw apiError(422, 'Validation Failed')
      const dir2 = u.searchParams.get('direction') ?? 'desc'
      const chosen = pulls
        .filter((p) => st === 'all' || p.state === st)
        .sort((x, y) => (dir2 === 'asc' ? x.number - y.number : y.number - x.number))
      const page = pageOf(gh, u, chosen)
      const rows = []
      for (const p of page.items) rows.push(pull(gh, repo, p, await pullHeads(gh, repo, p), main))
      return send(200, rows, page.headers)
    }
    const p = pulls.find((x) => String(x.number) === arg)
    if (!p) throw notFound()
    return send(200, pull(gh, repo, p, await pullHeads(gh, repo, p, true), main))
  }
  throw new HttpError(404, 'Not Found')
}
