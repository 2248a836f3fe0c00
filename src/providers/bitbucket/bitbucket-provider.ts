/**
 * @module providers/bitbucket/bitbucket-provider
 * Bitbucket Cloud through an OAuth 2.0 consumer (providers.md §1.1, §1.4): authorization-code flow
 * with refresh, REST 2.0 with pagination followed, archives from the web host, Git over HTTPS with
 * `x-token-auth`. Base URLs are configuration, so the same adapter runs against the sandbox.
 */
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import { HttpClient, type HttpClientOptions } from '../http-client.js'
import type {
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
    return next
  }

  #auth(c: ProviderCredentials): Record<string, string> {
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

  async verifyTarget(c: ProviderCredentials, target: string): Promise<InstallationTarget> {
    if (!/^[A-Za-z0-9_.-]+$/.test(target))
      throw new ProviderNotFound(`'${target.slice(0, 100)}' is not a workspace slug`)
    const w = await this.#http.json<BbWorkspace>(
      `${this.#endpoints.apiUrl}/workspaces/${encodeURIComponent(target)}`,
      { headers: this.#auth(c) },
    )
    // The token must also reach the workspace's repositories (a workspace access token does).
    await this.#http.request(
      `${this.#endpoints.apiUrl}/repositories/${encodeURIComponent(w.slug)}?pagelen=1`,
      { headers: this.#auth(c) },
    )
    return toTarget(w, false)
  }

  listRepositories(
    c: ProviderCredentials,
    owner: string,
    next?: string,
  ): Promise<Page<RepositoryInfo>> {
    const url =
      next ?? `${this.#endpoints.apiUrl}/repositories/${encodeURIComponent(owner)}?pagelen=100`
    return this.#page<BbRepository, RepositoryInfo>(c, url, (r) =>
      toRepository(r, this.#endpoints.webUrl),
    )
  }

  async getRepository(c: ProviderCredentials, fullName: string): Promise<RepositoryInfo> {
    const r = await this.#http.json<BbRepository>(this.#repo(fullName), { headers: this.#auth(c) })
    return toRepository(r, this.#endpoints.webUrl)
  }

  listBranches(c: ProviderCredentials, fullName: string, next?: string): Promise<Page<BranchInfo>> {
    const url = next ?? `${this.#repo(fullName)}/refs/branches?pagelen=100`
    return this.#page<BbBranch, BranchInfo>(c, url, toBranch)
  }

  async getBranch(c: ProviderCredentials, fullName: string, branch: string): Promise<BranchInfo> {
    const b = await this.#http.json<BbBranch>(
      `${this.#repo(fullName)}/refs/branches/${encodeURIComponent(branch)}`,
      { headers: this.#auth(c) },
    )
    return toBranch(b)
  }

  async getCommit(c: ProviderCredentials, fullName: string, commit: string): Promise<CommitInfo> {
    if (!/^[0-9a-f]{4,64}$/i.test(commit))
      throw new ProviderNotFound(`'${commit.slice(0, 80)}' is not a commit id`)
    const x = await this.#http.json<BbCommit>(`${this.#repo(fullName)}/commit/${commit}`, {
      headers: this.#auth(c),
    })
    return toCommit(x)
  }

  changedFiles(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    base?: string,
    fromMergeBase = false,
  ): Promise<ChangedFile[]> {
    for (const x of [commit, base])
      if (x !== undefined && !/^[0-9a-f]{4,64}$/i.test(x))
        throw new ProviderNotFound(`'${x.slice(0, 80)}' is not a commit id`)
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

  async downloadArchive(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
  ): Promise<ReadableStream<Uint8Array>> {
    this.#repo(fullName)
    if (!/^[0-9a-f]{4,64}$/i.test(commit))
      throw new ProviderNotFound(`'${commit.slice(0, 80)}' is not a commit id`)
    const res = await this.#http.request(
      `${this.#endpoints.webUrl}/${fullName}/get/${commit}.zip`,
      {
        headers: { Authorization: `Bearer ${c.accessToken}` },
      },
    )
    if (!res.body) throw new ProviderNotFound('Bitbucket sent an empty archive')
    return res.body
  }

  cloneCredentials(c: ProviderCredentials, fullName: string) {
    this.#repo(fullName)
    return {
      url: `${this.#endpoints.webUrl}/${fullName}.git`,
      username: 'x-token-auth',
      password: c.accessToken,
    }
  }

  gitHost(): string {
    return new URL(this.#endpoints.webUrl).host
  }

  async registerWebhook(
    c: ProviderCredentials,
    fullName: string,
    hook: WebhookSpec,
  ): Promise<WebhookRef> {
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
