/**
 * @module sandbox/github/state
 * The sandbox GitHub's accounts (users and organizations), repositories, GitHub Apps, their
 * installations, tokens (installation `ghs_…`, user `ghu_…`/`ghr_…`, fine-grained personal access
 * tokens `github_pat_…`) and pull requests, kept in
 * memory and written to `<data-dir>/github.json` after every change (repositories live beside it
 * as bare Git repositories; the core's JsonState does the keeping). Apps keep only their public
 * key, as GitHub does: the private key is shown once, when it is made.
 */
import { randomBytes } from 'node:crypto'
import { JsonState, type BaseSettings } from '../core/state.js'

export type Level = 'read' | 'write' | 'admin'
export type Permissions = Record<string, Level>

export interface GhUser {
  username: string
  password: string
  email: string
  displayName: string
  id: number
  createdAt: string
}

export interface GhOrg {
  login: string
  id: number
  name: string
  admins: string[]
  members: string[]
  createdAt: string
}

export interface GhRepo {
  id: number
  owner: string
  name: string
  private: boolean
  description: string
  createdAt: string
  pushedAt: string
}

export interface GhApp {
  id: number
  slug: string
  name: string
  /** The owner's login (a user or an organization). */
  owner: string
  clientId: string
  clientSecret: string
  /** SPKI PEM: JWTs are checked with it. */
  publicKey: string
  description: string
  url: string
  public: boolean
  hookId: number
  webhookUrl: string | null
  webhookSecret: string | null
  webhookActive: boolean
  /** Where installing (and updating, with setupOnUpdate) sends the browser. */
  setupUrl: string | null
  setupOnUpdate: boolean
  callbackUrls: string[]
  /** Installing sends the browser through user authorization to callbackUrls[0] (code). */
  requestOAuthOnInstall: boolean
  permissions: Permissions
  events: string[]
  createdAt: string
  updatedAt: string
}

export interface GhInstallation {
  id: number
  appId: number
  /** The account's login. */
  account: string
  repositorySelection: 'all' | 'selected'
  /** The selected repositories' ids (unused for 'all'). */
  repositoryIds: number[]
  permissions: Permissions
  events: string[]
  createdAt: string
  updatedAt: string
  suspendedAt: string | null
  suspendedBy: string | null
}

/**
 * An installation token (narrowed to some of the installation's repositories and permissions),
 * a user-to-server token of an app (acting for a user within the app's installations), or its
 * refresh token.
 */
export interface GhToken {
  kind: 'installation' | 'user' | 'refresh' | 'pat'
  /** The app (0 for a personal access token). */
  appId: number
  installationId?: number
  /** Repository ids an installation token is narrowed to (absent: all of the installation's). */
  repositoryIds?: number[]
  permissions?: Permissions
  username?: string
  /** A fine-grained personal access token's resource owner (the user or one of their orgs). */
  owner?: string
  /** A personal access token's repository access: all of the owner's, or repositoryIds. */
  repositorySelection?: 'all' | 'selected'
  grant?: string
  expiresAt?: number
  revoked: boolean
}

export interface GhPull {
  number: number
  id: number
  repoId: number
  title: string
  body: string
  user: string
  head: string
  base: string
  state: 'open' | 'closed'
  merged: boolean
  mergeCommitSha: string | null
  mergedBy: string | null
  createdAt: string
  updatedAt: string
  closedAt: string | null
  mergedAt: string | null
}

export interface GhSettings extends BaseSettings {
  /** Added to the real time for what the sandbox issues and checks (tokens, codes): ms. */
  clockOffsetMs?: number
}

interface Persisted {
  users: GhUser[]
  orgs: GhOrg[]
  repositories: GhRepo[]
  apps: GhApp[]
  installations: GhInstallation[]
  tokens: Record<string, GhToken>
  pulls: GhPull[]
  nextId: number
  settings: GhSettings
}

