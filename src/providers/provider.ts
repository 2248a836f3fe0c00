/**
 * @module providers/provider
 * The one interface every Git provider adapter implements (STYLE §5.6: kysely's shape, woodpecker's
 * contract). Core code asks `capabilities`, never `type === …`. Adapters never see the store or
 * the master key: they take credentials in and hand (possibly refreshed) credentials back.
 */

/**
 * What a credential may be used for within its target (the Bitbucket workspace): the whole
 * target, one project's repositories, or one repository. A token that reaches more (a workspace
 * access token, a user's OAuth or API token) is narrowed to it by Junction; one that reaches less
 * (a repository access token) can only be given its own repository.
 */
export interface CredentialReach {
  /** A project key (Bitbucket: upper-case, e.g. `CORE`): only repositories of that project. */
  project?: string
  /**
   * A repository within the target, as its path below the target (a Bitbucket slug; GitLab:
   * `api`, or `tools/api` in a subgroup of the target group): only that repository.
   */
  repository?: string
}

/** A provider credential as the adapter uses it; only ever held in memory, sealed at rest. */
export interface ProviderCredentials {
  /**
   * `oauth`: an OAuth access token with a refresh token; `access-token`: a static token the
   * provider issued to a workspace, project or repository (not to a user); `api-token`: a user's
   * scoped API token (Bitbucket: an Atlassian API token, used with the account's email);
   * `github-installation`: a GitHub App installation (`installationId`), for which the adapter
   * mints short-lived installation tokens itself with the app's key (`accessToken` may be empty
   * or hold a recent installation token; it is never needed to use the credential).
   */
  kind: 'oauth' | 'access-token' | 'api-token' | 'github-installation'
  /** For `github-installation`: the installation's id (decimal, as GitHub numbers them). */
  installationId?: string
  /** For `access-token`: what the provider issued it to (absent on old records: `workspace`). */
  level?: 'workspace' | 'project' | 'repository'
  /** What Junction lets it reach within the target (absent: the whole target). */
  reach?: CredentialReach
  /** For `api-token`: the account's email (Bitbucket's REST API takes `email:token` Basic auth). */
  email?: string
  accessToken: string
  refreshToken?: string
  /** Epoch ms when the access token stops working (absent when it does not expire). */
  expiresAt?: number
}

export interface ProviderCapabilities {
  /** Connections of this provider need a host (self-managed servers). */
  hosts: boolean
  /** Credentials expire and can be refreshed with `refreshCredentials`. */
  tokenRefresh: boolean
  /** The provider's push events list changed files (if not, ask `changedFiles`). */
  changedFilesInPushEvents: boolean
  /**
   * A repository may be named by its numeric id (GitLab's project id) wherever a path is taken
   * (`getRepository` answers the path). Core code resolves such an id before deciding scope or IAM.
   */
  numericRepositoryIds?: boolean
}

/** Where the adapter reaches the provider (configuration, so tests can aim at a sandbox). */
export interface ProviderEndpoints {
  /** The web (and Git) base URL, e.g. `https://bitbucket.org`. */
  webUrl: string
  /** The REST base URL, e.g. `https://api.bitbucket.org/2.0`. */
  apiUrl: string
}

/** The OAuth application the operator registered with the provider. */
export interface OAuthApp {
  clientId: string
  clientSecret: string
  /** `<public-url>/oauth/<provider>/callback`. */
  callbackUrl: string
  /** GitHub Apps: the numeric app id (JWT `iss` when `clientId` is absent). */
  appId?: string
  /** GitHub Apps: the app's private key (PEM), which signs app JWTs. */
  privateKey?: string
  /** GitHub Apps: the app's URL name (`/apps/{slug}/installations/new`). */
  slug?: string
  /** Providers with one app-level webhook (GitHub Apps): the secret its deliveries are signed with. */
  webhookSecret?: string
}

/** An account a user may install Junction into (a Bitbucket workspace). */
export interface InstallationTarget {
  /** Stable id (Bitbucket: the workspace UUID without braces); becomes the installation id. */
  id: string
  /** The slug or login used in repository ids (`<target>/<repo>`). */
  slug: string
  name: string
  /** Whether the user administers it (needed to install). */
  administrator: boolean
}

export interface RepositoryInfo {
  /** `owner/name` (Bitbucket `workspace/slug`). */
  fullName: string
  owner: string
  name: string
  id: string
  isPrivate: boolean
  defaultBranch: string | null
  cloneUrl: string
  /** The project the repository belongs to (Bitbucket: its key), when the provider says. */
  project?: string
}

export interface CommitInfo {
  id: string
  /** ISO 8601. */
  authorDate: string
  message: string
  author: string
  parents: string[]
}

export interface BranchInfo {
  name: string
  commit: CommitInfo
}

export interface ChangedFile {
  status: 'added' | 'removed' | 'modified' | 'renamed'
  path: string
  oldPath?: string
}

export interface WebhookSpec {
  url: string
  secret: string
  description: string
  events: ProviderEventKind[]
}

