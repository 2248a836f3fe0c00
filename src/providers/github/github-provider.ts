/**
 * @module providers/github/github-provider
 * GitHub (and GitHub Enterprise Server) through a GitHub App, as AWS's own connector works
 * (providers.md §2–3): a connection's credential is an installation (`github-installation`,
 * `installationId`); every call mints, or reuses until 5 minutes before expiry, an installation
 * token narrowed to the repository and read permissions it needs (`tokens.ts`). A user's OAuth
 * token (the app's user authorization, `exchangeCode`) and other static tokens are sent as they
 * are. Webhooks are the app's one webhook (no per-repository registration). Changed files come
 * from the compare API, or over Git when GitHub truncates it; archives from the zipball redirect
 * (token never sent to codeload), or over Git when the zip must have no top folder.
 *
 * Base URLs are configuration: `https://github.com` and `https://api.github.com` by default,
 * `https://HOST` and `https://HOST/api/v3` for GHES, a sandbox's in tests.
 */
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import { gitArchive } from '../git-archive.js'
import { gitChangedFiles } from '../git-diff.js'
import { HttpClient, type HttpClientOptions, type RequestOptions } from '../http-client.js'
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
  PullRequestInfo,
  RawWebhook,
  RepositoryInfo,
  WebhookRef,
  WebLinks,
} from '../provider.js'
import { followArchive } from './archive.js'
import { userToken } from './oauth.js'
import {
  toBranch,
  toChangedFiles,
  toCommit,
  toPullRequest,
  toRepository,
  toShortBranch,
  toTarget,
  type GhBranch,
  type GhCommit,
  type GhComparison,
  type GhInstallation,
  type GhPullRequest,
  type GhRepository,
  type GhShortBranch,
} from './convert.js'
import { GITHUB_HEADERS, InstallationTokens, type TokenPermissions } from './tokens.js'
import { commitId, nextLink, repoUrl, splitFullName, underApi } from './urls.js'
import { parseGitHubWebhook } from './webhook.js'

export const GITHUB_DEFAULTS: ProviderEndpoints = {
  webUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
}

/** The compare API lists at most this many files (docs: "up to 300 changed files"). */
export const COMPARE_FILES_CAP = 300

const READ: TokenPermissions = { contents: 'read', metadata: 'read' }
const METADATA: TokenPermissions = { metadata: 'read' }
const PULLS: TokenPermissions = { pull_requests: 'read', metadata: 'read' }
const FULL_ID = /^[0-9a-f]{40}$/

export interface GitHubProviderOptions {
  /** `GitHub` (default) or `GitHubEnterpriseServer` (needs a host's endpoints). */
  type?: 'GitHub' | 'GitHubEnterpriseServer'
  endpoints?: ProviderEndpoints
  /** The GitHub App (client id/secret, app id, private key, slug), or a function giving it. */
  app?: OAuthApp | (() => OAuthApp | undefined)
  http?: HttpClientOptions
}

export class GitHubProvider implements GitProvider {
  readonly type: 'GitHub' | 'GitHubEnterpriseServer'
  readonly capabilities: GitProvider['capabilities']
  readonly #endpoints: ProviderEndpoints
  readonly #app: () => OAuthApp | undefined
  readonly #http: HttpClient
  readonly #tokens: InstallationTokens

  constructor(o: GitHubProviderOptions = {}) {
    this.type = o.type ?? 'GitHub'
    this.capabilities = {
      hosts: this.type === 'GitHubEnterpriseServer',
      // Installation tokens are minted per use inside the adapter; user tokens are not refreshed.
      tokenRefresh: false,
      changedFilesInPushEvents: true,
    }
    const e = o.endpoints ?? GITHUB_DEFAULTS
    this.#endpoints = { webUrl: e.webUrl.replace(/\/+$/, ''), apiUrl: e.apiUrl.replace(/\/+$/, '') }
    const app = o.app
    this.#app = typeof app === 'function' ? app : () => app
    this.#http = new HttpClient('GitHub', { ...o.http, rateLimits: 'github' })
    this.#tokens = new InstallationTokens(this.#endpoints.apiUrl, this.#http, this.#app)
  }

  get endpoints(): ProviderEndpoints {
    return this.#endpoints
  }

  /** The installation token cache (tests inspect its narrowing). */
  get tokens(): InstallationTokens {
    return this.#tokens
  }

