/**
 * @module providers/github/tokens
 * The GitHub App's credentials at run time: its JWT (kept until a minute before it expires) and
 * installation access tokens minted with it (`POST /app/installations/{id}/access_tokens`; 1 h).
 * Each token is narrowed to what the call needs where GitHub allows it: to the one repository it
 * reads (`repositories: [name]`, which GitHub refuses with 422 for a repository outside the
 * installation, so the installation's scope is enforced by GitHub too) and to read permissions
 * (`permissions`, a subset of the installation's). Tokens are cached per installation, repository
 * and permissions until 5 minutes before `expires_at` and never past it; a token GitHub refuses
 * (401) is dropped. Token strings are opaque: their length and format are never checked (GitHub
 * is moving to longer `ghs_<app>_<jwt>` tokens).
 */
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import type { HttpClient } from '../http-client.js'
import type { OAuthApp } from '../provider.js'
import { createAppJwt, parseAppKey } from './app-jwt.js'
import type { GhInstallationToken } from './convert.js'

/** Permissions an installation token may be narrowed to (GitHub's `app-permissions` names). */
export type TokenPermissions = Partial<
  Record<'contents' | 'metadata' | 'pull_requests', 'read' | 'write'>
>

/** Cached tokens are not used in their last 5 minutes. */
export const TOKEN_MARGIN_MS = 5 * 60_000
const JWT_MARGIN_MS = 60_000
const MAX_CACHED = 5000

export const GITHUB_HEADERS = {
  Accept: 'application/vnd.github+json',
  'X-GitHub-Api-Version': '2022-11-28',
  'User-Agent': 'Junction',
}

export interface MintedToken {
  token: string
  /** Epoch ms. */
  expiresAt: number
}

export class InstallationTokens {
  readonly #cache = new Map<string, MintedToken>()
  readonly #inflight = new Map<string, Promise<MintedToken>>()
  #jwt: { key: string; token: string; expiresAt: number } | undefined

  constructor(
    readonly apiUrl: string,
    readonly http: HttpClient,
    readonly app: () => OAuthApp | undefined,
    readonly now: () => number = Date.now,
  ) {}

  /** The app JWT (`Authorization: Bearer`), re-signed a minute before it expires. */
  appJwt(): string {
    const app = this.app()
    const issuer = app?.clientId || app?.appId
    if (!app?.privateKey || !issuer)
      throw new ProviderRequestFailed(
        'No GitHub App is configured (its app id or client id and its private key)',
      )
    const key = `${issuer}|${app.privateKey.length}|${app.privateKey.slice(-64)}`
    const now = this.now()
    if (this.#jwt && this.#jwt.key === key && this.#jwt.expiresAt - JWT_MARGIN_MS > now)
      return this.#jwt.token
    const { token, expiresAt } = createAppJwt({
      issuer,
      privateKey: parseAppKey(app.privateKey),
      now,
    })
    this.#jwt = { key, token, expiresAt }
    return token
  }

  /** Headers for a call authenticated as the app itself. */
  appHeaders(): Record<string, string> {
    return { ...GITHUB_HEADERS, Authorization: `Bearer ${this.appJwt()}` }
  }

  #key(installationId: string, repository: string | undefined, p: TokenPermissions): string {
    const perms = Object.entries(p)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}:${v}`)
      .join(',')
    return `${installationId}|${repository?.toLowerCase() ?? '*'}|${perms}`
  }

  /**
   * A token of `installationId`, narrowed to `repository` (a name within the installation's
   * account) when given, and to `permissions`.
   * @throws ProviderNotFound (the repository is not in the installation); ProviderAuthFailed
   * (no such installation, installation suspended, app key refused)
   */
  async token(
    installationId: string,
    repository: string | undefined,
    permissions: TokenPermissions,
  ): Promise<MintedToken> {
    if (!/^\d{1,20}$/.test(installationId))
      throw new ProviderNotFound(`'${installationId.slice(0, 40)}' is not a GitHub installation id`)
    const key = this.#key(installationId, repository, permissions)
    const hit = this.#cache.get(key)
    if (hit && hit.expiresAt - TOKEN_MARGIN_MS > this.now()) return hit
    if (hit) this.#cache.delete(key)
    let p = this.#inflight.get(key)
    if (!p) {
      p = this.#mint(installationId, repository, permissions).finally(() =>
        this.#inflight.delete(key),
      )
      this.#inflight.set(key, p)
    }
    const minted = await p
    if (this.#cache.size >= MAX_CACHED) this.#cache.clear()
    this.#cache.set(key, minted)
    return minted
  }

  /** Forgets a token GitHub refused (revoked, installation suspended since). */
  drop(token: string): void {
    for (const [k, v] of this.#cache) if (v.token === token) this.#cache.delete(k)
  }

  /** The cached, still fresh token `token()` would return, without minting one. */
  cached(
    installationId: string,
    repository: string | undefined,
    permissions: TokenPermissions,
  ): MintedToken | undefined {
    const hit = this.#cache.get(this.#key(installationId, repository, permissions))
    return hit && hit.expiresAt - TOKEN_MARGIN_MS > this.now() ? hit : undefined
  }

  async #mint(
    installationId: string,
    repository: string | undefined,
    permissions: TokenPermissions,
  ): Promise<MintedToken> {
    const body: { repositories?: string[]; permissions?: TokenPermissions } = {}
    if (repository) body.repositories = [repository]
    if (Object.keys(permissions).length > 0) body.permissions = permissions
    const res = await this.http.request(
      `${this.apiUrl}/app/installations/${installationId}/access_tokens`,
      {
        method: 'POST',
        headers: { ...this.appHeaders(), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        accept: [401, 403, 404, 422],
      },
    )
    const answer = (await res.json().catch(() => ({}))) as Partial<GhInstallationToken> & {
      message?: string
    }
    const why = typeof answer.message === 'string' ? `: ${answer.message.slice(0, 200)}` : ''
    // The installation itself is gone (uninstalled, app deleted) or suspended: the connection's
    // credential stopped working, whatever the call was (no status: the keeper marks ERROR).
    if (res.status === 404)
      throw new ProviderAuthFailed(
        `GitHub has no installation ${installationId} of this app (uninstalled or the app deleted)`,
      )
    if (res.status === 403 && /suspend/i.test(why))
      throw new ProviderAuthFailed(`GitHub installation ${installationId} is suspended${why}`)
    if (res.status === 422)
      throw new ProviderNotFound(
        `GitHub refused a token for ${repository ?? 'the installation'}${why}`,
        422,
      )
    if (res.status === 401 || res.status === 403)
      throw new ProviderAuthFailed(
        `GitHub refused an installation token for installation ${installationId}${why}`,
        res.status,
      )
    const expiresAt = Date.parse(answer.expires_at ?? '')
    if (typeof answer.token !== 'string' || answer.token === '' || Number.isNaN(expiresAt))
      throw new ProviderRequestFailed(
        'GitHub answered an installation token without token or expiry',
      )
    return { token: answer.token, expiresAt }
  }
}
