/**
 * @module sandbox/bitbucket/state
 * The sandbox's accounts, workspaces, repositories, OAuth consumers, tokens, webhooks and pull
 * requests, kept in memory and written to `<data-dir>/bitbucket.json` after every change (repos
 * live beside it as bare Git repositories; the core's JsonState does the keeping). Tokens are
 * random and opaque, as Bitbucket's are.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { DeliveryRecord } from '../core/deliveries.js'
import { JsonState, type BaseSettings } from '../core/state.js'

export interface SbUser {
  username: string
  password: string
  uuid: string
  accountId: string
  displayName: string
  email: string
  createdOn: string
}

export interface SbWorkspace {
  slug: string
  name: string
  uuid: string
  admins: string[]
  members: string[]
  createdOn: string
}

export interface SbRepository {
  workspace: string
  slug: string
  uuid: string
  isPrivate: boolean
  description: string
  createdOn: string
  /** Its project (absent: the workspace's default one, `defaultProject`). */
  project?: { key: string; uuid: string; name: string }
}

export interface SbProject {
  workspace: string
  key: string
  name: string
  uuid: string
  createdOn: string
}

export interface SbConsumer {
  key: string
  secret: string
  callbackUrl: string
}

/**
 * A token: an OAuth access or refresh token (of a user, through a consumer); a workspace, project
 * or repository access token (issued to that resource, no user: Bearer for the API, `x-token-auth`
 * for Git); or an Atlassian API token (`api`: of a user, Basic `email:token` for the API,
 * `x-bitbucket-api-token-auth` or the username for Git; granular scopes such as
 * `read:repository:bitbucket`).
 */
export interface SbToken {
  kind: 'access' | 'refresh' | 'workspace' | 'project' | 'repository' | 'api'
  /** The user an OAuth or API token acts for. */
  username?: string
  /** The workspace a workspace, project or repository access token belongs to. */
  workspace?: string
  /** The project key a project access token belongs to. */
  project?: string
  /** The repository slug a repository access token belongs to. */
  repository?: string
  consumer?: string
  /** The refresh token an access token was issued with (revoking one revokes the other). */
  grant?: string
  scopes: string[]
  expiresAt?: number
  revoked: boolean
}

export interface SbHook {
  uuid: string
  workspace: string
  slug: string
  url: string
  description: string
  secret: string | null
  events: string[]
  active: boolean
  createdAt: string
}

export interface SbPullRequest {
  id: number
  workspace: string
  slug: string
  title: string
  description: string
  author: string
  sourceBranch: string
  destinationBranch: string
  state: 'OPEN' | 'MERGED' | 'DECLINED'
  mergeCommit: string | null
  /** Who merged or declined it (Bitbucket's `closed_by`). */
  closedBy?: string
  createdOn: string
  updatedOn: string
}

interface Persisted {
  users: SbUser[]
  workspaces: SbWorkspace[]
  repositories: SbRepository[]
  consumers: SbConsumer[]
  tokens: Record<string, SbToken>
  hooks: SbHook[]
  pullRequests: SbPullRequest[]
  /** Absent in files written before projects were modelled. */
  projects?: SbProject[]
  nextPullRequestId: number
  settings: BaseSettings
}

export const DEFAULT_SCOPES = [
  'account',
  'repository',
  'repository:write',
  'pullrequest',
  'webhook',
]

/**
 * The project of a repository created without one. Every workspace repository on Bitbucket Cloud
 * is in a project; this one's key is made from the workspace slug and its UUID derived from the
 * workspace's (stable across restarts).
 */
export function defaultProject(w: SbWorkspace): { key: string; uuid: string; name: string } {
  const key =
    w.slug
      .replace(/[^a-z0-9]/gi, '')
      .toUpperCase()
      .slice(0, 10) || 'PROJ'
  const h = createHash('sha256').update(`project:${w.uuid}`).digest('hex')
  const uuid = `{${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}}`
  return { key, uuid, name: w.name }
}

/** What an Atlassian API token gets by default here: what Junction needs (README's table). */
export const API_TOKEN_DEFAULT_SCOPES = [
  'read:user:bitbucket',
  'read:workspace:bitbucket',
  'read:project:bitbucket',
  'read:repository:bitbucket',
  'read:pullrequest:bitbucket',
  'read:webhook:bitbucket',
  'write:webhook:bitbucket',
]

/**
 * An API token's granular scope for a classic one, as the REST reference pairs them
 * (`x-atlassian-oauth2-scopes` beside `security` in swagger.v3.json). `account` splits in two:
 * `/user` takes `read:user:bitbucket`, `/user/workspaces` `read:workspace:bitbucket`.
 */
export function granularScope(classic: string): string {
  const [area = '', level = 'read'] = classic.split(':')
  return `${level === 'write' || level === 'admin' || level === 'delete' ? level : 'read'}:${area}:bitbucket`
}

export class SandboxState extends JsonState<SbUser, SbToken, Persisted> {
  /** Counters for tests and the admin API (not persisted). */
  readonly stats = { tokenGrants: { authorization_code: 0, refresh_token: 0 }, apiRequests: 0 }
  /** The webhook deliveries sent (the core's Deliveries records them here; memory only). */
  readonly deliveries: DeliveryRecord[] = []

  constructor(dataDir: string) {
    super(dataDir, 'bitbucket.json', () => ({
      users: [],
      workspaces: [],
      repositories: [],
      consumers: [],
      tokens: {},
      hooks: [],
      pullRequests: [],
      nextPullRequestId: 1,
      settings: { accessTokenLifetimeSeconds: 7200 },
    }))
  }

  workspace(slug: string): SbWorkspace | undefined {
    return this.data.workspaces.find((w) => w.slug === slug)
  }

  repository(workspace: string, slug: string): SbRepository | undefined {
    return this.data.repositories.find((r) => r.workspace === workspace && r.slug === slug)
  }

  project(workspace: string, key: string): SbProject | undefined {
    return (this.data.projects ?? []).find((p) => p.workspace === workspace && p.key === key)
  }

  /** The workspace's project `key`, created when missing (repositories always have one). */
  ensureProject(workspace: string, key: string, name?: string): SbProject {
    const found = this.project(workspace, key)
    if (found) return found
    const p = {
      workspace,
      key,
      name: name ?? key,
      uuid: this.newUuid(),
      createdOn: new Date().toISOString(),
    }
    ;(this.data.projects ??= []).push(p)
    return p
  }

  /** The workspace's projects: those created, and the default one. */
  projectsOf(workspace: string): { key: string; uuid: string; name: string }[] {
    const w = this.workspace(workspace)
    if (!w) return []
    const own = (this.data.projects ?? []).filter((p) => p.workspace === workspace)
    const d = defaultProject(w)
    return own.some((p) => p.key === d.key) ? own : [...own, d]
  }

  /** The project a repository is in (its own, or the workspace's default one). */
  projectOf(r: SbRepository): { key: string; uuid: string; name: string } {
    return r.project ?? defaultProject(this.workspace(r.workspace)!)
  }

  consumer(key: string): SbConsumer | undefined {
    return this.data.consumers.find((c) => c.key === key)
  }

  newUuid(): string {
    return `{${randomUUID()}}`
  }

  /** Whether the user is a member (or admin) of the workspace. */
  isMember(username: string, workspace: string): boolean {
    const w = this.workspace(workspace)
    return !!w && (w.admins.includes(username) || w.members.includes(username))
  }
}
