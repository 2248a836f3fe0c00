/**
 * @module providers/bitbucket/bitbucket-provider
 * Bitbucket Cloud through an OAuth 2.0 consumer (providers.md §1.1, §1.4): authorization-code flow
 * with refresh, REST 2.0 with pagination followed, archives and clones over Git HTTPS with
 * `x-token-auth`. Base URLs are configuration, so the same adapter runs against the sandbox.
 */
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import { gitArchive } from '../git-archive.js'
import { HttpClient, type HttpClientOptions } from '../http-client.js'
import type {
  ArchiveOptions,
  BranchHeads,
  BranchInfo,
  ChangedFile,
  CommitInfo,
  GitProvider,
  InstallationTarget,
  OAuthApp,
  Page,
  ProviderCredentials,
  ProviderEndpoints,
  RawWebhook,
  RepositoryInfo,
  WebhookRef,
  WebhookSpec,
  WebLinks,
} from '../provider.js'
import {
  toBranch,
  toChangedFile,
  toCommit,
  toRepository,
  toTarget,
  type BbBranch,
  type BbCommit,
  type BbDiffstat,
  type BbPage,
  type BbProject,
  type BbRepository,
  type BbWorkspace,
  type BbWorkspaceAccess,
} from './convert.js'
import { parseBitbucketWebhook } from './webhook.js'

export const BITBUCKET_DEFAULTS: ProviderEndpoints = {
  webUrl: 'https://bitbucket.org',
  apiUrl: 'https://api.bitbucket.org/2.0',
}

/** The webhook events a source connection subscribes to. */
const HOOK_EVENTS = {
  push: ['repo:push'],
  pull_request: [
    'pullrequest:created',
    'pullrequest:updated',
    'pullrequest:fulfilled',
    'pullrequest:rejected',
  ],
}

/** A repository id `workspace/slug` with both parts in Bitbucket's slug alphabet. */
const FULL_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/

interface TokenAnswer {
  access_token?: string
  refresh_token?: string
  expires_in?: number
  token_type?: string
  scopes?: string
  error?: string
  error_description?: string
}

export class BitbucketProvider implements GitProvider {
  readonly type = 'Bitbucket'
  readonly capabilities = { hosts: false, tokenRefresh: true, changedFilesInPushEvents: false }
  readonly #endpoints: ProviderEndpoints
  readonly #app: () => OAuthApp | undefined
  readonly #http: HttpClient

  constructor(o: {
    endpoints?: ProviderEndpoints
    /** The OAuth consumer, or a function giving the current one (it can change at run time). */
    app?: OAuthApp | (() => OAuthApp | undefined)
    http?: HttpClientOptions
  }) {
    const e = o.endpoints ?? BITBUCKET_DEFAULTS
    this.#endpoints = { webUrl: e.webUrl.replace(/\/+$/, ''), apiUrl: e.apiUrl.replace(/\/+$/, '') }
    const app = o.app
    this.#app = typeof app === 'function' ? app : () => app
    this.#http = new HttpClient('Bitbucket', o.http)
  }

  get endpoints(): ProviderEndpoints {
    return this.#endpoints
  }

