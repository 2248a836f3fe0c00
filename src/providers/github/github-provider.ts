/**
 * @module providers/github/github-provider
 * GitHub (and GitHub Enterprise Server) through a GitHub App, as AWS's own connector works
 * (providers.md §2–3): a connection's credential is an installation (`github-installation`,
 * `installationId`); every call mints, or reuses until 5 minutes before expiry, an installation
 * token narrowed to the repository and read permissions it needs (`tokens.ts`). A user's OAuth
 * token (the app's user authorization, `exchangeCode`) and personal access tokens are sent as
 * they are. Webhooks are the app's one webhook (no per-repository registration).
 *
 * The work is split by idea: `client.ts` (calls, tokens, pages), `installations.ts` (the app, the
 * user authorization, what a credential reaches), `repositories.ts` (repositories, branches,
 * commits), `changes.ts` (changed files, archives, Git credentials), `pulls.ts`.
 *
 * Base URLs are configuration: `https://github.com` and `https://api.github.com` by default,
 * `https://HOST` and `https://HOST/api/v3` for GHES, a sandbox's in tests.
 */
import { ProviderNotFound } from '../errors.js'
import type { HttpClientOptions } from '../http-client.js'
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
import * as changes from './changes.js'
import { GitHubClient, type GitHubType } from './client.js'
import * as installations from './installations.js'
import * as pulls from './pulls.js'
import * as repos from './repositories.js'
import type { InstallationTokens } from './tokens.js'
import { splitFullName } from './urls.js'
import { parseGitHubWebhook } from './webhook.js'

export { GITHUB_DEFAULTS } from './client.js'
export { COMPARE_FILES_CAP } from './changes.js'

export interface GitHubProviderOptions {
  /** `GitHub` (default) or `GitHubEnterpriseServer` (needs a host's endpoints). */
  type?: GitHubType
  endpoints?: ProviderEndpoints
  /** The GitHub App (client id/secret, app id, private key, slug), or a function giving it. */
  app?: OAuthApp | (() => OAuthApp | undefined)
  http?: HttpClientOptions
}

export class GitHubProvider implements GitProvider {
  readonly type: GitHubType
  readonly capabilities: GitProvider['capabilities']
  readonly #gh: GitHubClient

  constructor(o: GitHubProviderOptions = {}) {
    this.type = o.type ?? 'GitHub'
    this.capabilities = {
      hosts: this.type === 'GitHubEnterpriseServer',
      // Installation tokens are minted per use inside the adapter; user tokens are not refreshed.
      tokenRefresh: false,
      changedFilesInPushEvents: true,
    }
    this.#gh = new GitHubClient({ ...o, type: this.type })
  }

  get endpoints(): ProviderEndpoints {
    return this.#gh.endpoints
  }

  /** The installation token cache (tests inspect its narrowing). */
  get tokens(): InstallationTokens {
    return this.#gh.tokens
  }

  // ---- the app, its installations and what a credential reaches (installations.ts) ----------

