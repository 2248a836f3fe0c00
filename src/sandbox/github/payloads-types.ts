/**
 * @module sandbox/github/payloads-types
 * The plain data the sandbox GitHub's webhook payload builders take (see payloads.ts).
 */

/** The sandbox's base URLs: `web` for pages and clones, `api` for REST (GHES: `<web>/api/v3`). */
export interface HookUrls {
  web: string
  api: string
}

/** A user or organization account. */
export interface HookAccount {
  login: string
  id: number
  type: 'User' | 'Organization'
  /** A user's commit email (the push payload's `owner.email`/`pusher.email`). */
  email?: string
  /** An organization's description. */
  description?: string
}

export interface HookRepository {
  id: number
  name: string
  owner: HookAccount
  private: boolean
  defaultBranch: string
  description?: string | null
  /** ISO 8601 times. */
  createdAt: string
  updatedAt?: string
  pushedAt?: string
}

/** The installation a delivery is made for (`installation: {id, node_id}`). */
export interface HookInstallationRef {
  id: number
}

export interface HookPerson {
  name: string
  /** An address with a dotted domain: GitHub's schema checks `format: email`. */
  email: string
  /** The GitHub login the email maps to, when it does. */
  username?: string
}

/** A commit as a push lists it. */
export interface HookCommit {
  id: string
  treeId: string
  message: string
  /** ISO 8601 with offset (the author date). */
  timestamp: string
  author: HookPerson
  /** Defaults to the author. */
  committer?: HookPerson
  added: string[]
  removed: string[]
  modified: string[]
  /** False when the commit was already on another branch. Default true. */
  distinct?: boolean
}

export interface PushInput {
  urls: HookUrls
  repository: HookRepository
  installation?: HookInstallationRef
  sender: HookAccount
  /** Defaults to the sender's login and email. */
  pusher?: { name: string; email: string | null }
  /** `refs/heads/<branch>` or `refs/tags/<tag>`. */
  ref: string
  /** 40 zeros when the ref is created. */
  before: string
  /** 40 zeros when the ref is deleted. */
  after: string
  /** Oldest first, as GitHub lists them (at most 2048; `distinct` ones for a plain push). */
  commits: HookCommit[]
  /** The ref's new head commit; defaults to the last of `commits` (null on deletion). */
  headCommit?: HookCommit | null
  /** The new head is not a descendant of the old one. */
  forced?: boolean
  /** The branch a new ref was pushed from, as `refs/heads/x` (GitHub's `base_ref`). */
  baseRef?: string | null
}

export interface RefEventInput {
  urls: HookUrls
  repository: HookRepository
  installation?: HookInstallationRef
  sender: HookAccount
  /** The short name (`main`, `v1.0`), as create/delete events carry it. */
  ref: string
  refType: 'branch' | 'tag'
}

/** One side of a pull request. */
export interface HookPullRequestSide {
  ref: string
  sha: string
  repository: HookRepository
}

export interface HookPullRequest {
  id: number
  number: number
  title: string
  body?: string | null
  user: HookAccount
  head: HookPullRequestSide
  base: HookPullRequestSide
  state: 'open' | 'closed'
  draft?: boolean
  merged?: boolean
  mergedBy?: HookAccount | null
  mergeCommitSha?: string | null
  /** ISO 8601 times. */
  createdAt: string
  updatedAt: string
  closedAt?: string | null
  mergedAt?: string | null
  commits?: number
  additions?: number
  deletions?: number
  changedFiles?: number
}

export type PullRequestAction = 'opened' | 'synchronize' | 'reopened' | 'closed' | 'edited'

export interface PullRequestInput {
  urls: HookUrls
  action: PullRequestAction
  pullRequest: HookPullRequest
  /** The base repository (the one the pull request is in). */
  repository: HookRepository
  installation?: HookInstallationRef
  sender: HookAccount
  /** `synchronize`: the head before and after the push. */
  before?: string
  after?: string
  /** `edited`: the previous values of what changed. */
  changes?: { title?: string; body?: string | null; baseRef?: string; baseSha?: string }
}

/** An installation of the sandbox's GitHub App on an account. */
export interface HookInstallation {
  id: number
  appId: number
  appSlug: string
  clientId?: string
  account: HookAccount
  repositorySelection: 'all' | 'selected'
  permissions: Record<string, 'read' | 'write' | 'admin'>
  events: string[]
  /** ISO 8601 times. */
  createdAt: string
  updatedAt: string
  suspendedAt?: string | null
  suspendedBy?: HookAccount | null
}

export type InstallationAction =
  'created' | 'deleted' | 'suspend' | 'unsuspend' | 'new_permissions_accepted'

export interface InstallationInput {
  urls: HookUrls
  action: InstallationAction
  installation: HookInstallation
  /** The repositories the installation reaches (listed on created/deleted/…; GitHub lists them). */
  repositories: HookRepository[]
  sender: HookAccount
  /** Who asked an owner to install the app (null when the owner installed it). */
  requester?: HookAccount | null
}

export interface InstallationRepositoriesInput {
  urls: HookUrls
  action: 'added' | 'removed'
  installation: HookInstallation
  added: HookRepository[]
  removed: HookRepository[]
  sender: HookAccount
  requester?: HookAccount | null
}

export interface PingInput {
  urls: HookUrls
  appId: number
  hookId: number
  events: string[]
  /** The webhook URL the app delivers to. */
  url: string
  /** Whether a secret is configured (shown masked, as GitHub does). */
  hasSecret: boolean
  contentType?: 'json' | 'form'
  insecureSsl?: boolean
  /** ISO 8601 times. */
  createdAt: string
  updatedAt?: string
  /** The account that registered the app. */
  sender: HookAccount
  zen?: string
}

export interface AuthorizationRevokedInput {
  urls: HookUrls
  /** The user who revoked the app's authorization. */
  sender: HookAccount
}