/** GitHub's login alphabet: letters, digits and single inner hyphens, at most 39. */
export const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
export const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/
export const LEVELS: Level[] = ['read', 'write', 'admin']

export const DEFAULT_APP_PERMISSIONS: Permissions = {
  contents: 'read',
  metadata: 'read',
  pull_requests: 'read',
}

export class GitHubState extends JsonState<GhUser, GhToken, Persisted> {
  readonly stats = { apiRequests: 0, tokensMinted: 0, jwtRefusals: 0 }

  constructor(dataDir: string) {
    super(dataDir, 'github.json', () => ({
      users: [],
      orgs: [],
      repositories: [],
      apps: [],
      installations: [],
      tokens: {},
      pulls: [],
      nextId: 1000,
      settings: { accessTokenLifetimeSeconds: 8 * 3600 },
    }))
  }

  newId(): number {
    return this.data.nextId++
  }

  /** A token string with GitHub's prefix (`ghs_`, `ghu_`, `ghr_`) and 36 random characters. */
  newPrefixedToken(prefix: string, t: GhToken): string {
    const token = `${prefix}_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'A').slice(0, 36)}`
    this.data.tokens[token] = t
    return token
  }

  org(login: string): GhOrg | undefined {
    const l = login.toLowerCase()
    return this.data.orgs.find((o) => o.login.toLowerCase() === l)
  }

  userByLogin(login: string): GhUser | undefined {
    const l = login.toLowerCase()
    return this.data.users.find((u) => u.username.toLowerCase() === l)
  }

  /** A user or an organization by login (case-insensitive, as GitHub). */
  account(
    login: string,
  ): { type: 'User'; user: GhUser } | { type: 'Organization'; org: GhOrg } | undefined {
    const u = this.userByLogin(login)
    if (u) return { type: 'User', user: u }
    const o = this.org(login)
    return o && { type: 'Organization', org: o }
  }

  accountId(login: string): number {
    const a = this.account(login)
    return a ? (a.type === 'User' ? a.user.id : a.org.id) : 0
  }

  repo(owner: string, name: string): GhRepo | undefined {
    const o = owner.toLowerCase()
    const n = name.toLowerCase()
    return this.data.repositories.find(
      (r) => r.owner.toLowerCase() === o && r.name.toLowerCase() === n,
    )
  }

  repoById(id: number): GhRepo | undefined {
    return this.data.repositories.find((r) => r.id === id)
  }

  app(idOrSlug: string | number): GhApp | undefined {
    return this.data.apps.find(
      (a) => a.id === Number(idOrSlug) || a.slug === idOrSlug || a.clientId === idOrSlug,
    )
  }

  installation(id: number): GhInstallation | undefined {
    return this.data.installations.find((i) => i.id === id)
  }

  installationOn(appId: number, account: string): GhInstallation | undefined {
    const l = account.toLowerCase()
    return this.data.installations.find((i) => i.appId === appId && i.account.toLowerCase() === l)
  }

  /** The repositories an installation reaches, now. */
  installationRepos(i: GhInstallation): GhRepo[] {
    const owned = this.data.repositories.filter(
      (r) => r.owner.toLowerCase() === i.account.toLowerCase(),
    )
    return i.repositorySelection === 'all'
      ? owned
      : owned.filter((r) => i.repositoryIds.includes(r.id))
  }

  /** Whether the user administers the account (is it, or an admin of the organization). */
  administers(username: string, login: string): boolean {
    const a = this.account(login)
    if (!a) return false
    if (a.type === 'User') return a.user.username === username
    return a.org.admins.includes(username)
  }

  /** Whether the user can read the repository (owner, organization member, or public). */
  canRead(username: string, r: GhRepo): boolean {
    if (!r.private) return true
    const a = this.account(r.owner)
    if (!a) return false
    if (a.type === 'User') return a.user.username === username
    return a.org.admins.includes(username) || a.org.members.includes(username)
  }
}