  authorizationUrl(state: string): URL {
    return installations.installUrl(this.#gh, state)
  }

  /** The user-to-server token of the app's user authorization (`ghu_…`, 8 h with `ghr_…`). */
  exchangeCode(code: string): Promise<ProviderCredentials> {
    return installations.exchangeUserCode(this.#gh, code)
  }

  refreshCredentials(c: ProviderCredentials): Promise<ProviderCredentials> {
    return installations.refreshUserToken(this.#gh, c)
  }

  verifyInstallation(installationId: string): Promise<InstallationTarget> {
    return installations.verifyInstallation(this.#gh, installationId)
  }

  /** An installation's own account; a personal access token's user; a user token's installations. */
  async listInstallationTargets(c: ProviderCredentials): Promise<InstallationTarget[]> {
    if (c.kind === 'github-installation')
      return [await this.verifyInstallation(c.installationId ?? '')]
    if (c.kind === 'access-token') return [await installations.tokenUser(this.#gh, c)]
    return installations.userInstallations(this.#gh, c)
  }

  /** '' for an installation: its own account (CompleteConnection with InstallationId alone). */
  async verifyTarget(c: ProviderCredentials, target: string): Promise<InstallationTarget> {
    if (c.kind === 'access-token') return installations.tokenTarget(this.#gh, c, target)
    if (c.kind === 'github-installation' && target === '')
      return this.verifyInstallation(c.installationId ?? '')
    const found = (await this.listInstallationTargets(c)).find(
      (t) => t.slug.toLowerCase() === target.toLowerCase(),
    )
    if (!found)
      throw new ProviderNotFound(`The GitHub App is not installed on ${target.slice(0, 100)}`)
    return found
  }

  // ---- repositories, branches, commits (repositories.ts) -------------------------------------

  listRepositories(c: ProviderCredentials, owner: string, next?: string) {
    return repos.listRepositories(this.#gh, c, owner, next)
  }

  getRepository(c: ProviderCredentials, fullName: string): Promise<RepositoryInfo> {
    return repos.getRepository(this.#gh, c, fullName)
  }

  listBranches(c: ProviderCredentials, fullName: string, next?: string): Promise<Page<BranchInfo>> {
    return repos.listBranches(this.#gh, c, fullName, next)
  }

  getBranch(c: ProviderCredentials, fullName: string, branch: string): Promise<BranchInfo> {
    return repos.getBranch(this.#gh, c, fullName, branch)
  }

  branchHeads(c: ProviderCredentials, fullName: string, branches: string[]): Promise<BranchHeads> {
    return repos.branchHeads(this.#gh, c, fullName, branches)
  }

  getCommit(c: ProviderCredentials, fullName: string, commit: string): Promise<CommitInfo> {
    return repos.getCommit(this.#gh, c, fullName, commit)
  }

  // ---- changed files, archives, Git (changes.ts) ---------------------------------------------

  changedFiles(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    base?: string,
    fromMergeBase = false,
  ): Promise<ChangedFile[]> {
    return changes.changedFiles(this.#gh, c, fullName, commit, base, fromMergeBase)
  }

  downloadArchive(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    opts: ArchiveOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    return changes.downloadArchive(this.#gh, c, fullName, commit, opts)
  }

  gitCredentials(c: ProviderCredentials, fullName: string) {
    return changes.gitCredentials(this.#gh, c, fullName)
  }

  cloneCredentials(c: ProviderCredentials, fullName: string) {
    return changes.cloneCredentials(this.#gh, c, fullName)
  }

  gitHost(): string {
    return new URL(this.#gh.webUrl).host
  }

  /** As GitHub's own `html_url`s: `{web}/{o}/{r}` and `{web}/{o}/{r}/commit/{sha}`. */
  webLinks(fullName: string, commit?: string): WebLinks {
    const [owner, repo] = splitFullName(fullName)
    const repository = `${this.#gh.webUrl}/${owner}/${repo}`
    return commit === undefined
      ? { repository }
      : { repository, commit: `${repository}/commit/${encodeURIComponent(commit)}` }
  }

  // ---- webhooks: the app's one webhook --------------------------------------------------------

  /** The app's one webhook already covers every installation: nothing is registered. */
  registerWebhook(): Promise<WebhookRef> {
    return Promise.resolve({ id: 'app' })
  }

  /** Nothing was registered per repository: nothing to remove. */
  deleteWebhook(): Promise<void> {
    return Promise.resolve()
  }

  /** The GitHub App's webhook secret (for `<public-url>/webhooks/github`). */
  appWebhookSecret(): string | undefined {
    return this.#gh.app()?.webhookSecret || undefined
  }

  parseWebhook(req: RawWebhook, secret: string) {
    return parseGitHubWebhook(req, secret)
  }

  // ---- pull requests (pulls.ts) ---------------------------------------------------------------

  listPullRequests(
    c: ProviderCredentials,
    fullName: string,
    next?: string,
  ): Promise<Page<PullRequestInfo>> {
    return pulls.listPullRequests(this.#gh, c, fullName, next)
  }

  getPullRequest(c: ProviderCredentials, fullName: string, num: number): Promise<PullRequestInfo> {
    return pulls.getPullRequest(this.#gh, c, fullName, num)
  }
}
