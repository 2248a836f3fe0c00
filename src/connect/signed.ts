/**
 * @module connect/signed
 * Small signed, expiring tokens (HMAC-SHA256 under a key derived from the master key) for the
 * handshake `state`, provider page cursors and archive download links. A token that was altered,
 * expired or minted for another purpose does not open.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export class Signer {
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  #mac(purpose: string, payload: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\n${payload}`).digest('base64url')
  }

  sign(purpose: string, value: unknown, ttlMs: number): string {
    const payload = Buffer.from(JSON.stringify({ v: value, e: this.now() + ttlMs })).toString(
      'base64url',
    )
    return `${payload}.${this.#mac(purpose, payload)}`
  }

  /** The signed value, or undefined when the token is not genuine, not for `purpose`, or expired. */
  open<T>(purpose: string, token: string): T | undefined {
    if (typeof token !== 'string' || token.length > 8192) return undefined
    const dot = token.lastIndexOf('.')
    if (dot <= 0) return undefined
    const payload = token.slice(0, dot)
    const given = Buffer.from(token.slice(dot + 1))
    const expected = Buffer.from(this.#mac(purpose, payload))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    try {
      const { v, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
        v: T
        e: number
      }
      return typeof e === 'number' && e > this.now() ? v : undefined
    } catch {
      return undefined
    }
  }
}
