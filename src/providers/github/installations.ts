/**
 * @module providers/github/installations
 * The GitHub App's side of a connection: where to send the browser to install the app, the user
 * authorization (`code` → user token, refresh), an installation checked with the app JWT, the
 * accounts a credential reaches (an installation's own; a user token's installations of the app;
 * a personal access token's own user or the organizations it reaches).
 */
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import type { InstallationTarget, Page, ProviderCredentials } from '../provider.js'
import type { GitHubClient } from './client.js'
import { toTarget, type GhAccount, type GhInstallation } from './convert.js'
import { userToken } from './oauth.js'
import { listRepositories } from './repositories.js'

/**
 * Where to send the browser: the app's installation page (`/apps/{slug}/installations/new`;
 * GHES `/github-apps/{slug}/…`); GitHub comes back to the app's setup URL with
 * `installation_id`, and `state` unchanged.
 */
export function installUrl(gh: GitHubClient, state: string): URL {
  const app = gh.requireApp()
  if (!app.slug) throw new ProviderRequestFailed('The GitHub App slug is not configured')
  const apps = gh.type === 'GitHubEnterpriseServer' ? 'github-apps' : 'apps'
  const u = new URL(`${gh.webUrl}/${apps}/${encodeURIComponent(app.slug)}/installations/new`)
  u.searchParams.set('state', state)
  return u
}

/** The user-to-server token of the app's user authorization (`ghu_…`, 8 h with `ghr_…`). */
export function exchangeUserCode(gh: GitHubClient, code: string): Promise<ProviderCredentials> {
  return userToken(gh.http, gh.webUrl, gh.requireApp(), { code })
}

export function refreshUserToken(
  gh: GitHubClient,
  c: ProviderCredentials,
): Promise<ProviderCredentials> {
  if (c.kind !== 'oauth' || !c.refreshToken)
    throw new ProviderAuthFailed('This GitHub credential cannot be refreshed')
  return userToken(gh.http, gh.webUrl, gh.requireApp(), {
    grant_type: 'refresh_token',
    refresh_token: c.refreshToken,
  })
}

/**
 * `GET /app/installations/{id}` with the app JWT: the installation exists for this app and
 * is not suspended. @throws ProviderNotFound; ProviderAuthFailed when suspended
 */
export async function verifyInstallation(
  gh: GitHubClient,
  installationId: string,
): Promise<InstallationTarget> {
  if (!/^\d{1,20}$/.test(installationId))
    throw new ProviderNotFound(`'${installationId.slice(0, 40)}' is not a GitHub installation id`)
  const i = await gh.http.json<GhInstallation>(`${gh.apiUrl}/app/installations/${installationId}`, {
    headers: gh.tokens.appHeaders(),
  })
  if (i.suspended_at)
    throw new ProviderAuthFailed(`GitHub installation ${installationId} is suspended`)
  return toTarget(i)
}

/** A user token's installations of this app (`GET /user/installations`, every page). */
export async function userInstallations(
  gh: GitHubClient,
  c: ProviderCredentials,
): Promise<InstallationTarget[]> {
  const out: InstallationTarget[] = []
  let next: string | undefined = `${gh.apiUrl}/user/installations?per_page=100`
  while (next && out.length < 10_000) {
    const page: Page<InstallationTarget> = await gh.page(
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

/**
 * What a personal access token reaches: its own user (`GET /user`) and, when `target` is another
 * account, that organization (`GET /orgs/{org}`: a fine-grained token is made for one owner).
 * The target id is `pat:<account id>` so it never meets an app installation's id.
 * @throws ProviderAuthFailed when GitHub refuses the token; ProviderNotFound for another account
 */
export async function tokenTarget(
  gh: GitHubClient,
  c: ProviderCredentials,
  target: string,
): Promise<InstallationTarget> {
  const user = await tokenUser(gh, c)
  if (user.slug.toLowerCase() === target.toLowerCase()) return user
  if (!/^[A-Za-z0-9-]{1,39}$/.test(target))
    throw new ProviderNotFound(`'${target.slice(0, 40)}' is not a GitHub account`)
  const res = await gh.call(c, undefined, {}, `${gh.apiUrl}/orgs/${target}`, { accept: [404, 403] })
  if (!res.ok) {
    await res.body?.cancel()
    throw new ProviderNotFound(`The token does not reach the GitHub account ${target}`, res.status)
  }
  const org = accountTarget((await res.json()) as GhAccount)
  // GitHub shows any organization to any token: the token must reach one of its repositories
  // (a fine-grained token made with the organization as its resource owner).
  let next: string | undefined
  for (let pages = 0; pages < 20; pages++) {
    const page = await listRepositories(gh, c, target, next)
    if (page.items.length > 0) return org
    if (!(next = page.next)) break
  }
  throw new ProviderNotFound(
    `The token reaches no repository of the GitHub organization ${target}: make a fine-grained token with ${target} as its resource owner and the repositories selected`,
  )
}

/** The user a personal access token belongs to (`GET /user`). @throws ProviderAuthFailed */
export async function tokenUser(
  gh: GitHubClient,
  c: ProviderCredentials,
): Promise<InstallationTarget> {
  return accountTarget(await gh.json<GhAccount>(c, undefined, {}, `${gh.apiUrl}/user`))
}

function accountTarget(a: GhAccount): InstallationTarget {
  const login = a.login ?? ''
  return { id: `pat:${a.id ?? login}`, slug: login, name: a.name ?? login, administrator: true }
}