  // ---- credentials -------------------------------------------------------------------------

  /**
   * The token a call sends: for an installation, one minted for `repo` (a full name; absent for
   * installation-wide calls) with `perms`; any other kind's own access token.
   */
  async #token(c: ProviderCredentials, repo: string | undefined, perms: TokenPermissions) {
    if (c.kind !== 'github-installation') return c.accessToken
    if (!c.installationId)
      throw new ProviderRequestFailed('This GitHub credential names no installation')
    const name = repo === undefined ? undefined : splitFullName(repo)[1]
    return (await this.#tokens.token(c.installationId, name, perms)).token
  }

  /**
   * GET (or `o.method`) with the credential's token; an installation token GitHub refuses (401:
   * revoked, or expired early) is dropped and the call made once more with a fresh one.
   */
  async #call(
    c: ProviderCredentials,
    repo: string | undefined,
    perms: TokenPermissions,
    url: string,
    o: RequestOptions = {},
  ): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.#token(c, repo, perms)
      const accept = [...(o.accept ?? []), 401]
      const res = await this.#http.request(url, {
        ...o,
        headers: { ...GITHUB_HEADERS, ...o.headers, Authorization: `Bearer ${token}` },
        accept,
      })
      if (res.status !== 401 || o.accept?.includes(401)) return res
      await res.body?.cancel()
      if (c.kind === 'github-installation' && attempt === 1) {
        this.#tokens.drop(token)
        continue
      }
      throw new ProviderAuthFailed('GitHub answered 401: the credential was refused', 401)
    }
  }

  async #json<T>(
    c: ProviderCredentials,
    repo: string | undefined,
    perms: TokenPermissions,
    url: string,
  ): Promise<T> {
    return (await (await this.#call(c, repo, perms, url)).json()) as T
  }

  /** A listing page: `map` over the items, `next` from the `Link` header. */
  async #page<T, U>(
    c: ProviderCredentials,
    repo: string | undefined,
    perms: TokenPermissions,
    url: string,
    items: (body: unknown) => T[],
    map: (v: T) => U,
  ): Promise<Page<U>> {
    const res = await this.#call(c, repo, perms, underApi(this.#endpoints.apiUrl, url))
    const out: Page<U> = { items: items(await res.json()).map(map) }
    const next = nextLink(res.headers.get('link'))
    if (next) out.next = underApi(this.#endpoints.apiUrl, next)
    return out
  }

  #requireApp(): OAuthApp {
    const app = this.#app()
    if (!app)
      throw new ProviderRequestFailed('No GitHub App is configured for this Junction server')
    return app
  }

  /**
   * Where to send the browser: the app's installation page (`/apps/{slug}/installations/new`;
   * GHES `/github-apps/{slug}/…`); GitHub comes back to the app's setup URL with
   * `installation_id`, and `state` unchanged.
   */
  authorizationUrl(state: string): URL {
    const app = this.#requireApp()
    if (!app.slug) throw new ProviderRequestFailed('The GitHub App slug is not configured')
    const apps = this.type === 'GitHubEnterpriseServer' ? 'github-apps' : 'apps'
    const u = new URL(
      `${this.#endpoints.webUrl}/${apps}/${encodeURIComponent(app.slug)}/installations/new`,
    )
    u.searchParams.set('state', state)
    return u
  }

  /** The user-to-server token of the app's user authorization (`ghu_…`, 8 h with `ghr_…`). */
  exchangeCode(code: string): Promise<ProviderCredentials> {
    return userToken(this.#http, this.#endpoints.webUrl, this.#requireApp(), { code })
  }

  async refreshCredentials(c: ProviderCredentials): Promise<ProviderCredentials> {
    if (c.kind !== 'oauth' || !c.refreshToken)
      throw new ProviderAuthFailed('This GitHub credential cannot be refreshed')
    return userToken(this.#http, this.#endpoints.webUrl, this.#requireApp(), {
      grant_type: 'refresh_token',
      refresh_token: c.refreshToken,
    })
  }

  /**
   * `GET /app/installations/{id}` with the app JWT: the installation exists for this app and
   * is not suspended. @throws ProviderNotFound; ProviderAuthFailed when suspended
   */
  async verifyInstallation(installationId: string): Promise<InstallationTarget> {
    if (!/^\d{1,20}$/.test(installationId))
      throw new ProviderNotFound(`'${installationId.slice(0, 40)}' is not a GitHub installation id`)
    const i = await this.#http.json<GhInstallation>(
      `${this.#endpoints.apiUrl}/app/installations/${installationId}`,
      { headers: this.#tokens.appHeaders() },
    )
    if (i.suspended_at)
      throw new ProviderAuthFailed(`GitHub installation ${installationId} is suspended`)
    return toTarget(i)
  }

  /** An installation's own account; a user token's installations of this app. */
  async listInstallationTargets(c: ProviderCredentials): Promise<InstallationTarget[]> {
    if (c.kind === 'github-installation')
      return [await this.verifyInstallation(c.installationId ?? '')]
    const out: InstallationTarget[] = []
    let next: string | undefined = `${this.#endpoints.apiUrl}/user/installations?per_page=100`
    while (next && out.length < 10_000) {
      const page: Page<InstallationTarget> = await this.#page(
        c,
        undefined,
        {},
        next,
        (b) => (b as { installations?: GhInstallation[] }).installations ?? [],
        toTarget,
      )
      out.push(...page.items)
      next = page.next
    }
    return out
  }

  async verifyTarget(c: ProviderCredentials, target: string): Promise<InstallationTarget> {
    const found = (await this.listInstallationTargets(c)).find(
      (t) => t.slug.toLowerCase() === target.toLowerCase(),
    )
    if (!found)
      throw new ProviderNotFound(`The GitHub App is not installed on ${target.slice(0, 100)}`)
    return found
  }

  // ---- repositories --------------------------------------------------------------------------

  /**
   * The installation's repositories (`GET /installation/repositories`), those of `owner`; a user
   * token lists an installation's with `c.installationId` (`/user/installations/{id}/repositories`).
   */
  async listRepositories(
    c: ProviderCredentials,
    owner: string,
    next?: string,
  ): Promise<Page<RepositoryInfo>> {
    let url = next
    if (!url) {
      if (c.kind === 'github-installation')
        url = `${this.#endpoints.apiUrl}/installation/repositories?per_page=100`
      else if (c.installationId && /^\d+$/.test(c.installationId))
        url = `${this.#endpoints.apiUrl}/user/installations/${c.installationId}/repositories?per_page=100`
      else throw new ProviderRequestFailed('Listing GitHub repositories needs an installation')
    }
    const page = await this.#page(
      c,
      undefined,
      METADATA,
      url,
      (b) => (b as { repositories?: GhRepository[] }).repositories ?? [],
      (r: GhRepository) => toRepository(r, this.#endpoints.webUrl),
    )
    page.items = page.items.filter((r) => r.owner.toLowerCase() === owner.toLowerCase())
    return page
  }

  async getRepository(c: ProviderCredentials, fullName: string): Promise<RepositoryInfo> {
    const url = repoUrl(this.#endpoints.apiUrl, fullName)
    const res = await this.#call(c, fullName, METADATA, url, { accept: [301] })
    if (res.status === 301) {
      await res.body?.cancel()
      throw new ProviderNotFound(`GitHub repository ${fullName} was renamed or moved`, 301)
    }
    return toRepository((await res.json()) as GhRepository, this.#endpoints.webUrl)
  }

  listBranches(c: ProviderCredentials, fullName: string, next?: string): Promise<Page<BranchInfo>> {
    const url = next ?? `${repoUrl(this.#endpoints.apiUrl, fullName, 'branches')}?per_page=100`
    return this.#page(c, fullName, READ, url, (b) => b as GhShortBranch[], toShortBranch)
  }

  /** One branch, its name sent as one encoded segment (`release%2F1.0`); a 301 (renamed) is 404. */
  async getBranch(c: ProviderCredentials, fullName: string, branch: string): Promise<BranchInfo> {
    const url = repoUrl(this.#endpoints.apiUrl, fullName, 'branches', branch)
    const res = await this.#call(c, fullName, READ, url, { accept: [301] })
    if (res.status === 301) {
      await res.body?.cancel()
      throw new ProviderNotFound(`GitHub branch '${branch.slice(0, 200)}' was renamed`, 404)
    }
    const b = (await res.json()) as GhBranch
    if (b.name !== branch)
      throw new ProviderNotFound(`GitHub has no branch '${branch.slice(0, 200)}' in ${fullName}`)
    return toBranch(b)
  }

  /**
   * The heads of the watched branches for the poller: one `GET …/branches/{branch}` each (GitHub's
   * REST API has no filtered branch listing that carries commit messages), a missing branch left
   * absent; a rate limit is not retried in line (ProviderRateLimited with GitHub's wait). Reads
   * `x-ratelimit-limit`/`-remaining`: near the limit below a tenth of it.
   */
  async branchHeads(
    c: ProviderCredentials,
    fullName: string,
    branches: string[],
  ): Promise<BranchHeads> {
    const out: BranchHeads = { heads: new Map() }
    for (const branch of branches) {
      const url = repoUrl(this.#endpoints.apiUrl, fullName, 'branches', branch)
      const res = await this.#call(c, fullName, READ, url, { accept: [301, 404], retry429: false })
      const limit = Number(res.headers.get('x-ratelimit-limit'))
      const remaining = Number(res.headers.get('x-ratelimit-remaining'))
      if (Number.isInteger(limit) && limit > 0) {
        out.limitPerHour = limit
        if (res.headers.get('x-ratelimit-remaining') !== null && Number.isFinite(remaining))
          out.nearLimit = remaining < limit / 10
      }
      if (!res.ok) {
        await res.body?.cancel()
        continue
      }
      const b = (await res.json()) as GhBranch
      if (b.name === branch)
        out.heads.set(branch, { id: b.commit.sha, message: b.commit.commit.message })
    }
    return out
  }

  /** A commit by full or abbreviated id; GitHub's 422 for an unknown id is ProviderNotFound. */
  async getCommit(c: ProviderCredentials, fullName: string, commit: string): Promise<CommitInfo> {
    const url = repoUrl(this.#endpoints.apiUrl, fullName, 'commits', commitId(commit))
    const res = await this.#call(c, fullName, READ, url, { accept: [422] })
    if (res.status === 422) {
      await res.body?.cancel()
      throw new ProviderNotFound(`GitHub has no commit ${commit} in ${fullName}`, 422)
    }
    return toCommit((await res.json()) as GhCommit)
  }

  /**
   * The compare API (`{base}...{commit}`: from the merge base, GitHub's only form); without
   * `fromMergeBase` it is used only when the merge base is `base` itself (then both diffs are the
   * same). A commit alone is compared with its first parent. Over Git instead when GitHub cannot
   * list it all (300 files or more), when the commit has no parent, or for a direct diff of
   * diverged commits.
   */
  async changedFiles(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    base?: string,
    fromMergeBase = false,
  ): Promise<ChangedFile[]> {
    commitId(commit)
    if (base !== undefined) commitId(base)
    let head = commit
    let from = base
    if (from === undefined || !FULL_ID.test(head)) {
      const info = await this.getCommit(c, fullName, commit)
      head = info.id
      if (from === undefined) {
        from = info.parents[0]
        if (!from) return this.#gitChangedFiles(c, fullName, head)
      }
    }
    const url = repoUrl(this.#endpoints.apiUrl, fullName, 'compare', `${from}...${head}`)
    const cmp = await this.#json<GhComparison>(c, fullName, READ, `${url}?per_page=1`)
    const files = cmp.files ?? []
    const direct =
      base === undefined ||
      fromMergeBase ||
      cmp.merge_base_commit.sha.startsWith(from.toLowerCase())
    if (files.length < COMPARE_FILES_CAP && direct) return toChangedFiles(files)
    const baseId = FULL_ID.test(from) ? from : (await this.getCommit(c, fullName, from)).id
    return this.#gitChangedFiles(
      c,
      fullName,
      head,
      base === undefined ? undefined : baseId,
      fromMergeBase,
    )
  }

  async #gitChangedFiles(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    base?: string,
    fromMergeBase?: boolean,
  ): Promise<ChangedFile[]> {
    const o: { commit: string; base?: string; fromMergeBase?: boolean } = { commit }
    if (base !== undefined) o.base = base
    if (fromMergeBase) o.fromMergeBase = true
    return gitChangedFiles(await this.gitCredentials(c, fullName), o)
  }

  /**
   * With a top folder (default): GitHub's zipball (`{owner}-{repo}-{sha7}/`), through its redirect
   * to codeload without the token. Without one (a CODE_ZIP artifact): over Git with
   * `x-access-token`, as only that gives the tree at the zip's root.
   */
  async downloadArchive(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    opts: ArchiveOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    commitId(commit)
    const { topFolder = true, ...rest } = opts
    if (!topFolder) {
      const id = FULL_ID.test(commit) ? commit : (await this.getCommit(c, fullName, commit)).id
      return gitArchive(await this.gitCredentials(c, fullName), { commit: id, prefix: '', ...rest })
    }
    const url = repoUrl(this.#endpoints.apiUrl, fullName, 'zipball', commit)
    const token = await this.#token(c, fullName, READ)
    const o: { maxBytes?: number } = {}
    if (rest.maxBytes !== undefined) o.maxBytes = rest.maxBytes
    return followArchive(
      this.#http,
      url,
      { ...GITHUB_HEADERS, Authorization: `Bearer ${token}` },
      o,
    )
  }

  #cloneUrl(fullName: string): string {
    const [owner, repo] = splitFullName(fullName)
    return `${this.#endpoints.webUrl}/${owner}/${repo}.git`
  }

  /** `x-access-token` and an installation token narrowed to the repository (contents: read). */
  async gitCredentials(c: ProviderCredentials, fullName: string) {
    const password = await this.#token(c, fullName, READ)
    return { url: this.#cloneUrl(fullName), username: 'x-access-token', password }
  }

  /**
   * Synchronous: for an installation, a fresh cached token (or the credential's own while it has
   * more than 5 minutes left); otherwise use `gitCredentials`, which mints one.
   * @throws ProviderRequestFailed when no token is at hand
   */
  cloneCredentials(c: ProviderCredentials, fullName: string) {
    const url = this.#cloneUrl(fullName)
    let password = c.accessToken
    if (c.kind === 'github-installation') {
      const hit = this.#tokens.cached(c.installationId ?? '', splitFullName(fullName)[1], READ)
      const own = c.accessToken && (c.expiresAt ?? 0) - 5 * 60_000 > Date.now()
      if (hit) password = hit.token
      else if (!own)
        throw new ProviderRequestFailed('No installation token at hand: use gitCredentials')
    }
    return { url, username: 'x-access-token', password }
  }

  gitHost(): string {
    return new URL(this.#endpoints.webUrl).host
  }

  /** As GitHub's own `html_url`s: `{web}/{o}/{r}` and `{web}/{o}/{r}/commit/{sha}`. */
  webLinks(fullName: string, commit?: string): WebLinks {
    const [owner, repo] = splitFullName(fullName)
    const repository = `${this.#endpoints.webUrl}/${owner}/${repo}`
    return commit === undefined
      ? { repository }
      : { repository, commit: `${repository}/commit/${encodeURIComponent(commit)}` }
  }

  /** The app's one webhook already covers every installation: nothing is registered. */
  registerWebhook(): Promise<WebhookRef> {
    return Promise.resolve({ id: 'app' })
  }

  /** Nothing was registered per repository: nothing to remove. */
  deleteWebhook(): Promise<void> {
    return Promise.resolve()
  }

  parseWebhook(req: RawWebhook, secret: string) {
    return parseGitHubWebhook(req, secret)
  }

  // ---- pull requests -------------------------------------------------------------------------

  listPullRequests(
    c: ProviderCredentials,
    fullName: string,
    next?: string,
  ): Promise<Page<PullRequestInfo>> {
    const url =
      next ??
      `${repoUrl(this.#endpoints.apiUrl, fullName, 'pulls')}?state=open&sort=created&direction=desc&per_page=100`
    return this.#page(
      c,
      fullName,
      PULLS,
      url,
      (b) => b as GhPullRequest[],
      (p) => toPullRequest(p, fullName),
    )
  }

  async getPullRequest(
    c: ProviderCredentials,
    fullName: string,
    num: number,
  ): Promise<PullRequestInfo> {
    if (!Number.isSafeInteger(num) || num < 1)
      throw new ProviderNotFound(`${String(num).slice(0, 20)} is not a pull request number`)
    const url = repoUrl(this.#endpoints.apiUrl, fullName, 'pulls', String(num))
    return toPullRequest(await this.#json<GhPullRequest>(c, fullName, PULLS, url), fullName)
  }
}
