/**
 * @module providers/gitlab/client
 * What every GitLab call shares: the endpoints (gitlab.com, or a self-managed instance's
 * `https://HOST` and `https://HOST/api/v4`), the OAuth application, the one HTTP client (429 and
 * `Retry-After` honoured there), how each credential authenticates, JSON and paged listings.
 */
import { ProviderAuthFailed, ProviderRequestFailed } from '../errors.js'
import { HttpClient, type HttpClientOptions, type RequestOptions } from '../http-client.js'
import type { OAuthApp, Page, ProviderCredentials, ProviderEndpoints } from '../provider.js'
import { nextPage, projectUrl, underApi } from './urls.js'

export const GITLAB_DEFAULTS: ProviderEndpoints = {
  webUrl: 'https://gitlab.com',
  apiUrl: 'https://gitlab.com/api/v4',
}

/** GitLab's role levels (`access_level`): Maintainer may manage a project's webhooks. */
export const MAINTAINER = 40

/** A compare answer with this many files may have been cut by GitLab's diff limits (changes.ts). */
export const COMPARE_FILES_CAP = 100

export type GitLabType = 'GitLab' | 'GitLabSelfManaged'

/** A self-managed instance's endpoints from its host URL: `https://HOST`, `https://HOST/api/v4`. */
export function selfManagedEndpoints(providerEndpoint: string): ProviderEndpoints {
  const webUrl = providerEndpoint.replace(/\/+$/, '')
  return { webUrl, apiUrl: `${webUrl}/api/v4` }
}

export interface GitLabClientOptions {
  type?: GitLabType
  endpoints?: ProviderEndpoints
  app?: OAuthApp | (() => OAuthApp | undefined)
  http?: HttpClientOptions
  /** Compare answers with this many files are read over Git instead (see changes.ts). */
  compareFilesCap?: number
}

export class GitLabClient {
  readonly type: GitLabType
  readonly endpoints: ProviderEndpoints
  readonly app: () => OAuthApp | undefined
  readonly http: HttpClient
  readonly compareFilesCap: number

  constructor(o: GitLabClientOptions = {}) {
    this.type = o.type ?? 'GitLab'
    const e = o.endpoints ?? GITLAB_DEFAULTS
    this.endpoints = { webUrl: e.webUrl.replace(/\/+$/, ''), apiUrl: e.apiUrl.replace(/\/+$/, '') }
    const app = o.app
    this.app = typeof app === 'function' ? app : () => app
    this.http = new HttpClient('GitLab', o.http)
    this.compareFilesCap = o.compareFilesCap ?? COMPARE_FILES_CAP
  }

  get apiUrl(): string {
    return this.endpoints.apiUrl
  }

  get webUrl(): string {
    return this.endpoints.webUrl
  }

  requireApp(): OAuthApp {
    const app = this.app()
    if (!app?.clientId || !app.clientSecret)
      throw new ProviderRequestFailed(
        this.type === 'GitLab'
          ? 'No GitLab OAuth application is configured (start junction serve with --gitlab-client-id and --gitlab-client-secret)'
          : 'No GitLab OAuth application is set up for this host',
      )
    return app
  }

  /**
   * An OAuth token as `Authorization: Bearer`; personal, group and project access tokens as
   * `PRIVATE-TOKEN` (GitLab takes both ways for them; this one is its documented default).
   */
  auth(c: ProviderCredentials): Record<string, string> {
    if (!c.accessToken) throw new ProviderAuthFailed('This GitLab credential holds no token')
    return c.kind === 'oauth'
      ? { Authorization: `Bearer ${c.accessToken}`, Accept: 'application/json' }
      : { 'PRIVATE-TOKEN': c.accessToken, Accept: 'application/json' }
  }

  /** `{api}/projects/{id}/…` (see urls.ts). */
  project(fullName: string, ...segments: string[]): string {
    return projectUrl(this.apiUrl, fullName, ...segments)
  }

  call(c: ProviderCredentials, url: string, o: RequestOptions = {}): Promise<Response> {
    return this.http.request(url, { ...o, headers: { ...this.auth(c), ...o.headers } })
  }

  async json<T>(c: ProviderCredentials, url: string, o: RequestOptions = {}): Promise<T> {
    return (await (await this.call(c, url, o)).json()) as T
  }

  /** A listing page: `map` over the array answered, `next` from `Link` or `X-Next-Page`. */
  async page<T, U>(c: ProviderCredentials, url: string, map: (v: T) => U): Promise<Page<U>> {
    const res = await this.call(c, underApi(this.apiUrl, url))
    return this.pageOf(res, url, map)
  }

  /** The page a listing request for `url` answered. */
  async pageOf<T, U>(res: Response, url: string, map: (v: T) => U): Promise<Page<U>> {
    const body = (await res.json()) as unknown
    if (!Array.isArray(body))
      throw new ProviderRequestFailed('GitLab answered a listing with no list')
    const out: Page<U> = { items: (body as T[]).map(map) }
    const next = nextPage(url, res.headers)
    if (next) out.next = underApi(this.apiUrl, next)
    return out
  }

  /** Every page of a listing (at most `max` items). */
  async all<T, U>(c: ProviderCredentials, url: string, map: (v: T) => U, max = 10_000) {
    const items: U[] = []
    let next: string | undefined = url
    while (next && items.length < max) {
      const page: Page<U> = await this.page(c, next, map)
      items.push(...page.items)
      next = page.next
    }
    return items
  }
}
