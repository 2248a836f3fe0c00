/**
 * @module sandbox/bitbucket/server
 * A local stand-in for Bitbucket Cloud, on one port: the OAuth consent page and token endpoint,
 * the REST 2.0 endpoints Junction's adapter calls, archives, real Git over HTTP through `git
 * http-backend` (with `x-token-auth` as Bitbucket checks it), webhooks on pushes and pull-request
 * events, and an admin API under `/_sandbox/` to create users, workspaces, repositories and tokens.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import {
  archive,
  commitFiles,
  commitInfo,
  diff,
  git,
  initBare,
  mergeCommit,
  refs,
  resolveRef,
} from '../git.js'
import {
  basicAuth,
  bearer,
  gitHttpBackend,
  HttpError,
  readForm,
  readJson,
  redirect,
  sendHtml,
  sendJson,
} from '../http-util.js'
import * as render from './render.js'
import { branchFilter, projectFields } from './query.js'
import { RateLimiter, type RateLimitSettings } from './rate-limit.js'
import {
  API_TOKEN_DEFAULT_SCOPES,
  DEFAULT_SCOPES,
  granularScope,
  SandboxState,
  type SbRepository,
  type SbToken,
} from './state.js'
import { pullRequestPayload, pushPayload } from './payloads.js'
import { deliver, redeliver } from './webhooks.js'

export interface BitbucketSandboxOptions {
  host?: string
  port?: number
  dataDir: string
  /** The OAuth consumer to make sure exists (Junction's). */
  consumer?: { key: string; secret?: string; callbackUrl: string }
  /** Bitbucket's API request limits (see rate-limit.ts); changed at run time via the admin API. */
  rateLimits?: Partial<RateLimitSettings>
}

export interface BitbucketSandbox {
  url: string
  apiUrl: string
  state: SandboxState
  rateLimits: RateLimiter
  consumer?: { key: string; secret: string; callbackUrl: string }
  /** Resolves when every webhook delivery started so far has finished (tests). */
  settled(): Promise<void>
  close(): Promise<void>
}

const SLUG = /^[a-z0-9][a-z0-9_.-]{0,61}$/
const PROJECT_KEY = /^[A-Za-z0-9_]{1,64}$/
const HOOK_EVENTS = new Set([
  'repo:push',
  'repo:fork',
  'repo:updated',
  'pullrequest:created',
  'pullrequest:updated',
  'pullrequest:fulfilled',
  'pullrequest:rejected',
  'pullrequest:approved',
  'pullrequest:unapproved',
  'pullrequest:comment_created',
])

interface Caller {
  token: SbToken
  /** The user an OAuth token acts for. */
  username?: string
}

const now = () => new Date().toISOString()

