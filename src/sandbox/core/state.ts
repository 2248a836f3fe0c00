/**
 * @module sandbox/core/state
 * The base of a provider sandbox's state: a JSON document kept in memory and written atomically
 * to `<data-dir>/<file>` after every change, with bare Git repositories beside it under
 * `<data-dir>/repos/<owner>/<name>.git`. The core knows users (name, password, email), opaque
 * random tokens (revocable, expiring, tied to the grant they came from) and single-use OAuth
 * authorization codes; each provider adds its own organisations, repositories and hooks.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { safeEqual } from './http.js'

export interface BaseUser {
  username: string
  password: string
  email: string
  displayName: string
}

export interface BaseToken {
  revoked: boolean
  expiresAt?: number
  /** The token (an OAuth refresh token) this one was issued with: revoking it revokes this. */
  grant?: string
}

/** Settings changed through `PUT /_sandbox/settings` (see admin.ts's COMMON_SETTINGS). */
export interface BaseSettings {
  accessTokenLifetimeSeconds: number
  maxPagelen?: number
  tokenDelayMs?: number
}

export interface BaseData<U extends BaseUser = BaseUser, T extends BaseToken = BaseToken> {
  users: U[]
  tokens: Record<string, T>
  settings: BaseSettings
}

/** An authorization code: single-use, short-lived, memory only. */
export interface AuthorizationCode {
  consumer: string
  username: string
  expiresAt: number
  /** Anything else the provider's token endpoint checks (redirect URI, PKCE …). */
  extra?: Record<string, string>
}

export class JsonState<U extends BaseUser, T extends BaseToken, D extends BaseData<U, T>> {
  data: D
  readonly codes = new Map<string, AuthorizationCode>()
  readonly #file: string

  constructor(
    readonly dataDir: string,
    file: string,
    initial: () => D,
  ) {
    mkdirSync(this.reposRoot, { recursive: true, mode: 0o700 })
    this.#file = join(dataDir, file)
    this.data = existsSync(this.#file)
      ? (JSON.parse(readFileSync(this.#file, 'utf8')) as D)
      : initial()
  }

  /** GIT_PROJECT_ROOT: every repository is `<owner>/<name>.git` below it. */
  get reposRoot(): string {
    return join(this.dataDir, 'repos')
  }

  save(): void {
    const tmp = `${this.#file}.tmp`
    writeFileSync(tmp, JSON.stringify(this.data, null, 1), { mode: 0o600 })
    renameSync(tmp, this.#file)
  }

  repoDir(owner: string, name: string): string {
    return join(this.reposRoot, owner, `${name}.git`)
  }

  user(username: string): U | undefined {
    return this.data.users.find((u) => u.username === username)
  }

  /** The user, when the password is theirs (compared in constant time). */
  checkPassword(username: string, password: string): U | undefined {
    const u = this.user(username)
    return u && safeEqual(u.password, password) ? u : undefined
  }

  /** Stores a new opaque random token and returns it. */
  newToken(t: T): string {
    const token = randomBytes(24).toString('base64url')
    this.data.tokens[token] = t
    return token
  }

  /** A stored token by its secret (own keys only). */
  token(token: string): T | undefined {
    return Object.hasOwn(this.data.tokens, token) ? this.data.tokens[token] : undefined
  }

  /** A live token (not revoked, not expired, its grant live) or undefined. */
  liveToken(token: string, now = Date.now()): T | undefined {
    const t = this.token(token)
    if (!t || t.revoked) return undefined
    if (t.expiresAt !== undefined && t.expiresAt <= now) return undefined
    if (t.grant) {
      const g = this.data.tokens[t.grant]
      if (!g || g.revoked) return undefined
    }
    return t
  }

  /** A new single-use authorization code (10 minutes). */
  newCode(entry: Omit<AuthorizationCode, 'expiresAt'>, ttlMs = 10 * 60_000): string {
    const code = randomBytes(18).toString('base64url')
    this.codes.set(code, { ...entry, expiresAt: Date.now() + ttlMs })
    return code
  }

  /** Takes a code (it cannot be used twice); undefined when unknown or expired. */
  takeCode(code: string): AuthorizationCode | undefined {
    const entry = this.codes.get(code)
    this.codes.delete(code)
    return entry && entry.expiresAt >= Date.now() ? entry : undefined
  }
}
