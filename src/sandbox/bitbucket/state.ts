/**
 * @module sandbox/bitbucket/state
 * The sandbox's accounts, workspaces, repositories, OAuth consumers, tokens, webhooks and pull
 * requests, kept in memory and written to `<data-dir>/bitbucket.json` after every change (repos
 * live beside it as bare Git repositories). Tokens are random and opaque, as Bitbucket's are.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

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
}

export interface SbConsumer {
  key: string
  secret: string
  callbackUrl: string
}

export interface SbToken {
  kind: 'access' | 'refresh' | 'workspace'
  /** The user an OAuth token acts for. */
  username?: string
  /** The workspace a workspace access token belongs to. */
  workspace?: string
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
  createdOn: string
  updatedOn: string
}

export interface SbDelivery {
  id: string
  hook: string
  event: string
  url: string
  status: number | 'error'
  attempts: number
  at: string
}

interface Persisted {
  users: SbUser[]
  workspaces: SbWorkspace[]
  repositories: SbRepository[]
  consumers: SbConsumer[]
  tokens: Record<string, SbToken>
  hooks: SbHook[]
  pullRequests: SbPullRequest[]
  nextPullRequestId: number
  settings: { accessTokenLifetimeSeconds: number; maxPagelen?: number; tokenDelayMs?: number }
}

export const DEFAULT_SCOPES = [
  'account',
  'repository',
  'repository:write',
  'pullrequest',
  'webhook',
]

export class SandboxState {
  data: Persisted
  /** Counters for tests and the admin API (not persisted). */
  readonly stats = { tokenGrants: { authorization_code: 0, refresh_token: 0 }, apiRequests: 0 }
  /** Injected failures: the next `count` API requests answer `status` (retry tests). */
  failures: { count: number; status: number; retryAfter?: number } = { count: 0, status: 503 }
  readonly deliveries: SbDelivery[] = []
  /** What each recent delivery sent (for a resend), by delivery id. */
  readonly deliveryBodies = new Map<string, { event: string; body: Buffer }>()
  /** Authorization codes: single-use, 10 minutes, memory only. */
  readonly codes = new Map<string, { consumer: string; username: string; expiresAt: number }>()
  readonly #file: string

  constructor(readonly dataDir: string) {
    mkdirSync(join(dataDir, 'repos'), { recursive: true, mode: 0o700 })
    this.#file = join(dataDir, 'bitbucket.json')
    this.data = existsSync(this.#file)
      ? (JSON.parse(readFileSync(this.#file, 'utf8')) as Persisted)
      : {
          users: [],
          workspaces: [],
          repositories: [],
          consumers: [],
          tokens: {},
          hooks: [],
          pullRequests: [],
          nextPullRequestId: 1,
          settings: { accessTokenLifetimeSeconds: 7200 },
        }
  }

  save(): void {
    const tmp = `${this.#file}.tmp`
    writeFileSync(tmp, JSON.stringify(this.data, null, 1), { mode: 0o600 })
    renameSync(tmp, this.#file)
  }

  repoDir(workspace: string, slug: string): string {
    return join(this.dataDir, 'repos', workspace, `${slug}.git`)
  }

  user(username: string): SbUser | undefined {
    return this.data.users.find((u) => u.username === username)
  }

  workspace(slug: string): SbWorkspace | undefined {
    return this.data.workspaces.find((w) => w.slug === slug)
  }

  repository(workspace: string, slug: string): SbRepository | undefined {
    return this.data.repositories.find((r) => r.workspace === workspace && r.slug === slug)
  }

  consumer(key: string): SbConsumer | undefined {
    return this.data.consumers.find((c) => c.key === key)
  }

  newUuid(): string {
    return `{${randomUUID()}}`
  }

  newToken(t: SbToken): string {
    const token = randomBytes(24).toString('base64url')
    this.data.tokens[token] = t
    return token
  }

  /** A live token (not revoked, not expired) or undefined. */
  liveToken(token: string, now = Date.now()): SbToken | undefined {
    const t = Object.hasOwn(this.data.tokens, token) ? this.data.tokens[token] : undefined
    if (!t || t.revoked) return undefined
    if (t.expiresAt !== undefined && t.expiresAt <= now) return undefined
    if (t.grant) {
      const g = this.data.tokens[t.grant]
      if (!g || g.revoked) return undefined
    }
    return t
  }

  /** Whether the user is a member (or admin) of the workspace. */
  isMember(username: string, workspace: string): boolean {
    const w = this.workspace(workspace)
    return !!w && (w.admins.includes(username) || w.members.includes(username))
  }
}