export async function startBitbucketSandbox(o: BitbucketSandboxOptions): Promise<BitbucketSandbox> {
  const state = new SandboxState(o.dataDir)
  const limiter = new RateLimiter(o.rateLimits)
  let consumer: BitbucketSandbox['consumer']
  if (o.consumer) {
    const existing = state.consumer(o.consumer.key)
    const secret = o.consumer.secret ?? existing?.secret ?? randomBytes(24).toString('base64url')
    const c = { key: o.consumer.key, secret, callbackUrl: o.consumer.callbackUrl }
    state.data.consumers = state.data.consumers.filter((x) => x.key !== c.key).concat(c)
    state.save()
    consumer = c
  }
  const pending = new Set<Promise<void>>()
  const track = (ps: Promise<void>[]) => {
    for (const p of ps) {
      pending.add(p)
      void p.finally(() => pending.delete(p))
    }
  }
  let urls: render.Urls = { web: '', api: '' }

  // ---- helpers -------------------------------------------------------------------------------

  const apiError = (status: number, message: string, headers: Record<string, string> = {}) =>
    new HttpError(status, message, headers)

  /**
   * Who a REST request comes from: an OAuth or access token (repository, project, workspace) as
   * Bearer; an Atlassian API token only as Basic `email:token` (as Bearer it is refused, as
   * bitbucket.org answers 401 "Token is invalid, expired, or not supported for this endpoint").
   */
  function caller(req: IncomingMessage): Caller | undefined {
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
  function hasScope(c: Caller, scope: string, granular = granularScope(scope)): boolean {
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

  function requireCaller(req: IncomingMessage, scope?: string, granular?: string): Caller {
    const c = caller(req)
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
  function reaches(c: Caller, workspace: string): boolean {
    if (c.token.kind === 'workspace') return c.token.workspace === workspace
    if (c.token.kind === 'project' || c.token.kind === 'repository') return false
    return !!c.username && state.isMember(c.username, workspace)
  }

  /**
   * Whether the caller reaches a repository: a repository access token only its own, a project
   * access token those of its project, a workspace token its workspace's, a user those of the
   * workspaces they belong to.
   */
  function reachesRepo(c: Caller, r: SbRepository): boolean {
    const t = c.token
    if (t.kind === 'repository') return t.workspace === r.workspace && t.repository === r.slug
    if (t.kind === 'project')
      return t.workspace === r.workspace && t.project === state.projectOf(r).key
    return reaches(c, r.workspace)
  }

  function findRepo(c: Caller | undefined, ws: string, slug: string): SbRepository {
    const r = state.repository(ws, slug)
    if (!r) throw apiError(404, `Repository ${ws}/${slug} not found`)
    if (r.isPrivate && (!c || !reachesRepo(c, r))) {
      if (!c) throw apiError(401, 'This repository is private: authentication required.')
      throw apiError(404, `Repository ${ws}/${slug} not found`)
    }
    return r
  }

  async function mainBranch(r: SbRepository): Promise<string | null> {
    try {
      const head = (
        await git(state.repoDir(r.workspace, r.slug), ['symbolic-ref', '--short', 'HEAD'])
      ).trim()
      return (await resolveRef(state.repoDir(r.workspace, r.slug), `refs/heads/${head}`))
        ? head
        : null
    } catch {
      return null
    }
  }

  async function repoJson(r: SbRepository) {
    return render.repository(r, state.workspace(r.workspace)!, await mainBranch(r), urls, r.project)
  }

  function pageParams(u: URL, max = 100) {
    const pagelen = Number(u.searchParams.get('pagelen') ?? '10')
    const page = Number(u.searchParams.get('page') ?? '1')
    if (!Number.isInteger(pagelen) || pagelen < 1 || pagelen > max)
      throw apiError(400, `Invalid pagelen: must be between 1 and ${max}`)
    if (!Number.isInteger(page) || page < 1) throw apiError(400, 'Invalid page')
    // A test knob: smaller pages than asked for, to exercise clients that follow `next`.
    const cap = state.data.settings.maxPagelen
    return { page, pagelen: cap ? Math.min(cap, pagelen) : pagelen }
  }

  async function createRepository(input: Record<string, unknown>): Promise<SbRepository> {
    const workspace = String(input['workspace'] ?? '')
    const slug = String(input['slug'] ?? '')
    if (!state.workspace(workspace)) throw new HttpError(404, `No workspace '${workspace}'`)
    if (!SLUG.test(slug)) throw new HttpError(400, 'slug must be lower-case letters, digits, _ . -')
    if (state.repository(workspace, slug))
      throw new HttpError(409, `Repository ${workspace}/${slug} exists`)
    const branch = typeof input['mainbranch'] === 'string' ? input['mainbranch'] : 'main'
    const dir = state.repoDir(workspace, slug)
    mkdirSync(dirname(dir), { recursive: true, mode: 0o700 })
    await initBare(dir, branch)
    const r: SbRepository = {
      workspace,
      slug,
      uuid: state.newUuid(),
      isPrivate: input['isPrivate'] !== false,
      description: typeof input['description'] === 'string' ? input['description'] : '',
      createdOn: now(),
    }
    const project = input['project']
    if (project !== undefined) {
      if (typeof project !== 'string' || !PROJECT_KEY.test(project))
        throw new HttpError(400, 'project must be a project key (letters, digits, _)')
      const p = state.projectsOf(workspace).find((x) => x.key === project)
      if (!p) throw new HttpError(404, `No project '${project}' in ${workspace}`)
      r.project = { key: p.key, uuid: p.uuid, name: p.name }
    }
    state.data.repositories.push(r)
    state.save()
    const files = input['files']
    if (files && typeof files === 'object')
      await commitFiles(dir, branch, files as Record<string, string>, 'Initial commit', {
        name: 'Sandbox',
        email: 'sandbox@bitbucket.invalid',
      })
    return r
  }

  /**
   * Sends `repo:push` for the refs that moved between the two snapshots, then
   * `pullrequest:updated` for each open pull request whose source branch moved (Bitbucket Cloud
   * sends both for a push to a pull request's branch).
   */
  async function notifyPush(
    r: SbRepository,
    actor: string | undefined,
    before: Map<string, string>,
  ) {
    const after = await refs(state.repoDir(r.workspace, r.slug))
    const payload = await pushPayload(state, r, actor, before, after, urls)
    if (payload.push.changes.length === 0) return
    track(deliver(state, r, 'repo:push', payload))
    const moved = state.data.pullRequests.filter((p) => {
      if (p.workspace !== r.workspace || p.slug !== r.slug || p.state !== 'OPEN') return false
      const ref = `refs/heads/${p.sourceBranch}`
      return after.has(ref) && after.get(ref) !== before.get(ref)
    })
    for (const p of moved) {
      p.updatedOn = now()
      const out = await prPayload(r, p, actor)
      track(deliver(state, r, 'pullrequest:updated', out.hook))
    }
    if (moved.length > 0) state.save()
  }

  /** A pull request as the REST API answers it (`json`) and as its webhooks carry it (`hook`). */
  async function prPayload(
    r: SbRepository,
    p: (typeof state.data.pullRequests)[number],
    actor: string | undefined,
  ) {
    const dir = state.repoDir(r.workspace, r.slug)
    const src = (await resolveRef(dir, `refs/heads/${p.sourceBranch}`)) ?? '0'.repeat(40)
    const dst = (await resolveRef(dir, `refs/heads/${p.destinationBranch}`)) ?? '0'.repeat(40)
    const author = state.user(p.author)
    return {
      json: render.pullRequest(
        p,
        await repoJson(r),
        src,
        dst,
        author
          ? render.account(author, urls)
          : {
              type: 'app_user',
              display_name: 'Workspace access token',
              uuid: '{00000000-0000-0000-0000-000000000000}',
            },
        urls,
      ),
      hook: pullRequestPayload(state, r, p, actor, src, dst, urls),
    }
  }

  // ---- OAuth ---------------------------------------------------------------------------------

  function consentPage(q: URLSearchParams, problem?: string): string {
    const c = state.consumer(q.get('client_id') ?? '')
    const hidden = ['client_id', 'response_type', 'state']
      .map((k) => `<input type="hidden" name="${k}" value="${render.escapeHtml(q.get(k) ?? '')}">`)
      .join('')
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Authorize ${render.escapeHtml(c?.key ?? '')} – Bitbucket sandbox</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.problem{color:#b00}</style></head>
<body><h1>Bitbucket sandbox</h1>
<p><strong>${render.escapeHtml(c?.key ?? '')}</strong> is requesting access to your account: read your workspaces, repositories and pull requests, and manage webhooks.</p>
${problem ? `<p class="problem" role="alert">${render.escapeHtml(problem)}</p>` : ''}
<form method="post" action="/site/oauth2/authorize">${hidden}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="grant">Grant access</button>
<button type="submit" name="decision" value="deny" formnovalidate>Cancel</button>
</form></body></html>`
  }

  async function authorize(req: IncomingMessage, res: ServerResponse, u: URL) {
    if (req.method === 'GET') {
      const c = state.consumer(u.searchParams.get('client_id') ?? '')
      if (!c)
        return sendHtml(
          res,
          400,
          '<!doctype html><title>Invalid client</title><p>Invalid client_id.</p>',
        )
      if (u.searchParams.get('response_type') !== 'code')
        return sendHtml(
          res,
          400,
          '<!doctype html><title>Unsupported</title><p>Only response_type=code is supported.</p>',
        )
      return sendHtml(res, 200, consentPage(u.searchParams))
    }
    if (req.method !== 'POST')
      throw new HttpError(405, 'Method not allowed', { Allow: 'GET, POST' })
    const form = await readForm(req)
    const c = state.consumer(form.get('client_id') ?? '')
    if (!c)
      return sendHtml(
        res,
        400,
        '<!doctype html><title>Invalid client</title><p>Invalid client_id.</p>',
      )
    const back = new URL(c.callbackUrl)
    const st = form.get('state')
    if (st) back.searchParams.set('state', st)
    if (form.get('decision') === 'deny') {
      back.searchParams.set('error', 'access_denied')
      back.searchParams.set('error_description', 'The user denied access')
      return redirect(res, back.toString())
    }
    const user = state.user(form.get('username') ?? '')
    if (!user || !safeEqual(user.password, form.get('password') ?? ''))
      return sendHtml(res, 401, consentPage(form, 'Incorrect username or password.'))
    const code = randomBytes(18).toString('base64url')
    state.codes.set(code, {
      consumer: c.key,
      username: user.username,
      expiresAt: Date.now() + 10 * 60_000,
    })
    back.searchParams.set('code', code)
    return redirect(res, back.toString())
  }

  function issueTokens(consumerKey: string, username: string, refresh?: string) {
    const lifetime = state.data.settings.accessTokenLifetimeSeconds
    const refreshToken =
      refresh ??
      state.newToken({
        kind: 'refresh',
        username,
        consumer: consumerKey,
        scopes: DEFAULT_SCOPES,
        revoked: false,
      })
    const access = state.newToken({
      kind: 'access',
      username,
      consumer: consumerKey,
      grant: refreshToken,
      scopes: DEFAULT_SCOPES,
      expiresAt: Date.now() + lifetime * 1000,
      revoked: false,
    })
    state.save()
    return {
      access_token: access,
      token_type: 'bearer',
      expires_in: lifetime,
      refresh_token: refreshToken,
      scopes: DEFAULT_SCOPES.join(' '),
      state: 'authorization_code',
    }
  }

  async function accessToken(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'POST') throw new HttpError(405, 'Method not allowed', { Allow: 'POST' })
    const auth = basicAuth(req)
    const c = auth && state.consumer(auth.user)
    if (!c || !auth || !safeEqual(c.secret, auth.password))
      return sendJson(res, 401, {
        error: 'invalid_client',
        error_description: 'Client credentials missing or wrong',
      })
    const form = await readForm(req)
    const grant = form.get('grant_type')
    if (grant === 'authorization_code') {
      const code = form.get('code') ?? ''
      const entry = state.codes.get(code)
      state.codes.delete(code)
      if (!entry || entry.consumer !== c.key || entry.expiresAt < Date.now())
        return sendJson(res, 400, {
          error: 'invalid_grant',
          error_description: 'The authorization code is invalid or expired',
        })
      state.stats.tokenGrants.authorization_code++
      return sendJson(res, 200, issueTokens(c.key, entry.username))
    }
    if (grant === 'refresh_token') {
      // A test knob: a slow token endpoint makes concurrent refreshes overlap.
      const delay = state.data.settings.tokenDelayMs
      if (delay) await new Promise((r) => setTimeout(r, delay))
      const refresh = form.get('refresh_token') ?? ''
      const t = state.liveToken(refresh)
      if (!t || t.kind !== 'refresh' || t.consumer !== c.key || !t.username)
        return sendJson(res, 400, {
          error: 'invalid_grant',
          error_description: 'Invalid refresh_token',
        })
      state.stats.tokenGrants.refresh_token++
      return sendJson(res, 200, {
        ...issueTokens(c.key, t.username, refresh),
        state: 'refresh_token',
      })
    }
    return sendJson(res, 400, {
      error: 'unsupported_grant_type',
      error_description: `Unsupported grant type: ${grant ?? ''}`,
    })
  }

  // ---- REST 2.0 ------------------------------------------------------------------------------

  async function api(req: IncomingMessage, res: ServerResponse, u: URL, parts: string[]) {
    limiter.observe(req, res)
    state.stats.apiRequests++
    const fail = state.failures
    if (
      fail.count > 0 &&
      (fail.method === undefined || fail.method === req.method) &&
      (fail.path === undefined || fail.path === u.pathname)
    ) {
      fail.count--
      const headers: Record<string, string> = {}
      if (state.failures.retryAfter !== undefined)
        headers['Retry-After'] = String(state.failures.retryAfter)
      return sendJson(
        res,
        state.failures.status,
        render.error('Injected failure (sandbox)'),
        headers,
      )
    }
    // Bitbucket's request limits (credentials this sandbox does not know as bearer tokens pass).
    const presented = bearer(req)
    const live = presented ? state.liveToken(presented) : undefined
    const credential = live && presented ? { token: live, secret: presented } : undefined
    if ((!req.headers.authorization || credential) && !limiter.admit(req, res, parts, credential))
      return
    const method = req.method ?? 'GET'
    const [a, b, c, d, e, f] = parts
    if (a === 'user' && !b && method === 'GET') {
      const cl = requireCaller(req, 'account', 'read:user:bitbucket')
      if (!cl.username) throw apiError(403, 'This endpoint needs a user: access tokens have none')
      return sendJson(res, 200, render.account(state.user(cl.username)!, urls))
    }
    if (a === 'user' && b === 'workspaces' && !c && method === 'GET') {
      const cl = requireCaller(req, 'account', 'read:workspace:bitbucket')
      if (!cl.username) throw apiError(403, 'This endpoint needs a user: access tokens have none')
      const access = state.data.workspaces
        .filter((w) => state.isMember(cl.username!, w.slug))
        .map((w) => ({
          type: 'workspace_access',
          administrator: w.admins.includes(cl.username!),
          workspace: render.workspaceBase(w, urls),
          links: { self: { href: `${urls.api}/workspaces/${w.slug}` } },
        }))
      const { page, pagelen } = pageParams(u)
      return sendJson(res, 200, render.paginated(access, page, pagelen, u))
    }
    if (a === 'workspaces' && b && !c && method === 'GET') {
      const cl = requireCaller(req, undefined, 'read:workspace:bitbucket')
      // Repository and project access tokens "can't be used to manage or interact with
      // workspaces" (support.atlassian.com/bitbucket-cloud/docs/access-tokens).
      if (cl.token.kind === 'project' || cl.token.kind === 'repository')
        throw apiError(403, 'Forbidden')
      const w = state.workspace(b)
      if (!w || !reaches(cl, b)) throw apiError(404, `No workspace with identifier '${b}'.`)
      return sendJson(res, 200, render.workspace(w, urls))
    }
    if (a === 'workspaces' && b && c === 'projects' && d && !e && method === 'GET') {
      const cl = requireCaller(req, 'project')
      if (cl.token.kind === 'repository') throw apiError(403, 'Forbidden')
      const w = state.workspace(b)
      const p = w && state.projectsOf(b).find((x) => x.key === d)
      const mine =
        cl.token.kind === 'project'
          ? cl.token.workspace === b && cl.token.project === d
          : reaches(cl, b)
      if (!w || !p || !mine) throw apiError(404, `Project ${d} not found`)
      return sendJson(res, 200, {
        ...render.projectRest(w, urls, p),
        owner: {
          type: 'team',
          uuid: w.uuid,
          username: w.slug,
          display_name: w.name,
        },
        is_private: true,
        description: '',
        created_on: w.createdOn,
        updated_on: w.createdOn,
        has_publicly_visible_repos: state.data.repositories.some(
          (r) => r.workspace === b && !r.isPrivate && state.projectOf(r).key === d,
        ),
      })
    }
    if (a !== 'repositories' || !b) throw apiError(404, 'Resource not found')
    const cl = caller(req)
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
        (r) =>
          r.workspace === b &&
          (!pm || state.projectOf(r).key === pm[1]) &&
          (!r.isPrivate || (cl && reachesRepo(cl, r))),
      )
      const { page, pagelen } = pageParams(u)
      const all = await Promise.all(visible.map(repoJson))
      return sendJson(res, 200, render.paginated(all, page, pagelen, u))
    }
    const repo = findRepo(cl, b, c)
    const dir = state.repoDir(b, c)
    const full = `${b}/${c}`
    if (!d) {
      if (method !== 'GET') throw new HttpError(405, 'Method not allowed', { Allow: 'GET' })
      return sendJson(res, 200, await repoJson(repo))
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
        const info = id && (await commitInfo(dir, id))
        if (!info) throw apiError(404, `Branch not found: ${name}`)
        return sendJson(
          res,
          200,
          render.branch(name, render.commit(info, full, urls, state.data.users), full, urls),
        )
      }
      const wanted = branchFilter(u.searchParams.get('q'))
      const all = [...(await refs(dir)).entries()].filter(
        ([r]) => r.startsWith('refs/heads/') && wanted(r.slice(11)),
      )
      const { page, pagelen } = pageParams(u)
      const values = []
      for (const [ref, id] of all) {
        const info = await commitInfo(dir, id)
        if (info)
          values.push(
            render.branch(
              ref.slice(11),
              render.commit(info, full, urls, state.data.users),
              full,
              urls,
            ),
          )
      }
      const listing = render.paginated(values, page, pagelen, u)
      return sendJson(res, 200, projectFields(listing, u.searchParams.get('fields')))
    }
    if (d === 'commit' && e && !f && method === 'GET') {
      const info = /^[0-9a-f]{4,40}$/.test(e) ? await commitInfo(dir, e) : undefined
      if (!info) throw apiError(404, `Commit not found: ${e}`)
      return sendJson(res, 200, render.commit(info, full, urls, state.data.users))
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
      const { page, pagelen } = pageParams(u, 500)
      const entries = (await diff(dir, head, base)).map(render.diffstat)
      return sendJson(res, 200, render.paginated(entries, page, pagelen, u))
    }
    if (d === 'hooks') return hooks(req, res, u, repo, cl, e)
    if (d === 'pullrequests') return pullRequests(req, res, u, repo, cl, e, f)
    throw apiError(404, 'Resource not found')
  }

  async function hooks(
    req: IncomingMessage,
    res: ServerResponse,
    u: URL,
    repo: SbRepository,
    cl: Caller | undefined,
    uid?: string,
  ) {
    if (!cl) throw apiError(401, 'Authentication required')
    const writes = req.method === 'POST' || req.method === 'DELETE' || req.method === 'PUT'
    const granular = writes ? 'write:webhook:bitbucket' : 'read:webhook:bitbucket'
    if (!hasScope(cl, 'webhook', granular))
      throw apiError(
        403,
        `Your credentials lack one or more required privilege scopes: ${cl.token.kind === 'api' ? granular : 'webhook'}`,
      )
    if (!reachesRepo(cl, repo)) throw apiError(403, 'You do not have access to this repository')
    const w = state.workspace(repo.workspace)!
    if (cl.username && !w.admins.includes(cl.username))
      throw apiError(403, 'You need admin access to the repository to manage webhooks')
    const repoJ = await repoJson(repo)
    const mine = state.data.hooks.filter(
      (h) => h.workspace === repo.workspace && h.slug === repo.slug,
    )
    const method = req.method ?? 'GET'
    if (!uid) {
      if (method === 'GET') {
        const { page, pagelen } = pageParams(u)
        return sendJson(
          res,
          200,
          render.paginated(
            mine.map((h) => render.hook(h, repoJ)),
            page,
            pagelen,
            u,
          ),
        )
      }
      if (method !== 'POST') throw new HttpError(405, 'Method not allowed', { Allow: 'GET, POST' })
      const body = await readJson(req)
      const url = body['url']
      const events = body['events']
      if (typeof url !== 'string' || !/^https?:\/\//.test(url))
        throw apiError(400, 'url: Enter a valid URL.')
      if (
        !Array.isArray(events) ||
        events.length === 0 ||
        !events.every((x) => typeof x === 'string' && HOOK_EVENTS.has(x))
      )
        throw apiError(400, 'events: one or more valid event keys are required')
      if (events.some((x) => String(x).startsWith('pullrequest:')) && !hasScope(cl, 'pullrequest'))
        throw apiError(
          403,
          'Your credentials lack one or more required privilege scopes: pullrequest',
        )
      const h = {
        uuid: state.newUuid(),
        workspace: repo.workspace,
        slug: repo.slug,
        url,
        description: typeof body['description'] === 'string' ? body['description'] : '',
        secret: typeof body['secret'] === 'string' && body['secret'] !== '' ? body['secret'] : null,
        events: events as string[],
        active: body['active'] !== false,
        createdAt: now(),
      }
      state.data.hooks.push(h)
      state.save()
      return sendJson(res, 201, render.hook(h, repoJ))
    }
    const id = decodeURIComponent(uid)
    const h = mine.find((x) => x.uuid === id || x.uuid === `{${id}}`)
    if (!h) throw apiError(404, 'Webhook not found')
    if (method === 'GET') return sendJson(res, 200, render.hook(h, repoJ))
    if (method === 'DELETE') {
      state.data.hooks = state.data.hooks.filter((x) => x !== h)
      state.save()
      res.writeHead(204).end()
      return
    }
    throw new HttpError(405, 'Method not allowed', { Allow: 'GET, DELETE' })
  }

  async function pullRequests(
    req: IncomingMessage,
    res: ServerResponse,
    u: URL,
    repo: SbRepository,
    cl: Caller | undefined,
    id?: string,
    action?: string,
  ) {
    const method = req.method ?? 'GET'
    const dir = state.repoDir(repo.workspace, repo.slug)
    const mine = state.data.pullRequests.filter(
      (p) => p.workspace === repo.workspace && p.slug === repo.slug,
    )
    if (!id) {
      if (method === 'GET') {
        const { page, pagelen } = pageParams(u, 50)
        const values = []
        for (const p of mine.filter((x) => x.state === 'OPEN'))
          values.push((await prPayload(repo, p, undefined)).json)
        return sendJson(res, 200, render.paginated(values, page, pagelen, u))
      }
      if (method !== 'POST') throw new HttpError(405, 'Method not allowed', { Allow: 'GET, POST' })
      if (!cl?.username) throw apiError(401, 'A user is needed to create a pull request')
      const body = await readJson(req)
      const title = body['title']
      const source = (body['source'] as { branch?: { name?: string } } | undefined)?.branch?.name
      const destination =
        (body['destination'] as { branch?: { name?: string } } | undefined)?.branch?.name ??
        (await mainBranch(repo))
      if (typeof title !== 'string' || title === '')
        throw apiError(400, 'title: This field is required.')
      if (!source || !(await resolveRef(dir, `refs/heads/${source}`)))
        throw apiError(400, 'source: branch not found')
      if (!destination || !(await resolveRef(dir, `refs/heads/${destination}`)))
        throw apiError(400, 'destination: branch not found')
      const p = {
        id: state.data.nextPullRequestId++,
        workspace: repo.workspace,
        slug: repo.slug,
        title,
        description: typeof body['description'] === 'string' ? body['description'] : '',
        author: cl.username,
        sourceBranch: source,
        destinationBranch: destination,
        state: 'OPEN' as const,
        mergeCommit: null,
        createdOn: now(),
        updatedOn: now(),
      }
      state.data.pullRequests.push(p)
      state.save()
      const out = await prPayload(repo, p, cl.username)
      track(deliver(state, repo, 'pullrequest:created', out.hook))
      return sendJson(res, 201, out.json)
    }
    const p = mine.find((x) => String(x.id) === id)
    if (!p) throw apiError(404, 'Pull request not found')
    if (!action && method === 'GET')
      return sendJson(res, 200, (await prPayload(repo, p, undefined)).json)
    if (!cl?.username) throw apiError(401, 'A user is needed to change a pull request')
    if (p.state !== 'OPEN') throw apiError(400, `The pull request is ${p.state}`)
    if (!action && method === 'PUT') {
      const body = await readJson(req)
      if (typeof body['title'] === 'string') p.title = body['title']
      if (typeof body['description'] === 'string') p.description = body['description']
      p.updatedOn = now()
      state.save()
      const out = await prPayload(repo, p, cl.username)
      track(deliver(state, repo, 'pullrequest:updated', out.hook))
      return sendJson(res, 200, out.json)
    }
    if (action === 'decline' && method === 'POST') {
      p.state = 'DECLINED'
      p.closedBy = cl.username
      p.updatedOn = now()
      state.save()
      const out = await prPayload(repo, p, cl.username)
      track(deliver(state, repo, 'pullrequest:rejected', out.hook))
      return sendJson(res, 200, out.json)
    }
    if (action === 'merge' && method === 'POST') {
      const before = await refs(dir)
      const target = before.get(`refs/heads/${p.destinationBranch}`)
      const src = before.get(`refs/heads/${p.sourceBranch}`)
      const user = state.user(cl.username)!
      const merged =
        target &&
        src &&
        (await mergeCommit(
          dir,
          target,
          src,
          `Merged in ${p.sourceBranch} (pull request #${p.id})`,
          { name: user.displayName, email: user.email },
        ))
      if (!merged) throw apiError(409, 'The pull request has conflicts')
      await git(dir, ['update-ref', `refs/heads/${p.destinationBranch}`, merged, target!])
      p.state = 'MERGED'
      p.mergeCommit = merged
      p.closedBy = cl.username
      p.updatedOn = now()
      state.save()
      const out = await prPayload(repo, p, cl.username)
      track(deliver(state, repo, 'pullrequest:fulfilled', out.hook))
      await notifyPush(repo, cl.username, before)
      return sendJson(res, 200, out.json)
    }
    throw apiError(404, 'Resource not found')
  }

  // ---- web: archives and Git -----------------------------------------------------------------

  /**
   * Who a Git request comes from: `x-token-auth` with an OAuth or access token; an Atlassian API
   * token with the static user `x-bitbucket-api-token-auth` or the account's username
   * (support.atlassian.com/bitbucket-cloud/docs/using-api-tokens); a user's own password (the
   * sandbox's convenience).
   */
  function gitCaller(
    req: IncomingMessage,
  ): Caller | { username: string; token?: undefined } | undefined {
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
      const u = state.user(b.user)
      return u && safeEqual(u.password, b.password) ? { username: u.username } : undefined
    }
    return caller(req)
  }

  function gitReaches(c: ReturnType<typeof gitCaller>, ws: string, slug: string): boolean {
    if (!c) return false
    const r = state.repository(ws, slug)
    if (c.token) return !!r && reachesRepo(c as Caller, r) && hasScope(c as Caller, 'repository')
    return state.isMember(c.username, ws)
  }

  async function web(req: IncomingMessage, res: ServerResponse, u: URL, parts: string[]) {
    const [ws, second, third, fourth] = parts
    const challenge = { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' }
    if (ws && second?.endsWith('.git')) {
      const slug = second.slice(0, -4)
      const repo = state.repository(ws, slug)
      if (!repo) throw new HttpError(404, 'Repository not found')
      const isPush =
        u.searchParams.get('service') === 'git-receive-pack' || third === 'git-receive-pack'
      const c = gitCaller(req)
      if (req.headers.authorization && !c)
        throw new HttpError(401, 'Authentication failed', challenge)
      if ((repo.isPrivate || isPush) && !gitReaches(c, ws, slug))
        throw new HttpError(c ? 403 : 401, 'Access denied', c ? {} : challenge)
      const before =
        isPush && req.method === 'POST' ? await refs(state.repoDir(ws, slug)) : undefined
      await gitHttpBackend(req, res, {
        projectRoot: `${state.dataDir}/repos`,
        pathInfo: `/${ws}/${second}/${parts.slice(2).join('/')}`,
        query: u.search.slice(1),
        remoteUser: c?.username ?? 'x-token-auth',
      })
      if (before) await notifyPush(repo, c?.username, before)
      return
    }
    if (ws && second && third === 'get' && fourth) {
      const m = /^(.+)\.(zip|tar\.gz)$/.exec(fourth)
      const repo = state.repository(ws, second)
      if (!m || !repo) throw new HttpError(404, 'Not found')
      // bitbucket.org's downloads are its website, which takes no token (OAuth, access tokens):
      // "This endpoint does not support token-based authentication" (403), as Atlassian answered
      // on Stack Overflow (34452088) and as composer#5584 found for /get/ archives. A private
      // repository without a session sends the browser to the login page.
      const basic = basicAuth(req)
      if (
        bearer(req) ||
        basic?.user === 'x-token-auth' ||
        basic?.user === 'x-bitbucket-api-token-auth' ||
        u.searchParams.has('access_token')
      )
        throw new HttpError(403, 'This endpoint does not support token-based authentication.')
      const c = gitCaller(req)
      if (req.headers.authorization && !c) throw new HttpError(401, 'Authentication failed')
      if (repo.isPrivate && !c)
        throw new HttpError(302, 'Log in to download this repository', {
          Location: `${urls.web}/account/signin/?next=${encodeURIComponent(u.pathname)}`,
        })
      if (repo.isPrivate && !gitReaches(c, ws, second)) throw new HttpError(403, 'Access denied')
      const dir = state.repoDir(ws, second)
      const id = await resolveRef(dir, m[1]!)
      if (!id) throw new HttpError(404, 'No such revision')
      const format = m[2] as 'zip' | 'tar.gz'
      const prefix = `${ws}-${second}-${id.slice(0, 12)}`
      const p = archive(dir, id, format, prefix)
      res.writeHead(200, {
        'Content-Type': format === 'zip' ? 'application/zip' : 'application/x-gzip',
        'Content-Disposition': `attachment; filename="${prefix}.${format}"`,
      })
      p.stdout.pipe(res)
      p.on('error', () => res.destroy())
      return
    }
    throw new HttpError(404, 'Not found')
  }

  // ---- admin API -----------------------------------------------------------------------------

  async function admin(req: IncomingMessage, res: ServerResponse, parts: string[]) {
    const method = req.method ?? 'GET'
    const [a, b, c, d] = parts
    if (!a && method === 'GET')
      return sendJson(res, 200, {
        service: 'bitbucket-sandbox',
        web: urls.web,
        api: urls.api,
        endpoints: [
          'POST /_sandbox/users {username, password, displayName?, email?}',
          'POST /_sandbox/workspaces {slug, name?, admins?: [username], members?: [username]}',
          'POST /_sandbox/projects {workspace, key, name?}',
          'POST /_sandbox/repositories {workspace, slug, project?, isPrivate?, mainbranch?, files?: {path: content}}',
          'POST /_sandbox/repositories/{workspace}/{slug}/commits {branch, message, files: {path: content|null}, author?: username}',
          'POST /_sandbox/consumers {key, secret?, callbackUrl}',
          'POST /_sandbox/access-tokens {workspace, project? | repository?, scopes?, expiresIn?}',
          'POST /_sandbox/api-tokens {username, scopes?, expiresIn?}',
          'POST /_sandbox/tokens/revoke {token}',
          'POST /_sandbox/tokens/restore {token}',
          'POST /_sandbox/users/{username}/revoke-grants',
          'POST /_sandbox/users/{username}/restore-grants',
          'PUT /_sandbox/settings {accessTokenLifetimeSeconds?, maxPagelen?, tokenDelayMs?}',
          'POST /_sandbox/failures {count, status, retryAfter?, method?, path?}',
          'GET|PUT|DELETE /_sandbox/rate-limits {enabled?, windowMs?, repositories?, webhooks?, anonymous?, seats?}',
          'GET /_sandbox/stats',
          'GET /_sandbox/deliveries',
          'POST /_sandbox/deliveries/{id}/resend',
        ],
      })
    if (method === 'GET' && a === 'stats' && !b)
      return sendJson(res, 200, { ...state.stats, hooks: state.data.hooks.length })
    if (method === 'GET' && a === 'deliveries' && !b)
      return sendJson(res, 200, { deliveries: state.deliveries })
    if (method === 'POST' && a === 'deliveries' && b && c === 'resend' && !d) {
      const sent = redeliver(state, b)
      if (!sent) throw new HttpError(404, `No delivery ${b} to resend`)
      await sent
      return sendJson(res, 200, { resent: b })
    }
    if (method === 'GET' && a === 'hooks' && !b)
      return sendJson(res, 200, {
        hooks: state.data.hooks.map((h) => ({ ...h, secret: h.secret ? '(set)' : null })),
      })
    const body = method === 'POST' || method === 'PUT' ? await readJson(req) : {}
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined)
    if (method === 'POST' && a === 'users' && !b) {
      const username = str('username') ?? ''
      if (!SLUG.test(username))
        throw new HttpError(400, 'username must be lower-case letters, digits, _ . -')
      if (state.user(username)) throw new HttpError(409, `User ${username} exists`)
      const u = {
        username,
        password: str('password') ?? randomBytes(12).toString('base64url'),
        uuid: state.newUuid(),
        accountId: randomBytes(12).toString('hex'),
        displayName: str('displayName') ?? username,
        email: str('email') ?? `${username}@example.com`,
        createdOn: now(),
      }
      state.data.users.push(u)
      state.save()
      return sendJson(res, 201, {
        username: u.username,
        password: u.password,
        uuid: u.uuid,
        email: u.email,
      })
    }
    if (method === 'POST' && a === 'workspaces' && !b) {
      const slug = str('slug') ?? ''
      if (!SLUG.test(slug))
        throw new HttpError(400, 'slug must be lower-case letters, digits, _ . -')
      if (state.workspace(slug)) throw new HttpError(409, `Workspace ${slug} exists`)
      const list = (k: string) => (Array.isArray(body[k]) ? (body[k] as unknown[]).map(String) : [])
      for (const name of [...list('admins'), ...list('members')])
        if (!state.user(name)) throw new HttpError(400, `No user '${name}'`)
      const w = {
        slug,
        name: str('name') ?? slug,
        uuid: state.newUuid(),
        admins: list('admins'),
        members: list('members'),
        createdOn: now(),
      }
      state.data.workspaces.push(w)
      state.save()
      return sendJson(res, 201, { slug: w.slug, uuid: w.uuid, name: w.name })
    }
    if (method === 'POST' && a === 'repositories' && !b) {
      const r = await createRepository(body)
      const dir = state.repoDir(r.workspace, r.slug)
      return sendJson(res, 201, {
        fullName: `${r.workspace}/${r.slug}`,
        uuid: r.uuid,
        head: (await refs(dir)).get(`refs/heads/${await mainBranch(r)}`) ?? null,
      })
    }
    if (method === 'POST' && a === 'repositories' && b && c && d === 'commits') {
      const r = state.repository(b, c)
      if (!r) throw new HttpError(404, 'Repository not found')
      const branch = str('branch') ?? (await mainBranch(r)) ?? 'main'
      const files = body['files']
      if (!files || typeof files !== 'object' || Array.isArray(files))
        throw new HttpError(400, 'files must be an object of path → content (null deletes)')
      const author = state.user(str('author') ?? '')
      const dir = state.repoDir(b, c)
      const before = await refs(dir)
      const id = await commitFiles(
        dir,
        branch,
        files as Record<string, string | null>,
        str('message') ?? 'Update',
        {
          name: author?.displayName ?? 'Sandbox',
          email: author?.email ?? 'sandbox@bitbucket.invalid',
        },
      )
      await notifyPush(r, author?.username, before)
      return sendJson(res, 201, { commit: id, branch })
    }
    if (method === 'POST' && a === 'consumers' && !b) {
      const key = str('key') ?? ''
      const callbackUrl = str('callbackUrl') ?? ''
      if (!key || !/^https?:\/\//.test(callbackUrl))
        throw new HttpError(400, 'key and an http(s) callbackUrl are required')
      const cons = {
        key,
        secret: str('secret') ?? randomBytes(24).toString('base64url'),
        callbackUrl,
      }
      state.data.consumers = state.data.consumers.filter((x) => x.key !== key).concat(cons)
      state.save()
      return sendJson(res, 201, cons)
    }
    if (method === 'POST' && a === 'projects' && !b) {
      const ws = str('workspace') ?? ''
      const key = str('key') ?? ''
      if (!state.workspace(ws)) throw new HttpError(404, `No workspace '${ws}'`)
      if (!PROJECT_KEY.test(key))
        throw new HttpError(400, 'key must be a project key (letters, digits, _)')
      if (state.projectsOf(ws).some((p) => p.key === key))
        throw new HttpError(409, `Project ${key} exists in ${ws}`)
      const p = state.ensureProject(ws, key, str('name'))
      state.save()
      return sendJson(res, 201, { workspace: ws, key: p.key, uuid: p.uuid, name: p.name })
    }
    if (method === 'POST' && a === 'access-tokens' && !b) {
      // A workspace access token, or with `project`/`repository` a project or repository one
      // (Bitbucket: Workspace, Project or Repository settings → Access tokens).
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
      const fallback = DEFAULT_SCOPES.filter((x) => x !== 'account').concat(
        project !== undefined ? ['project'] : [],
      )
      const scopes = Array.isArray(body['scopes'])
        ? (body['scopes'] as unknown[]).map(String)
        : repository === undefined && project === undefined
          ? DEFAULT_SCOPES
          : fallback
      const expiresIn = typeof body['expiresIn'] === 'number' ? body['expiresIn'] : undefined
      const t: SbToken =
        repository !== undefined
          ? { kind: 'repository', workspace: ws, repository, scopes, revoked: false }
          : project !== undefined
            ? { kind: 'project', workspace: ws, project, scopes, revoked: false }
            : { kind: 'workspace', workspace: ws, scopes, revoked: false }
      if (expiresIn !== undefined) t.expiresAt = Date.now() + expiresIn * 1000
      const token = state.newToken(t)
      state.save()
      return sendJson(res, 201, {
        token,
        kind: t.kind,
        workspace: ws,
        ...(project !== undefined ? { project } : {}),
        ...(repository !== undefined ? { repository } : {}),
        scopes,
      })
    }
    if (method === 'POST' && a === 'api-tokens' && !b) {
      // An Atlassian API token with Bitbucket scopes (id.atlassian.com → Security → API tokens).
      const user = state.user(str('username') ?? '')
      if (!user) throw new HttpError(404, `No user '${str('username') ?? ''}'`)
      const scopes = Array.isArray(body['scopes'])
        ? (body['scopes'] as unknown[]).map(String)
        : API_TOKEN_DEFAULT_SCOPES
      const expiresIn = typeof body['expiresIn'] === 'number' ? body['expiresIn'] : undefined
      const t: SbToken = { kind: 'api', username: user.username, scopes, revoked: false }
      if (expiresIn !== undefined) t.expiresAt = Date.now() + expiresIn * 1000
      const token = state.newToken(t)
      state.save()
      return sendJson(res, 201, { token, username: user.username, email: user.email, scopes })
    }
    if (method === 'POST' && a === 'tokens' && (b === 'revoke' || b === 'restore') && !c) {
      const token = str('token') ?? ''
      const t = Object.hasOwn(state.data.tokens, token) ? state.data.tokens[token] : undefined
      if (!t) throw new HttpError(404, 'No such token')
      t.revoked = b === 'revoke'
      state.save()
      return sendJson(res, 200, { revoked: t.revoked })
    }
    if (method === 'POST' && a === 'users' && b && c === 'revoke-grants') {
      // Revokes every OAuth grant of the user (what "revoke access" on the consumer does).
      let n = 0
      for (const t of Object.values(state.data.tokens))
        if (t.username === b && t.kind === 'refresh' && !t.revoked) {
          t.revoked = true
          n++
        }
      state.save()
      return sendJson(res, 200, { revoked: n })
    }
    if (method === 'POST' && a === 'users' && b && c === 'restore-grants') {
      let n = 0
      for (const t of Object.values(state.data.tokens))
        if (t.username === b && t.kind === 'refresh' && t.revoked) {
          t.revoked = false
          n++
        }
      state.save()
      return sendJson(res, 200, { restored: n })
    }
    if (method === 'PUT' && a === 'settings' && !b) {
      const lifetime = body['accessTokenLifetimeSeconds']
      const maxPagelen = body['maxPagelen']
      if (lifetime !== undefined) {
        if (typeof lifetime !== 'number' || lifetime < 1)
          throw new HttpError(400, 'accessTokenLifetimeSeconds must be a positive number')
        state.data.settings.accessTokenLifetimeSeconds = lifetime
      }
      const tokenDelayMs = body['tokenDelayMs']
      if (tokenDelayMs !== undefined) {
        if (
          tokenDelayMs !== null &&
          (typeof tokenDelayMs !== 'number' || tokenDelayMs < 0 || tokenDelayMs > 10_000)
        )
          throw new HttpError(400, 'tokenDelayMs must be 0–10000 or null')
        if (tokenDelayMs === null) delete state.data.settings.tokenDelayMs
        else state.data.settings.tokenDelayMs = tokenDelayMs
      }
      if (maxPagelen !== undefined) {
        if (maxPagelen !== null && (typeof maxPagelen !== 'number' || maxPagelen < 1))
          throw new HttpError(400, 'maxPagelen must be a positive number or null')
        if (maxPagelen === null) delete state.data.settings.maxPagelen
        else state.data.settings.maxPagelen = maxPagelen
      }
      state.save()
      return sendJson(res, 200, state.data.settings)
    }
    if (a === 'rate-limits' && !b) return sendJson(res, 200, limiter.admin(method, body))
    if (method === 'POST' && a === 'failures' && !b) {
      const count = body['count']
      const status = body['status']
      if (typeof count !== 'number' || typeof status !== 'number')
        throw new HttpError(400, 'count and status are numbers')
      state.failures = { count, status }
      if (typeof body['retryAfter'] === 'number') state.failures.retryAfter = body['retryAfter']
      // Aimed at one request (method and/or exact path), so background calls cannot take it.
      if (typeof body['method'] === 'string') state.failures.method = body['method']
      if (typeof body['path'] === 'string') state.failures.path = body['path']
      return sendJson(res, 200, state.failures)
    }
    throw new HttpError(404, 'No such sandbox admin endpoint (GET /_sandbox lists them)')
  }

  // ---- dispatch ------------------------------------------------------------------------------

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', urls.web || 'http://localhost')
    const segments = u.pathname.split('/').filter((s) => s !== '')
    let parts: string[]
    try {
      parts = segments.map((s) => decodeURIComponent(s))
    } catch {
      parts = segments
    }
    const route = async () => {
      if (u.pathname === '/site/oauth2/authorize') return authorize(req, res, u)
      if (u.pathname === '/site/oauth2/access_token') return accessToken(req, res)
      if (parts[0] === '2.0') return api(req, res, u, parts.slice(1))
      if (parts[0] === '_sandbox') return admin(req, res, parts.slice(1))
      return web(req, res, u, parts)
    }
    route().catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      const e = err instanceof HttpError ? err : new HttpError(500, 'Sandbox error')
      if (!(err instanceof HttpError))
        process.stderr.write(`bitbucket sandbox: ${(err as Error).stack ?? String(err)}\n`)
      sendJson(res, e.status, render.error(e.message), e.headers)
    })
  })
  server.on('clientError', (_e, socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? 7990, o.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const host = o.host ?? '127.0.0.1'
  urls = { web: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, api: '' }
  urls.api = `${urls.web}/2.0`
  if (!existsSync(o.dataDir)) mkdirSync(o.dataDir, { recursive: true, mode: 0o700 })
  const sandbox: BitbucketSandbox = {
    url: urls.web,
    apiUrl: urls.api,
    state,
    rateLimits: limiter,
    settled: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  if (consumer) sandbox.consumer = consumer
  return sandbox
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