  #requireApp(): OAuthApp {
    const app = this.#app()
    if (!app)
      throw new ProviderRequestFailed(
        'No Bitbucket OAuth consumer is configured (start junction serve with --bitbucket-client-id and --bitbucket-client-secret)',
      )
    return app
  }

  authorizationUrl(state: string): URL {
    const app = this.#requireApp()
    const u = new URL(`${this.#endpoints.webUrl}/site/oauth2/authorize`)
    u.searchParams.set('client_id', app.clientId)
    u.searchParams.set('response_type', 'code')
    u.searchParams.set('state', state)
    return u
  }

  async #token(form: Record<string, string>): Promise<ProviderCredentials> {
    const app = this.#requireApp()
    const res = await this.#http.request(`${this.#endpoints.webUrl}/site/oauth2/access_token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: new URLSearchParams(form),
      accept: [400, 401],
    })
    const body = (await res.json().catch(() => ({}))) as TokenAnswer
    if (!res.ok || !body.access_token) {
      const why = body.error_description ?? body.error ?? `status ${res.status}`
      throw new ProviderAuthFailed(
        `Bitbucket refused the token request: ${String(why).slice(0, 200)}`,
        res.status,
      )
    }
    const c: ProviderCredentials = { kind: 'oauth', accessToken: body.access_token }
    if (body.refresh_token) c.refreshToken = body.refresh_token
    if (typeof body.expires_in === 'number') c.expiresAt = Date.now() + body.expires_in * 1000
    return c
  }

  exchangeCode(code: string): Promise<ProviderCredentials> {
    return this.#token({ grant_type: 'authorization_code', code })
  }

  async refreshCredentials(c: ProviderCredentials): Promise<ProviderCredentials> {
    if (c.kind !== 'oauth' || !c.refreshToken)
      throw new ProviderAuthFailed('This Bitbucket credential cannot be refreshed')
    const next = await this.#token({ grant_type: 'refresh_token', refresh_token: c.refreshToken })
    // Bitbucket may keep the refresh token; keep the old one when none came back.
    next.refreshToken ??= c.refreshToken
    if (c.reach) next.reach = c.reach
    return next
  }

  /**
   * How each credential authenticates to the REST API: OAuth and access tokens (repository,
   * project, workspace) as a Bearer token; an Atlassian API token only as Basic auth with the
   * account's email (sent as Bearer, Bitbucket answers 401 "Token is invalid, expired, or not
   * supported for this endpoint"). Sources: support.atlassian.com/bitbucket-cloud/docs/
   * {using-access-tokens,using-workspace-access-tokens,using-project-access-tokens,using-api-tokens}.
   */
  #auth(c: ProviderCredentials): Record<string, string> {
    if (c.kind === 'api-token')
      return {
        Authorization: `Basic ${Buffer.from(`${c.email ?? ''}:${c.accessToken}`).toString('base64')}`,
        Accept: 'application/json',
      }
    return { Authorization: `Bearer ${c.accessToken}`, Accept: 'application/json' }
  }

  /** An absolute URL under the API base: `next` links are followed only there (no open redirect). */
  #underApi(url: string): string {
    if (!url.startsWith(`${this.#endpoints.apiUrl}/`))
      throw new ProviderRequestFailed('The page token does not belong to this provider')
    return url
  }

  async #page<T, U>(c: ProviderCredentials, url: string, map: (v: T) => U): Promise<Page<U>> {
    const page = await this.#http.json<BbPage<T>>(this.#underApi(url), { headers: this.#auth(c) })
    const out: Page<U> = { items: (page.values ?? []).map(map) }
    if (page.next) out.next = this.#underApi(page.next)
    return out
  }

  async #all<T, U>(
    c: ProviderCredentials,
    url: string,
    map: (v: T) => U,
    max = 10_000,
  ): Promise<U[]> {
    const items: U[] = []
    let next: string | undefined = url
    while (next && items.length < max) {
      const page: Page<U> = await this.#page(c, next, map)
      items.push(...page.items)
      next = page.next
    }
    return items
  }

  #repo(fullName: string): string {
    if (!FULL_NAME.test(fullName))
      throw new ProviderNotFound(
        `'${fullName.slice(0, 200)}' is not a Bitbucket repository id (workspace/slug)`,
      )
    const [ws, slug] = fullName.split('/') as [string, string]
    return `${this.#endpoints.apiUrl}/repositories/${encodeURIComponent(ws)}/${encodeURIComponent(slug)}`
  }

  async listInstallationTargets(c: ProviderCredentials): Promise<InstallationTarget[]> {
    return this.#all<BbWorkspaceAccess, InstallationTarget>(
      c,
      `${this.#endpoints.apiUrl}/user/workspaces?pagelen=100`,
      (a) => toTarget(a.workspace, a.administrator === true),
    )
  }

  /**
   * Verifies the credential against what its kind can be asked, never an endpoint Bitbucket
   * refuses it: repository and project access tokens "can't be used to manage or interact with
   * workspaces" (support.atlassian.com/bitbucket-cloud/docs/access-tokens), so their workspace is
   * read from the repository or project they were issued to; a user's API or OAuth token is
   * checked for membership through `/user/workspaces`. Then the reach: the repository
   * (`GET /repositories/{ws}/{slug}`) or the project (`GET /workspaces/{ws}/projects/{key}`, the
   * `project` scope), and the workspace's repositories listing (the `repository` scope).
   */
  async verifyTarget(c: ProviderCredentials, target: string): Promise<InstallationTarget> {
    if (!/^[A-Za-z0-9_.-]+$/.test(target))
      throw new ProviderNotFound(`'${target.slice(0, 100)}' is not a workspace slug`)
    const ws = encodeURIComponent(target)
    const reach = c.reach ?? {}
    const level = c.kind === 'access-token' ? (c.level ?? 'workspace') : undefined
    if (level === 'repository' && !reach.repository)
      throw new ProviderRequestFailed('A repository access token reaches one repository: name it')
    if (level === 'project' && !reach.project && !reach.repository)
      throw new ProviderRequestFailed('A project access token reaches one project: name its key')
    if (c.kind === 'api-token' && !c.email)
      throw new ProviderRequestFailed('An API token is used with its Atlassian account email')
    let w: BbWorkspace | undefined
    let administrator = false
    if (level === 'workspace')
      w = await this.#http.json<BbWorkspace>(`${this.#endpoints.apiUrl}/workspaces/${ws}`, {
        headers: this.#auth(c),
      })
    else if (c.kind === 'oauth' || c.kind === 'api-token') {
      const mine = await this.listInstallationTargets(c)
      const t = mine.find((x) => x.slug === target)
      if (!t) throw new ProviderNotFound(`The token's user is not a member of workspace ${target}`)
      w = { uuid: t.id, slug: t.slug, name: t.name }
      administrator = t.administrator
    }
    if (reach.project) {
      if (!/^[A-Za-z0-9_]{1,64}$/.test(reach.project))
        throw new ProviderNotFound(`'${reach.project.slice(0, 80)}' is not a project key`)
      const p = await this.#http.json<BbProject>(
        `${this.#endpoints.apiUrl}/workspaces/${ws}/projects/${encodeURIComponent(reach.project)}`,
        { headers: this.#auth(c) },
      )
      const owner =
        p.workspace ??
        (p.owner && {
          uuid: p.owner.uuid,
          slug: p.owner.username ?? target,
          name: p.owner.display_name ?? target,
        })
      w ??= owner
    }
    if (reach.repository) {
      const r = await this.#http.json<BbRepository>(this.#repo(`${target}/${reach.repository}`), {
        headers: this.#auth(c),
      })
      if (reach.project && r.project?.key !== reach.project)
        throw new ProviderNotFound(
          `Repository ${target}/${reach.repository} is not in project ${reach.project}`,
        )
      w ??= r.workspace
    }
    // The token must reach the workspace's (or project's) repositories: the `repository` scope.
    if (!reach.repository) {
      const q = reach.project ? `&q=${encodeURIComponent(`project.key="${reach.project}"`)}` : ''
      const res = await this.#http.request(
        `${this.#endpoints.apiUrl}/repositories/${ws}?pagelen=1${q}`,
        { headers: this.#auth(c) },
      )
      await res.body?.cancel()
    }
    if (!w) throw new ProviderNotFound(`Bitbucket did not name the workspace ${target}`)
    return toTarget(w, administrator)
  }

  /**
   * The workspace's repositories within the credential's reach: one repository is read, not
   * listed; a project's are listed with Bitbucket's `q=project.key="…"` filter. A listing also
   * holds the public repositories any caller sees, so the caller still filters by reach.
   */
  async listRepositories(
    c: ProviderCredentials,
    owner: string,
    next?: string,
  ): Promise<Page<RepositoryInfo>> {
    const reach = c.reach ?? {}
    if (reach.repository) {
      if (next !== undefined) return { items: [] }
      return { items: [await this.getRepository(c, `${owner}/${reach.repository}`)] }
    }
    const q = reach.project
      ? `&q=${encodeURIComponent(`project.key="${reach.project.replace(/["\\]/g, '')}"`)}`
      : ''
    const url =
      next ?? `${this.#endpoints.apiUrl}/repositories/${encodeURIComponent(owner)}?pagelen=100${q}`
    const page = await this.#page<BbRepository, RepositoryInfo>(c, url, (r) =>
      toRepository(r, this.#endpoints.webUrl),
    )
    if (reach.project) page.items = page.items.filter((r) => r.project === reach.project)
    return page
  }

  /** Project keys of repositories read for a project-narrowed credential (5 minutes). */
  readonly #projects = new Map<string, { key: string | undefined; until: number }>()

  /**
   * Refuses a repository outside the credential's reach (defence in depth: the connect service
   * checks first; the pipeline engine and the webhook keeper call the adapter directly). One
   * repository is compared by name; a project's membership is read from the repository (cached).
   */
  async #inReach(c: ProviderCredentials, fullName: string): Promise<void> {
    const reach = c.reach
    if (!reach?.repository && !reach?.project) return
    const slug = fullName.split('/')[1] ?? ''
    if (reach.repository && slug.toLowerCase() !== reach.repository.toLowerCase())
      throw new ProviderNotFound(
        `${fullName.slice(0, 200)} is outside this credential's reach (repository ${reach.repository})`,
      )
    if (!reach.project) return
    const key = `${reach.project}|${fullName.toLowerCase()}`
    let hit = this.#projects.get(key)
    if (!hit || hit.until < Date.now()) {
      const r = await this.#http.json<BbRepository>(this.#repo(fullName), {
        headers: this.#auth(c),
      })
      hit = { key: r.project?.key, until: Date.now() + 5 * 60_000 }
      if (this.#projects.size > 5000) this.#projects.clear()
      this.#projects.set(key, hit)
    }
    if (hit.key !== reach.project)
      throw new ProviderNotFound(
        `${fullName.slice(0, 200)} is outside this credential's reach (project ${reach.project})`,
      )
  }

  async getRepository(c: ProviderCredentials, fullName: string): Promise<RepositoryInfo> {
    const r = await this.#http.json<BbRepository>(this.#repo(fullName), { headers: this.#auth(c) })
    const info = toRepository(r, this.#endpoints.webUrl)
    const reach = c.reach
    if (
      (reach?.repository && info.name.toLowerCase() !== reach.repository.toLowerCase()) ||
      (reach?.project && info.project !== reach.project)
    )
      throw new ProviderNotFound(`${fullName.slice(0, 200)} is outside this credential's reach`)
    return info
  }

  async listBranches(
    c: ProviderCredentials,
    fullName: string,
    next?: string,
  ): Promise<Page<BranchInfo>> {
    await this.#inReach(c, fullName)
    const url = next ?? `${this.#repo(fullName)}/refs/branches?pagelen=100`
    return this.#page<BbBranch, BranchInfo>(c, url, toBranch)
  }

  /**
   * One branch by name through the documented BBQL filter (`q=name = "…"`), never the `{name}`
   * path parameter: Bitbucket Cloud answers 404 to `%2F` there (BCLOUD-9969 and its kin), so
   * `release/1.0` cannot be sent encoded, and a raw `/` is undocumented. The filter takes any
   * name (slashes, dots, Unicode); the answer is checked for the exact name.
   */
  async getBranch(c: ProviderCredentials, fullName: string, branch: string): Promise<BranchInfo> {
    await this.#inReach(c, fullName)
    const q = `name = "${branch.replace(/["\\]/g, (x) => `\\${x}`)}"`
    const page = await this.#http.json<BbPage<BbBranch>>(
      `${this.#repo(fullName)}/refs/branches?pagelen=10&q=${encodeURIComponent(q)}`,
      { headers: this.#auth(c) },
    )
    const b = (page.values ?? []).find((v) => v.name === branch)
    if (!b)
      throw new ProviderNotFound(
        `Bitbucket has no branch '${branch.slice(0, 200)}' in ${fullName}`,
        404,
      )
    return toBranch(b)
  }

  /**
   * One filtered branch listing per repository (per 50 branches), whatever the number of watched
   * branches: `q` selects them by name (BBQL), `fields` trims each to name, hash and message. Not a
   * conditional request: Bitbucket's ETags are undocumented and a 304 still counts against the
   * hourly limit. Reads Bitbucket's rate-limit headers (sent to access tokens) for the poller.
   */
  async branchHeads(
    c: ProviderCredentials,
    fullName: string,
    branches: string[],
  ): Promise<BranchHeads> {
    await this.#inReach(c, fullName)
    const out: BranchHeads = { heads: new Map() }
    const wanted = new Set(branches)
    for (let i = 0; i < branches.length; i += 50) {
      const q = branches
        .slice(i, i + 50)
        .map((b) => `name = "${b.replace(/["\\]/g, (x) => `\\${x}`)}"`)
        .join(' OR ')
      let next: string | undefined =
        `${this.#repo(fullName)}/refs/branches?pagelen=100&q=${encodeURIComponent(q)}` +
        `&fields=${encodeURIComponent('next,values.name,values.target.hash,values.target.message')}`
      while (next) {
        const res = await this.#http.request(this.#underApi(next), {
          headers: this.#auth(c),
          retry429: false,
        })
        const limit = Number(res.headers.get('x-ratelimit-limit'))
        if (Number.isInteger(limit) && limit > 0) out.limitPerHour = limit
        const near = res.headers.get('x-ratelimit-nearlimit')
        if (near !== null) out.nearLimit = near.toLowerCase() === 'true'
        const page = (await res.json()) as BbPage<BbBranch>
        for (const b of page.values ?? [])
          if (wanted.has(b.name))
            out.heads.set(b.name, { id: b.target.hash, message: b.target.message ?? '' })
        next = page.next
      }
    }
    return out
  }

  async getCommit(c: ProviderCredentials, fullName: string, commit: string): Promise<CommitInfo> {
    if (!/^[0-9a-f]{4,64}$/i.test(commit))
      throw new ProviderNotFound(`'${commit.slice(0, 80)}' is not a commit id`)
    await this.#inReach(c, fullName)
    const x = await this.#http.json<BbCommit>(`${this.#repo(fullName)}/commit/${commit}`, {
      headers: this.#auth(c),
    })
    return toCommit(x)
  }

  async changedFiles(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    base?: string,
    fromMergeBase = false,
  ): Promise<ChangedFile[]> {
    for (const x of [commit, base])
      if (x !== undefined && !/^[0-9a-f]{4,64}$/i.test(x))
        throw new ProviderNotFound(`'${x.slice(0, 80)}' is not a commit id`)
    await this.#inReach(c, fullName)
    // Bitbucket's `A..B` names the commit with the changes first and the base second (the
    // opposite of `git diff`); a single commit diffs against its first parent; `topic=true`
    // diffs from the merge base (three dots).
    const spec = base ? `${commit}..${base}` : commit
    return this.#all<BbDiffstat, ChangedFile>(
      c,
      `${this.#repo(fullName)}/diffstat/${spec}?pagelen=500${base && fromMergeBase ? '&topic=true' : ''}`,
      toChangedFile,
    )
  }

  /**
   * The tree at `commit` as a zip, fetched over Git with `x-token-auth` (bitbucket.org's own
   * `/{ws}/{slug}/get/{commit}.zip` is a website download that takes no token: it answers 403
   * "This endpoint does not support token-based authentication"). An abbreviated id is resolved
   * through the API first (a Git fetch needs the full id).
   */
  async downloadArchive(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    opts: ArchiveOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    this.#repo(fullName)
    if (!/^[0-9a-f]{4,64}$/i.test(commit))
      throw new ProviderNotFound(`'${commit.slice(0, 80)}' is not a commit id`)
    const id = /^[0-9a-f]{40}$/.test(commit)
      ? commit
      : (await this.getCommit(c, fullName, commit)).id
    const [ws, slug] = fullName.split('/') as [string, string]
    const { topFolder = true, ...rest } = opts
    return gitArchive(this.cloneCredentials(c, fullName), {
      commit: id,
      // The top folder bitbucket.org's downloads have.
      prefix: topFolder ? `${ws}-${slug}-${id.slice(0, 12)}` : '',
      ...rest,
    })
  }

  cloneCredentials(c: ProviderCredentials, fullName: string) {
    this.#repo(fullName)
    return {
      url: `${this.#endpoints.webUrl}/${fullName}.git`,
      username: c.kind === 'api-token' ? 'x-bitbucket-api-token-auth' : 'x-token-auth',
      password: c.accessToken,
    }
  }

  gitHost(): string {
    return new URL(this.#endpoints.webUrl).host
  }

  /** As Bitbucket's own `links.html`: `{web}/{ws}/{slug}` and `{web}/{ws}/{slug}/commits/{hash}`. */
  webLinks(fullName: string, commit?: string): WebLinks {
    this.#repo(fullName)
    const repository = `${this.#endpoints.webUrl}/${fullName.split('/').map(encodeURIComponent).join('/')}`
    return commit === undefined
      ? { repository }
      : { repository, commit: `${repository}/commits/${encodeURIComponent(commit)}` }
  }

  async registerWebhook(
    c: ProviderCredentials,
    fullName: string,
    hook: WebhookSpec,
  ): Promise<WebhookRef> {
    await this.#inReach(c, fullName)
    const body = {
      description: hook.description,
      url: hook.url,
      active: true,
      secret: hook.secret,
      events: hook.events.flatMap((e) => HOOK_EVENTS[e]),
    }
    const r = await this.#http.json<{ uuid: string }>(`${this.#repo(fullName)}/hooks`, {
      method: 'POST',
      headers: { ...this.#auth(c), 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { id: r.uuid }
  }

  async deleteWebhook(c: ProviderCredentials, fullName: string, ref: WebhookRef): Promise<void> {
    const res = await this.#http.request(
      `${this.#repo(fullName)}/hooks/${encodeURIComponent(ref.id)}`,
      {
        method: 'DELETE',
        headers: this.#auth(c),
        accept: [404],
      },
    )
    await res.body?.cancel()
  }

  parseWebhook(req: RawWebhook, secret: string) {
    return parseBitbucketWebhook(req, secret)
  }
}
