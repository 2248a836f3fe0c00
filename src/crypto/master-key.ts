/**
 * @module crypto/master-key
 * The master key that encrypts every secret at rest (AES-256-GCM), from `JUNCTION_MASTER_KEY`
 * (32 bytes, base64 or hex) or `<data-dir>/master.key` (created with mode 0600 on first start;
 * an existing one readable by others is tightened to 0600).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tighten } from '../bootstrap/private-files.js'

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

function decodeKey(text: string, source: string): Buffer {
  const t = text.trim()
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64')
  if (key.length !== KEY_BYTES)
    throw new Error(`${source} must hold a ${KEY_BYTES}-byte key (base64 or hex)`)
  return key
}

export class MasterKey {
  readonly #key: Buffer
  /** A short fingerprint of the key, stored with each ciphertext to tell keys apart. */
  readonly id: string
  /**
   * Other keys that can still decrypt (never encrypt): the new key of a rotation that was
   * interrupted before its key file was renamed into place.
   */
  readonly #others = new Map<string, MasterKey>()

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error('master key must be 32 bytes')
    this.#key = Buffer.from(key)
    this.id = createHash('sha256').update(key).digest('hex').slice(0, 8)
  }

  /** Accepts ciphertexts sealed under `other` too. */
  alsoDecryptWith(other: MasterKey): void {
    if (other.id !== this.id) this.#others.set(other.id, other)
  }

  /** A fresh random key. */
  static generate(): MasterKey {
    return new MasterKey(randomBytes(KEY_BYTES))
  }

  /** The key as stored in `master.key`. */
  serialize(): string {
    return this.#key.toString('base64') + '\n'
  }

  static parse(text: string, source: string): MasterKey {
    return new MasterKey(decodeKey(text, source))
  }

  /** Loads the key from the environment or the data directory, creating the file if needed. */
  static load(dataDir: string, env: NodeJS.ProcessEnv = process.env): MasterKey {
    const fromEnv = env['JUNCTION_MASTER_KEY']
    if (fromEnv) return new MasterKey(decodeKey(fromEnv, 'JUNCTION_MASTER_KEY'))
    const file = join(dataDir, 'master.key')
    if (existsSync(file)) {
      tighten(file)
      const key = new MasterKey(decodeKey(readFileSync(file, 'utf8'), file))
      const pending = join(dataDir, 'master.key.new')
      if (existsSync(pending))
        key.alsoDecryptWith(new MasterKey(decodeKey(readFileSync(pending, 'utf8'), pending)))
      return key
    }
    const key = randomBytes(KEY_BYTES)
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
    return new MasterKey(key)
  }

  /** Encrypts with a fresh IV: `v1.<key id>.<base64(iv | ciphertext | tag)>`. */
  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ])
    return `v1.${this.id}.${Buffer.concat([iv, body]).toString('base64')}`
  }

  decrypt(sealed: string): string {
    const [version, keyId, payload] = sealed.split('.')
    if (version !== 'v1' || !payload) throw new Error('unrecognised ciphertext format')
    if (keyId !== this.id) {
      const other = keyId ? this.#others.get(keyId) : undefined
      if (other) return other.decrypt(sealed)
      throw new Error(`ciphertext was sealed under another master key (${keyId})`)
    }
    const raw = Buffer.from(payload, 'base64')
    const iv = raw.subarray(0, IV_BYTES)
    const tag = raw.subarray(raw.length - TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv)
    decipher.setAuthTag(tag)
    return Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8')
  }

  /** Derives an independent key for another purpose (e.g. signing pagination tokens). */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.#key).update(`junction:${purpose}`).digest()
  }
}