export interface WebhookRef {
  id: string
}

export type ProviderEventKind = 'push' | 'pull_request'

/** A change to one ref in a push. */
export interface PushChange {
  kind: 'branch' | 'tag'
  name: string
  /** Commit before the push (absent for a new ref). */
  before?: string
  /** Commit after the push (absent for a deleted ref). */
  after?: string
  created: boolean
  deleted: boolean
  forced: boolean
  /** Newest first, possibly truncated by the provider. */
  commits: { id: string; message: string }[]
}

export interface PushEvent {
  kind: 'push'
  deliveryId: string
  repository: { fullName: string; id: string }
  /** The provider app installation the delivery came through (GitHub Apps). */
  installationId?: string
  changes: PushChange[]
  /** Changed files when the provider sends them (Bitbucket never does). */
  changedFiles?: string[]
}

export interface PullRequestEvent {
  kind: 'pull_request'
  deliveryId: string
  repository: { fullName: string; id: string }
  /** The provider app installation the delivery came through (GitHub Apps). */
  installationId?: string
  action: 'OPEN' | 'UPDATED' | 'CLOSED'
  /** Merged (CLOSED by merge) or declined. */
  merged: boolean
  number: number
  title: string
  sourceBranch: string
  destinationBranch: string
  /** As the provider sends it (Bitbucket: a 12-character abbreviation; resolve it). */
  sourceCommit: string
  destinationCommit: string
}

export type ProviderEvent = PushEvent | PullRequestEvent

/**
 * A change to a provider app's installation (GitHub: `installation`, `installation_repositories`,
 * `installation_target`, `github_app_authorization`), for the connect layer to mark connections.
 */
export interface InstallationChange {
  /** `created`, `deleted`, `suspend`, `unsuspend`, `new_permissions_accepted`,
   * `repositories_added`, `repositories_removed`, `renamed`, `authorization_revoked`. */
  action: string
  /** Absent for `authorization_revoked` (a user's authorization, not an installation). */
  installationId?: string
  /** The account the app is installed on (login), when the payload names it. */
  account?: string
  /** `all` or `selected`, when the payload says. */
  repositorySelection?: 'all' | 'selected'
  /** Full names added to / removed from the installation (or listed on `created`). */
  repositoriesAdded?: string[]
  repositoriesRemoved?: string[]
}

/** A verified delivery that carries nothing Junction acts on (e.g. a comment). */
export interface IgnoredEvent {
  kind: 'ignored'
  deliveryId: string
  reason: string
  /** Set for provider app installation changes (acted on by the connect layer, not pipelines). */
  installation?: InstallationChange
}

export interface RawWebhook {
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** A pull request as the provider lists it. */
export interface PullRequestInfo {
  number: number
  title: string
  state: 'OPEN' | 'CLOSED' | 'MERGED'
  sourceBranch: string
  /** Full commit id of the source branch's head. */
  sourceCommit: string
  /** The repository the source branch lives in (a fork's differs). */
  sourceRepository: string
  destinationBranch: string
  destinationCommit: string
}

/** Web pages on the provider a person can open (the CodePipeline `entityUrl`/`revisionUrl`). */
export interface WebLinks {
  repository: string
  /** Present when a commit was asked for. */
  commit?: string
}

/** One page of a provider listing; `next` is opaque and passed back to get the next page. */
export interface Page<T> {
  items: T[]
  next?: string
}

/** What one poll of a repository found (`branchHeads`). */
export interface BranchHeads {
  /** Head commit per asked branch; branches that do not exist are absent. */
  heads: Map<string, { id: string; message: string }>
  /** The hourly request limit the provider announced for the credential, when it does. */
  limitPerHour?: number
  /** The provider said the credential is close to its limit. */
  nearLimit?: boolean
}

/** Bounds of a source archive download. */
export interface ArchiveOptions {
  /** The most the transfer may bring (the operator's --max-source-archive-size). */
  maxBytes?: number
  /** Where temporary files go (default: the OS temporary directory). */
  tmpDir?: string
  /**
   * `false`: the tree's files at the zip's root, as a CODE_ZIP artifact holds them (default: one
   * top folder, as the provider's own downloads have).
   */
  topFolder?: boolean
}

export interface GitProvider {
  readonly type: string
  readonly capabilities: ProviderCapabilities

