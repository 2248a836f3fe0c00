/**
 * @module providers/gitlab/gitlab-provider
 * GitLab (gitlab.com, `GitLab`) and self-managed instances (`GitLabSelfManaged`, through a host)
 * with OAuth applications (providers.md §4): an authorization-code handshake with PKCE and
 * rotating refresh tokens, or access tokens handed to `CompleteConnection`. A repository is a
 * project, named by its `path_with_namespace` (nested groups: `acme/platform/tools/api`) or its
 * numeric id where GitLab's `:id` takes one. Webhooks are per project.
 *
 * The work is split by idea: `client.ts` (calls, auth, pages), `oauth.ts`, `namespaces.ts`
 * (targets, their projects, reach), `repositories.ts` (projects, branches, commits), `changes.ts`
 * (changed files, archives, Git), `merge-requests.ts`, `hooks.ts`, `webhook.ts` (deliveries).
 */
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
  WebhookSpec,
  WebLinks,
} from '../provider.js'
import * as changes from './changes.js'
import { GitLabClient, type GitLabType } from './client.js'
import * as hooks from './hooks.js'
import * as mrs from './merge-requests.js'
import * as ns from './namespaces.js'
import * as oauth from './oauth.js'
import * as repos from './repositories.js'
import { NUMERIC_ID, projectId } from './urls.js'
import { parseGitLabWebhook } from './webhook.js'

export { GITLAB_DEFAULTS, selfManagedEndpoints } from './client.js'

export interface GitLabProviderOptions {
  /** `GitLab` (default) or `GitLabSelfManaged` (needs a host's endpoints). */
  type?: GitLabType
  endpoints?: ProviderEndpoints
  /** The OAuth application, or a function giving the current one. */
  app?: OAuthApp | (() => OAuthApp | undefined)
  http?: HttpClientOptions
  /** Compare answers with this many files are read over Git instead (default 100; tests lower it). */
  compareFilesCap?: number
}

export class GitLabProvider implements GitProvider {
  readonly type: GitLabType
  readonly capabilities: GitProvider['capabilities']
  readonly #gl: GitLabClient

  constructor(o: GitLabProviderOptions = {}) {
    this.type = o.type ?? 'GitLab'
    this.capabilities = {
      hosts: this.type === 'GitLabSelfManaged',
      tokenRefresh: true,
      // Only when a push's commits all fit in the payload (webhook.ts).
      changedFilesInPushEvents: false,
      // `/projects/:id` takes a project id as well as a URL-encoded path (urls.ts).
      numericRepositoryIds: true,
    }
    this.#gl = new GitLabClient({ ...o, type: this.type })
  }

  get endpoints(): ProviderEndpoints {
    return this.#gl.endpoints
  }

  // ---- OAuth (oauth.ts) -----------------------------------------------------------------------

  authorizationUrl(state: string): URL {
    return oauth.authorizationUrl(this.#gl, state)
  }

  /** `callback.state` is the handshake's state, from which the PKCE verifier is derived. */
  exchangeCode(code: string, callback?: Record<string, string>): Promise<ProviderCredentials> {
    return oauth.exchangeCode(this.#gl, code, callback)
  }

  refreshCredentials(c: ProviderCredentials): Promise<ProviderCredentials> {
    return oauth.refreshCredentials(this.#gl, c)
  }

  // ---- namespaces and their projects (namespaces.ts) ------------------------------------------

  listInstallationTargets(c: ProviderCredentials): Promise<InstallationTarget[]> {
    return ns.listInstallationTargets(this.#gl, c)
  }

  verifyTarget(c: ProviderCredentials, target: string): Promise<InstallationTarget> {
    return ns.verifyTarget(this.#gl, c, target)
  }

  listRepositories(c: ProviderCredentials, owner: string, next?: string) {
    return ns.listRepositories(this.#gl, c, owner, next)
  }

  // ---- projects, branches, commits (repositories.ts) ------------------------------------------

  getRepository(c: ProviderCredentials, fullName: string): Promise<RepositoryInfo> {
    return repos.getRepository(this.#gl, c, fullName)
  }

  listBranches(c: ProviderCredentials, fullName: string, next?: string): Promise<Page<BranchInfo>> {
    return repos.listBranches(this.#gl, c, fullName, next)
  }

  getBranch(c: ProviderCredentials, fullName: string, branch: string): Promise<BranchInfo> {
    return repos.getBranch(this.#gl, c, fullName, branch)
  }

  branchHeads(c: ProviderCredentials, fullName: string, branches: string[]): Promise<BranchHeads> {
    return repos.branchHeads(this.#gl, c, fullName, branches)
  }

  getCommit(c: ProviderCredentials, fullName: string, commit: string): Promise<CommitInfo> {
    return repos.getCommit(this.#gl, c, fullName, commit)
  }

  // ---- changed files, archives, Git (changes.ts) ----------------------------------------------

  changedFiles(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    base?: string,
    fromMergeBase = false,
  ): Promise<ChangedFile[]> {
    return changes.changedFiles(this.#gl, c, fullName, commit, base, fromMergeBase)
  }

  downloadArchive(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    opts: ArchiveOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    return changes.downloadArchive(this.#gl, c, fullName, commit, opts)
  }

  cloneCredentials(c: ProviderCredentials, fullName: string) {
    return changes.cloneCredentials(this.#gl, c, fullName)
  }

  gitHost(): string {
    return new URL(this.#gl.webUrl).host
  }

  /**
   * As GitLab's own `web_url`s: `{web}/{path}` and `{web}/{path}/-/commit/{sha}`; a numeric id's
   * page is `{web}/projects/{id}` (GitLab redirects it to the project).
   */
  webLinks(fullName: string, commit?: string): WebLinks {
    projectId(fullName)
    const path = NUMERIC_ID.test(fullName)
      ? `projects/${fullName}`
      : fullName.split('/').map(encodeURIComponent).join('/')
    const repository = `${this.#gl.webUrl}/${path}`
    return commit === undefined
      ? { repository }
      : { repository, commit: `${repository}/-/commit/${encodeURIComponent(commit)}` }
  }

  // ---- webhooks (hooks.ts, webhook.ts) --------------------------------------------------------

  registerWebhook(
    c: ProviderCredentials,
    fullName: string,
    hook: WebhookSpec,
  ): Promise<WebhookRef> {
    return hooks.registerWebhook(this.#gl, c, fullName, hook)
  }

  deleteWebhook(c: ProviderCredentials, fullName: string, ref: WebhookRef): Promise<void> {
    return hooks.deleteWebhook(this.#gl, c, fullName, ref)
  }

  parseWebhook(req: RawWebhook, secret: string) {
    return parseGitLabWebhook(req, secret)
  }

  // ---- merge requests (merge-requests.ts) -----------------------------------------------------

  listPullRequests(
    c: ProviderCredentials,
    fullName: string,
    next?: string,
  ): Promise<Page<PullRequestInfo>> {
    return mrs.listPullRequests(this.#gl, c, fullName, next)
  }

  getPullRequest(c: ProviderCredentials, fullName: string, num: number): Promise<PullRequestInfo> {
    return mrs.getPullRequest(this.#gl, c, fullName, num)
  }
}
