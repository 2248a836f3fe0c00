/**
 * @module domain/pagination
 * Opaque `NextToken`s: a keyset cursor bound to the operation, the account and the filters, signed
 * with a key derived from the master key. A token that was forged, altered, or issued for another
 * listing does not verify.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

interface Cursor {
  /** operation */ o: string
  /** account */ a: string
  /** filters, canonical JSON */ f: string
  /** last seq returned */ s: number
}

export class PageTokens {
  readonly #key: Buffer

  constructor(key: Buffer) {
    this.#key = key
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url').slice(0, 22)
  }

  issue(operation: string, accountId: string, filters: unknown, lastSeq: number): string {
    const cursor: Cursor = { o: operation, a: accountId, f: JSON.stringify(filters), s: lastSeq }
    const payload = Buffer.from(JSON.stringify(cursor)).toString('base64url')
    return `${payload}.${this.#mac(payload)}`
  }

  /** The seq to continue after, or undefined when the token is not valid for this listing. */
  open(token: string, operation: string, accountId: string, filters: unknown): number | undefined {
    const dot = token.indexOf('.')
    if (dot <= 0) return undefined
    const payload = token.slice(0, dot)
    const mac = Buffer.from(token.slice(dot + 1))
    const expected = Buffer.from(this.#mac(payload))
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined
    let cursor: Cursor
    try {
      cursor = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Cursor
    } catch {
      return undefined
    }
    if (cursor.o !== operation || cursor.a !== accountId || cursor.f !== JSON.stringify(filters))
      return undefined
    return Number.isSafeInteger(cursor.s) && cursor.s >= 0 ? cursor.s : undefined
  }
}
