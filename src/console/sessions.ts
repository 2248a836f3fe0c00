/**
 * @module console/sessions
 * Console sign-ins, revocable on the server. The cookie carries only a random session id, signed
 * (HMAC under a key derived from the master key) and expiring; the store keeps the id's SHA-256
 * with the access key it was opened with, so every node on the database sees the same sessions.
 * A session ends on sign-out, when it expires, and when its access key is deactivated (even if it
 * is reactivated later) or deleted — the store deletes the key's sessions in the same
 * transaction — and a deleted user has no keys left. The cookie also carries a fingerprint of the
 * key's secret (an HMAC of it under the session id), so a secret replaced under the same key id
 * (the root's, given again in the environment) ends the sessions opened with the old one. Each
 * request re-checks the row, the key and the fingerprint.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Signer } from '../connect/signed.js'
import type { Principal } from '../iam/principal.js'
import type { Store } from '../store/store.js'

const PURPOSE = 'console-session'

export interface OpenSession {
  principal: Principal
  /** SHA-256 (hex) of the session id: the store's key for it. */
  idHash: string
}

export interface SessionDeps {
  signer: Signer
  store: Store['consoleSessions']
  lookupKey(accessKeyId: string): Promise<{ record: Principal; secret: string } | undefined>
  ttlMs: number
  now?: () => number
}

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex')
/** Which secret a session was opened with, without revealing it: HMAC(session id, secret). */
const fingerprintOf = (id: string, secret: string) =>
  createHmac('sha256', id).update(secret).digest('base64url').slice(0, 22)

export class ConsoleSessions {
  constructor(private readonly d: SessionDeps) {}

  #now(): number {
    return (this.d.now ?? Date.now)()
  }

  /**
   * Opens a session for a principal who just proved its key; returns the cookie value, or
   * undefined when the key was deactivated or deleted meanwhile.
   */
  async open(principal: Principal, secret: string): Promise<string | undefined> {
    const id = randomBytes(32).toString('base64url')
    const now = this.#now()
    const created = await this.d.store.create({
      idHash: hashOf(id),
      accountId: principal.accountId,
      accessKeyId: principal.accessKeyId,
      principalArn: principal.arn,
      createdAt: now,
      expiresAt: now + this.d.ttlMs,
    })
    return created
      ? this.d.signer.sign(PURPOSE, { s: id, f: fingerprintOf(id, secret) }, this.d.ttlMs)
      : undefined
  }

  /** The session a cookie names, unless it is forged, expired, signed out or its key is gone. */
  async resume(cookie: string): Promise<OpenSession | undefined> {
    const v = this.d.signer.open<{ s?: unknown; f?: unknown }>(PURPOSE, cookie)
    if (!v || typeof v.s !== 'string' || typeof v.f !== 'string') return undefined
    const idHash = hashOf(v.s)
    const row = await this.d.store.get(idHash, this.#now())
    if (!row) return undefined
    const key = await this.d.lookupKey(row.accessKeyId)
    if (!key || key.record.kind === 'session' || key.record.arn !== row.principalArn)
      return undefined
    const given = Buffer.from(v.f)
    const expected = Buffer.from(fingerprintOf(v.s, key.secret))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    return { principal: key.record, idHash }
  }

  /** Ends a session (sign-out): its cookie opens nothing afterwards, on any node. */
  async end(idHash: string): Promise<void> {
    await this.d.store.delete(idHash)
  }
}

/**
 * Where to go after signing in: a same-origin path under `/console`, already in canonical form
 * (what a URL parser would make of it), without backslashes, control characters or `//`;
 * anything else — an absolute or scheme-relative URL, CR/LF, `/\evil` — becomes `/console`.
 */
export function safeNext(v: string | null | undefined): string {
  const fallback = '/console'
  if (!v || v.length > 2048 || !/^\/console(?:[/?]|$)/.test(v)) return fallback
  if (!/^[\x21-\x7e]+$/.test(v) || v.includes('\\') || v.includes('//')) return fallback
  try {
    const base = 'http://console.invalid'
    const u = new URL(v, base)
    if (u.origin !== base || u.hash || `${u.pathname}${u.search}` !== v) return fallback
    return v
  } catch {
    return fallback
  }
}
