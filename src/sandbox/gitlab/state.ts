/**
 * @module sandbox/gitlab/state
 * The sandbox GitLab's world: users (one may be an instance administrator; bot users stand behind
 * group and project access tokens), nested groups, projects in a group or a user's namespace
 * (each a bare Git repository under `<data-dir>/repos/<full path>.git`), memberships with GitLab's
 * access levels (inherited by subgroups and their projects), OAuth applications, tokens (personal,
 * group and project access tokens `glpat-…`, OAuth access and refresh tokens), project hooks and
 * merge requests. Kept by the core's JsonState in `<data-dir>/gitlab.json`.
 */
import { randomBytes } from 'node:crypto'
import { JsonState, type BaseSettings } from '../core/state.js'

/** 10 guest, 20 reporter, 30 developer, 40 maintainer, 50 owner. */
export type AccessLevel = 10 | 20 | 30 | 40 | 50
export const ACCESS_LEVELS: AccessLevel[] = [10, 20, 30, 40, 50]
export const SCOPES = [
  'api',
  'read_api',
  'read_repository',
  'write_repository',
  'read_user',
  'admin_mode',
] as const
export type Scope = (typeof SCOPES)[number]
export type Visibility = 'private' | 'internal' | 'public'

export interface GlUser {
  id: number
  username: string
  password: string
  email: string
  /** Shown in payloads; empty means none (an author email is then `[REDACTED]`). */
  publicEmail: string
  displayName: string
  admin: boolean
  bot: boolean
  createdAt: string
}

export interface GlGroup {
  id: number
  name: string
  path: string
  /** `acme/platform/tools` */
  fullPath: string
  parentId: number | null
  visibility: Visibility
  description: string
  createdAt: string
}

export interface GlProject {
  id: number
  name: string
  path: string
  /** `group` with groupId, or `user` with the owner's username. */
  namespaceKind: 'group' | 'user'
  groupId: number | null
  owner: string | null
  visibility: Visibility
  description: string
  createdAt: string
  lastActivityAt: string
}

export interface GlMember {
  /** `group:<id>` or `project:<id>`. */
  source: string
  username: string
  level: AccessLevel
}

export interface GlToken {
  kind: 'pat' | 'group' | 'project' | 'oauth' | 'refresh'
  id: number
  name: string
  username: string
  scopes: Scope[]
  createdAt: string
  expiresAt?: number
  revoked: boolean
  lastUsedAt: string | null
  /** The OAuth application (oauth and refresh tokens). */
  appId?: number
  /** An OAuth access token's refresh token (revoking or rotating it revokes this). */
  grant?: string
  /** A group or project token's resource (`group:<id>`, `project:<id>`). */
  resource?: string
}

export interface GlApp {
  id: number
  uid: string
  secret: string
  name: string
  redirectUri: string
  scopes: Scope[]
  confidential: boolean
  /** null: an instance application. */
  owner: string | null
  createdAt: string
}

export interface GlHook {
  id: number
  uuid: string
  projectId: number
  url: string
  name: string
  description: string
  token: string
  pushEvents: boolean
  tagPushEvents: boolean
  mergeRequestsEvents: boolean
  pushEventsBranchFilter: string
  branchFilterStrategy: 'wildcard' | 'regex' | 'all_branches'
  enableSslVerification: boolean
  createdAt: string
}

export interface GlMergeRequest {
  id: number
  iid: number
  projectId: number
  title: string
  description: string
  author: string
  assignees: string[]
  reviewers: string[]
  labels: string[]
  source: string
  target: string
  state: 'opened' | 'closed' | 'merged'
  draft: boolean
  mergeCommitSha: string | null
  mergedBy: string | null
  closedBy: string | null
  createdAt: string
  updatedAt: string
  mergedAt: string | null
  closedAt: string | null
  lastEditedAt: string | null
  lastEditedBy: string | null
}

export interface GlLabel {
  id: number
  projectId: number
  title: string
  color: string
  description: string
  createdAt: string
}

export interface GlSettings extends BaseSettings {
  clockOffsetMs?: number
  /** Admin mode: admin API calls need the `admin_mode` scope too (self-managed). */
  adminMode?: boolean
  /** Pushes changing more refs than this fire no push or tag push hooks (GitLab: 3). */
  pushEventHooksLimit?: number
  /** Author emails in payloads as `[REDACTED]` (as for authors without a public email). */
  redactAuthorEmails?: boolean
  /** Compare answers `compare_timeout: true` and no diffs. */
  compareTimeout?: boolean
  /** At most this many diffs in compare and commit diff answers (overflow). */
  diffMaxFiles?: number
  /** Group access tokens get projects as if they could not read code: no `default_branch` (#442150). */
  hideDefaultBranch?: boolean
  /** Requests per window per caller, and the window (seconds). */
  rateLimit?: { limit: number; windowSeconds: number }
}

