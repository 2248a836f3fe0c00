/**
 * @module iam/credentials
 * Resolves an access key id to its secret and principal for SigV4 verification. Decrypted keys are
 * cached briefly (hot path); the TTL bounds how long a key deactivated on another node stays usable.
 */
import type { MasterKey } from '../crypto/master-key.js'
import type { Store } from '../store/store.js'
import type { Principal } from './principal.js'

const TTL_MS = 5_000
const MAX_ENTRIES = 10_000

interface Entry {
  value:
    { secret: string; record: Principal; sessionToken?: string; expiresAt?: number } | undefined
  expires: number
}

export class CredentialResolver {
  readonly #cache = new Map<string, Entry>()

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    private readonly now: () => number = Date.now,
  ) {}

  /** Answers from the cache synchronously when it can (the hot path), else from the store. */
  readonly lookup = (accessKeyId: string): Entry['value'] | Promise<Entry['value']> => {
    const now = this.now()
    const hit = this.#cache.get(accessKeyId)
    if (hit?.value?.record.kind === 'user') this.#noteUse(accessKeyId, now)
    if (hit && hit.expires > now) return hit.value
    return this.#load(accessKeyId)
  }

  readonly #lastWritten = new Map<string, number>()

  /** Records a user key's last use, writing at most once a minute per key (off the hot path). */
  #noteUse(accessKeyId: string, now: number): void {
    const last = this.#lastWritten.get(accessKeyId) ?? 0
    if (now - last < 60_000) return
    if (this.#lastWritten.size > 10_000) this.#lastWritten.clear()
    this.#lastWritten.set(accessKeyId, now)
    this.store.accessKeys.touch(accessKeyId, now).catch(() => this.#lastWritten.delete(accessKeyId))
  }

  async #load(accessKeyId: string): Promise<Entry['value']> {
    const now = this.now()
    const rec = await this.store.accessKeys.get(accessKeyId)
    let value: Entry['value']
    if (rec && rec.status === 'Active') {
      const record: Principal = {
        arn: rec.principalArn,
        accountId: rec.accountId,
        accessKeyId: rec.accessKeyId,
        kind: rec.kind,
        isRoot: rec.kind === 'root',
      }
      if (rec.userName) record.userName = rec.userName
      if (rec.roleName) record.roleName = rec.roleName
      if (rec.sessionPolicy) record.sessionPolicy = rec.sessionPolicy
      value = { secret: this.masterKey.decrypt(rec.secretCiphertext), record }
      if (rec.sessionTokenCiphertext)
        value.sessionToken = this.masterKey.decrypt(rec.sessionTokenCiphertext)
      if (rec.expiresAt) value.expiresAt = rec.expiresAt
    }
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear()
    this.#cache.set(accessKeyId, { value, expires: now + TTL_MS })
    if (value?.record.kind === 'user') this.#noteUse(accessKeyId, now)
    return value
  }

  /** Forgets a key at once (after it is changed on this node). */
  invalidate(accessKeyId: string): void {
    this.#cache.delete(accessKeyId)
  }
}