  /** The consent URL to send the browser to; `state` comes back on the callback unchanged. */
  authorizationUrl(state: string): URL
  /**
   * Exchanges the callback's code for the user's credentials. `callback` holds the redirect's
   * other query parameters (an app installation's `installation_id` and `setup_action`), to be
   * verified with the provider, never trusted as they are, and `state`: the signed state the
   * consent came back with, as `authorizationUrl` got it (a PKCE verifier derives from it).
   * @throws ProviderAuthFailed when the code is invalid, used or expired.
   */
  exchangeCode(code: string, callback?: Record<string, string>): Promise<ProviderCredentials>
  /**
   * Returns fresh credentials (a new access token; the refresh token may change).
   * @throws ProviderAuthFailed when the refresh token was revoked.
   */
  refreshCredentials?(c: ProviderCredentials): Promise<ProviderCredentials>
  /** The accounts the credential's user belongs to, marking those they administer. */
  listInstallationTargets(c: ProviderCredentials): Promise<InstallationTarget[]>
  /**
   * Checks that the credential reaches `target` (a workspace slug), and within it `c.reach` (a
   * project or a repository) as its kind allows, and returns the target.
   * @throws ProviderAuthFailed when the token does not work; ProviderNotFound when the target is
   * not reachable with it; ProviderRequestFailed when the kind cannot be used this way.
   */
  verifyTarget(c: ProviderCredentials, target: string): Promise<InstallationTarget>
  /** The target's repositories, only those within `c.reach` when it is narrowed. */
  listRepositories(
    c: ProviderCredentials,
    owner: string,
    next?: string,
  ): Promise<Page<RepositoryInfo>>
  /** @throws ProviderNotFound */
  getRepository(c: ProviderCredentials, fullName: string): Promise<RepositoryInfo>
  listBranches(c: ProviderCredentials, fullName: string, next?: string): Promise<Page<BranchInfo>>
  /** @throws ProviderNotFound when the repository or branch does not exist. */
  getBranch(c: ProviderCredentials, fullName: string, branch: string): Promise<BranchInfo>
  /**
   * The heads of the named branches in as few requests as the provider allows (polling: one per
   * repository where it can filter a listing). A 429 is not retried: it throws ProviderRateLimited.
   */
  branchHeads?(c: ProviderCredentials, fullName: string, branches: string[]): Promise<BranchHeads>
  /** Resolves a full or abbreviated commit id. @throws ProviderNotFound */
  getCommit(c: ProviderCredentials, fullName: string, commit: string): Promise<CommitInfo>
  /**
   * Files changed by `commit` relative to `base` (default: its first parent), in `git diff base
   * commit` order of meaning: `added` means present in `commit` only. With `fromMergeBase` the
   * diff starts at the merge base of the two (a pull request's own changes, `git diff base...commit`).
   */
  changedFiles(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    base?: string,
    fromMergeBase?: boolean,
  ): Promise<ChangedFile[]>
  /**
   * A zip of the tree at `commit` (one top folder unless `opts.topFolder` is false; no `.git`),
   * streamed, fetched only through mechanisms the provider accepts for the credential
   * (Bitbucket: Git over HTTPS, see `git-archive.ts`).
   * @throws ProviderNotFound; GitArchiveTooLarge past `opts.maxBytes`
   */
  downloadArchive(
    c: ProviderCredentials,
    fullName: string,
    commit: string,
    opts?: ArchiveOptions,
  ): Promise<ReadableStream<Uint8Array>>
  /** What `git clone` over HTTPS needs: the URL and Basic-auth user and password. */
  cloneCredentials(
    c: ProviderCredentials,
    fullName: string,
  ): { url: string; username: string; password: string }
  /**
   * What `git clone` needs when it can only be had over the network (providers whose credentials
   * are minted per use, e.g. GitHub installation tokens). Callers prefer it to `cloneCredentials`
   * when present.
   */
  gitCredentials?(
    c: ProviderCredentials,
    fullName: string,
  ): Promise<{ url: string; username: string; password: string; expiresAt?: number }>
  /**
   * For app-installation handshakes (the descriptor's `handshake`): checks with the app's own credential that
   * the installation exists, is not suspended, and returns its account (never trust the id a
   * browser brings back). @throws ProviderNotFound; ProviderAuthFailed when suspended.
   */
  verifyInstallation?(installationId: string): Promise<InstallationTarget>
  /**
   * For app-level webhooks (the descriptor's `webhooks: 'app'`): the secret the app's deliveries
   * are signed with, when the app is configured (never logged or answered).
   */
  appWebhookSecret?(): string | undefined
  /** Open pull requests (newest first). @throws ProviderNotFound */
  listPullRequests?(
    c: ProviderCredentials,
    fullName: string,
    next?: string,
  ): Promise<Page<PullRequestInfo>>
  /** One pull request by number. @throws ProviderNotFound */
  getPullRequest?(c: ProviderCredentials, fullName: string, num: number): Promise<PullRequestInfo>
  /** The HTTPS host Git clone URLs of this provider use (for the credential helper). */
  gitHost(): string
  /** The repository's page and, with `commit`, the commit's page. @throws ProviderNotFound */
  webLinks(fullName: string, commit?: string): WebLinks
  registerWebhook(c: ProviderCredentials, fullName: string, hook: WebhookSpec): Promise<WebhookRef>
  /** Removes the webhook; a webhook already gone is not an error. */
  deleteWebhook(c: ProviderCredentials, fullName: string, ref: WebhookRef): Promise<void>
  /**
   * Verifies the delivery's signature over the raw body and parses it.
   * @throws WebhookRejected when the signature is missing or wrong, or the body malformed.
   */
  parseWebhook(req: RawWebhook, secret: string): ProviderEvent | IgnoredEvent
}