interface Persisted {
  users: GlUser[]
  groups: GlGroup[]
  projects: GlProject[]
  members: GlMember[]
  tokens: Record<string, GlToken>
  apps: GlApp[]
  hooks: GlHook[]
  mergeRequests: GlMergeRequest[]
  labels: GlLabel[]
  nextId: number
  settings: GlSettings
}

export const PATH_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/

export class GitLabState extends JsonState<GlUser, GlToken, Persisted> {
  readonly stats = { apiRequests: 0, tokensIssued: 0 }

  constructor(dataDir: string) {
    super(dataDir, 'gitlab.json', () => ({
      users: [],
      groups: [],
      projects: [],
      members: [],
      tokens: {},
      apps: [],
      hooks: [],
      mergeRequests: [],
      labels: [],
      nextId: 1,
      settings: { accessTokenLifetimeSeconds: 7200 },
    }))
  }

  newId(): number {
    return this.data.nextId++
  }

  /** `glpat-` and 20 random characters (personal, group and project access tokens). */
  newPat(t: GlToken): string {
    const s = `glpat-${randomBytes(16).toString('base64url').replace(/[-_]/g, 'x').slice(0, 20)}`
    this.data.tokens[s] = t
    return s
  }

  /** 64 hex characters, as GitLab's OAuth access and refresh tokens. */
  newOAuthToken(t: GlToken): string {
    const s = randomBytes(32).toString('hex')
    this.data.tokens[s] = t
    return s
  }

  userById(id: number): GlUser | undefined {
    return this.data.users.find((u) => u.id === id)
  }

  group(id: number): GlGroup | undefined {
    return this.data.groups.find((g) => g.id === id)
  }

  /** A group by numeric id or full path (case-insensitive, as GitLab). */
  groupByRef(ref: string): GlGroup | undefined {
    if (/^\d+$/.test(ref)) return this.group(Number(ref))
    const l = ref.toLowerCase()
    return this.data.groups.find((g) => g.fullPath.toLowerCase() === l)
  }

  /** The group and its ancestors, nearest first. */
  ancestry(g: GlGroup): GlGroup[] {
    const out: GlGroup[] = []
    for (let x: GlGroup | undefined = g; x; x = x.parentId ? this.group(x.parentId) : undefined)
      out.push(x)
    return out
  }

  /** The group and every group below it. */
  descendants(g: GlGroup): GlGroup[] {
    return this.data.groups.filter((x) => this.ancestry(x).some((a) => a.id === g.id))
  }

  namespacePath(p: GlProject): string {
    return p.namespaceKind === 'group' ? this.group(p.groupId!)!.fullPath : p.owner!
  }

  fullPath(p: GlProject): string {
    return `${this.namespacePath(p)}/${p.path}`
  }

  project(id: number): GlProject | undefined {
    return this.data.projects.find((p) => p.id === id)
  }

  /** A project by numeric id or full path (`acme/platform/api`, case-insensitive). */
  projectByRef(ref: string): GlProject | undefined {
    if (/^\d+$/.test(ref)) return this.project(Number(ref))
    const l = ref.toLowerCase()
    return this.data.projects.find((p) => this.fullPath(p).toLowerCase() === l)
  }

  projectDir(p: GlProject): string {
    return this.repoDir(this.namespacePath(p), p.path)
  }

  /** The highest level the user holds in the group, directly or through an ancestor. */
  groupLevel(username: string, g: GlGroup): AccessLevel | 0 {
    let best = 0
    for (const a of this.ancestry(g))
      for (const m of this.data.members)
        if (m.source === `group:${a.id}` && m.username === username) best = Math.max(best, m.level)
    return best as AccessLevel | 0
  }

  /** The direct project membership's level (0: none). */
  projectMemberLevel(username: string, p: GlProject): AccessLevel | 0 {
    const m = this.data.members.find(
      (x) => x.source === `project:${p.id}` && x.username === username,
    )
    return m?.level ?? 0
  }

  /** The user's effective level on the project (owner of a personal project: 50). */
  projectLevel(username: string, p: GlProject): AccessLevel | 0 {
    if (p.namespaceKind === 'user' && p.owner === username) return 50
    const g = p.groupId ? this.group(p.groupId) : undefined
    const inherited = g ? this.groupLevel(username, g) : 0
    return Math.max(inherited, this.projectMemberLevel(username, p)) as AccessLevel | 0
  }

  setMember(source: string, username: string, level: AccessLevel): void {
    const m = this.data.members.find((x) => x.source === source && x.username === username)
    if (m) m.level = level
    else this.data.members.push({ source, username, level })
  }
}
