/**
 * @module providers/github/client
 * What every GitHub call shares: the endpoints, the app, the HTTP client (rate limits: github)
 * and the installation tokens; the token a credential sends for a repository and permissions;
 * one call with a retry on a refused installation token; JSON and paged listings.
 */
import { ProviderAuthFailed, ProviderRequestFailed } from '../errors.js'
import { HttpClient, type HttpClientOptions, type RequestOptions } from '../http-client.js'
import type { OAuthApp, Page, ProviderCredentials, ProviderEndpoints } from '../provider.js'
import { GITHUB_HEADERS, InstallationTokens, type TokenPermissions } from './tokens.js'
import { nextLink, splitFullName, underApi } from './urls.js'

export const GITHUB_DEFAULTS: ProviderEndpoints = {
  webUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
}

export const READ: TokenPermissions = { contents: 'read', metadata: 'read' }
export const METADATA: TokenPermissions = { metadata: 'read' }
export const PULLS: TokenPermissions = { pull_requests: 'read', metadata: 'read' }
export const FULL_ID = /^[0-9a-f]{40}$/

export type GitHubType = 'GitHub' | 'GitHubEnterpriseServer'

export interface GitHubClientOptions {
  type: GitHubType
  endpoints?: ProviderEndpoints
  app?: OAuthApp | (() => OAuthApp | undefined)
  http?: HttpClientOptions
}

export class GitHubClient {
  readonly type: GitHubType
  readonly endpoints: ProviderEndpoints
  readonly app: () => OAuthApp | undefined
  readonly http: HttpClient
  readonly tokens: InstallationTokens

  constructor(o: GitHubClientOptions) {
    this.type = o.type
    const e = o.endpoints ?? GITHUB_DEFAULTS
    this.endpoints = { webUrl: e.webUrl.replace(/\/+$/, ''), apiUrl: e.apiUrl.replace(/\/+$/, '') }
    const app = o.app
    this.app = typeof app === 'function' ? app : () => app
    this.http = new HttpClient('GitHub', { ...o.http, rateLimits: 'github' })
    this.tokens = new InstallationTokens(this.endpoints.apiUrl, this.http, this.app)
  }

  get apiUrl(): string {
    return this.endpoints.apiUrl
  }

  get webUrl(): string {
    return this.endpoints.webUrl
  }

  requireApp(): OAuthApp {
    const app = this.app()
    if (!app)
      throw new ProviderRequestFailed('No GitHub App is configured for this Junction server')
    return app
  }

  /**
   * The token a call sends: for an installation, one minted for `repo` (a full name; absent for
   * installation-wide calls) with `perms`; any other kind's own access token.
   */
  async token(
    c: ProviderCredentials,
    repo: string | undefined,
    perms: TokenPermissions,
  ): Promise<string> {
    if (c.kind !== 'github-installation') return c.accessToken
    if (!c.installationId)
      throw new ProviderRequestFailed('This GitHub credential names no installation')
    const name = repo === undefined ? undefined : splitFullName(repo)[1]
    return (await this.tokens.token(c.installationId, name, perms)).token
  }

  /**
   * GET (or `o.method`) with the credential's token; an installation token GitHub refuses (401:
   * revoked, or expired early) is dropped and the call made once more with a fresh one.
   */
  async call(
    c: ProviderCredentials,
    repo: string | undefined,
    perms: TokenPermissions,
    url: string,
    o: RequestOptions = {},
  ): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.token(c, repo, perms)
      const accept = [...(o.accept ?? []), 401]
      const res = await this.http.request(url, {
        ...o,
        headers: { ...GITHUB_HEADERS, ...o.headers, Authorization: `Bearer ${token}` },
        accept,
      })
      if (res.status !== 401 || o.accept?.includes(401)) return res
      await res.body?.cancel()
      if (c.kind === 'github-installation' && attempt === 1) {
        this.tokens.drop(token)
        continue
      }
      throw new ProviderAuthFailed('GitHub answered 401: the credential was refused', 401)
    }
  }

  async json<T>(
    c: ProviderCredentials,
    repo: string | undefined,
    perms: TokenPermissions,
    url: string,
  ): Promise<T> {
    return (await (await this.call(c, repo, perms, url)).json()) as T
  }

  /** A listing page: `map` over the items, `next` from the `Link` header. */
  async page<T, U>(
    c: ProviderCredentials,
    repo: string | undefined,
    perms: TokenPermissions,
    url: string,
    items: (body: unknown) => T[],
    map: (v: T) => U,
  ): Promise<Page<U>> {
    const res = await this.call(c, repo, perms, underApi(this.apiUrl, url))
    const out: Page<U> = { items: items(await res.json()).map(map) }
    const next = nextLink(res.headers.get('link'))
    if (next) out.next = underApi(this.apiUrl, next)
    return out
  }
}
