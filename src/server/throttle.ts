/**
 * @module server/throttle
 * Throttling of failed authentication: console sign-ins per source address and per access key id,
 * SigV4 signature failures per access key id. Each is a sliding window: at most `limit` failures
 * in any `windowMs`. Successes never count and never reset a count (an attacker's own valid key
 * cannot wash out its failures).
 *
 * What a throttled key or address may still do is chosen so that an attacker cannot lock a
 * legitimate user out (access key ids are not secret):
 * - a source address past its limit is refused outright, right secret or not, so guessing from it
 *   stops and a right guess cannot be told from a wrong one;
 * - an access key past its console limit is refused, right secret or not, only from the addresses
 *   that failed on it within the window; its owner signing in from anywhere else gets in, and each
 *   other address gets one guess per window;
 * - an access key past its signature limit gets `ThrottlingException` for every wrong signature,
 *   while a right one still passes: an HMAC-SHA256 under a 40-character secret cannot be guessed,
 *   and refusing the owner's own signed calls would hand the key's availability to whoever knows
 *   its id.
 *
 * The state is in memory, per node, and bounded: at most `maxKeys` keys per throttle (the least
 * recently failed is forgotten first) and at most `limit` timestamps per key. Behind a load
 * balancer each node counts on its own, so a cluster of N nodes allows up to N × `limit`.
 */
import type { Logger } from 'pino'
import { defineError } from '../errors/common.js'

/** AWS's throttling error of the JSON protocols; the Query protocol (IAM, STS) calls it `Throttling`. */
export const ThrottlingException = defineError('ThrottlingException', 400)

export interface ThrottleOptions {
  limit: number
  windowMs: number
  /** At most this many keys are remembered (default 10,000). */
  maxKeys?: number | undefined
  /** The clock (epoch ms); tests move it. */
  now?: (() => number) | undefined
}

export class FailureThrottle {
  readonly limit: number
  readonly windowMs: number
  readonly #maxKeys: number
  readonly #now: () => number
  /** Failure times per key, oldest first; the map in least-recently-failed order. */
  readonly #failures = new Map<string, number[]>()

  constructor(opts: ThrottleOptions) {
    this.limit = opts.limit
    this.windowMs = opts.windowMs
    this.#maxKeys = opts.maxKeys ?? 10_000
    this.#now = opts.now ?? Date.now
  }

  /** How many keys are remembered (for tests of the bound). */
  get size(): number {
    return this.#failures.size
  }

  #prune(list: number[], now: number): void {
    let old = 0
    while (old < list.length && list[old]! <= now - this.windowMs) old++
    if (old > 0) list.splice(0, old)
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfterMs(key: string): number {
    const list = this.#failures.get(key)
    if (list === undefined) return 0
    const now = this.#now()
    this.#prune(list, now)
    if (list.length === 0) {
      this.#failures.delete(key)
      return 0
    }
    return list.length >= this.limit ? Math.max(1, list[0]! + this.windowMs - now) : 0
  }

  /** Counts a failure of `key`; true when it reached the limit (the key is throttled from now). */
  fail(key: string): boolean {
    const now = this.#now()
    let list = this.#failures.get(key)
    if (list !== undefined) {
      // Re-inserted below: the map stays in least-recently-failed order.
      this.#failures.delete(key)
      this.#prune(list, now)
    } else {
      list = []
      if (this.#failures.size >= this.#maxKeys) this.#evict(now)
    }
    list.push(now)
    while (list.length > this.limit) list.shift()
    this.#failures.set(key, list)
    return list.length >= this.limit
  }

  /** Forgets keys whose failures all left the window, else the least recently failed one. */
  #evict(now: number): void {
    // In least-recently-failed order, the keys with nothing left in the window come first.
    for (const [key, list] of this.#failures) {
      if (list[list.length - 1]! > now - this.windowMs) break
      this.#failures.delete(key)
    }
    if (this.#failures.size >= this.#maxKeys) {
      const oldest = this.#failures.keys().next()
      if (!oldest.done) this.#failures.delete(oldest.value)
    }
  }
}

/**
 * The key of a source address: IPv4 as is (an IPv4-mapped IPv6 address as its IPv4 form), IPv6 by
 * its /64, which one client usually holds whole.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown'
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7)
  if (!address.includes(':')) return address
  const [head = '', tail = ''] = address.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = address.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left
  return (
    groups
      .slice(0, 4)
      .map((g) => (g.replace(/^0+/, '') || '0').toLowerCase())
      .join(':') + '::/64'
  )
}

export interface AuthThrottleOptions {
  /** Failed console sign-ins per source address and per access key id (default 10). */
  signinLimit?: number
  /** Failed SigV4 signatures per access key id (default 20). */
  signatureLimit?: number
  /** The sliding window of both (default 5 minutes). */
  windowMs?: number
  maxKeys?: number
  now?: () => number
  logger?: Logger | undefined
}

export const DEFAULT_SIGNIN_LIMIT = 10
export const DEFAULT_SIGNATURE_LIMIT = 20
export const DEFAULT_THROTTLE_WINDOW_MS = 5 * 60 * 1000

const seconds = (ms: number) => Math.ceil(ms / 1000)

/** The three throttles of a node, with the log line written when one starts refusing. */
export class AuthThrottle {
  readonly signinByAddress: FailureThrottle
  readonly signinByKey: FailureThrottle
  /** Which addresses failed on which key (`key address`, one failure is enough). */
  readonly signinByKeyFrom: FailureThrottle
  readonly signatureByKey: FailureThrottle
  readonly #logger: Logger | undefined

  constructor(opts: AuthThrottleOptions = {}) {
    const windowMs = opts.windowMs ?? DEFAULT_THROTTLE_WINDOW_MS
    const common = { windowMs, maxKeys: opts.maxKeys, now: opts.now }
    const signinLimit = opts.signinLimit ?? DEFAULT_SIGNIN_LIMIT
    this.signinByAddress = new FailureThrottle({ ...common, limit: signinLimit })
    this.signinByKey = new FailureThrottle({ ...common, limit: signinLimit })
    this.signinByKeyFrom = new FailureThrottle({ ...common, limit: 1 })
    this.signatureByKey = new FailureThrottle({
      ...common,
      limit: opts.signatureLimit ?? DEFAULT_SIGNATURE_LIMIT,
    })
    this.#logger = opts.logger
  }

  /** Seconds a sign-in from `address` with `accessKeyId` must wait; 0 when it may go on. */
  signinWaitSeconds(address: string | undefined, accessKeyId: string): number {
    const from = addressKey(address)
    const byAddress = this.signinByAddress.retryAfterMs(from)
    // A throttled key is paused only for the addresses that failed on it.
    const byKey =
      accessKeyId && this.signinByKeyFrom.retryAfterMs(`${accessKeyId} ${from}`) > 0
        ? this.signinByKey.retryAfterMs(accessKeyId)
        : 0
    return seconds(Math.max(byAddress, byKey))
  }

  /**
   * Counts a failed sign-in from `address`, and against `accessKeyId` when that key exists (an
   * unknown id is counted by address only, so guessed ids cannot fill the memory).
   */
  signinFailed(address: string | undefined, accessKeyId: string | undefined): void {
    const from = addressKey(address)
    if (this.signinByAddress.fail(from))
      this.#logger?.warn(
        {
          sourceIp: address,
          failures: this.signinByAddress.limit,
          retryAfterS: seconds(this.signinByAddress.retryAfterMs(from)),
        },
        'console sign-in throttled for this source address: too many failed sign-ins',
      )
    if (!accessKeyId) return
    this.signinByKeyFrom.fail(`${accessKeyId} ${from}`)
    // Logged once, when the key reaches its limit (a throttled key can still fail from new addresses).
    const wasThrottled = this.signinByKey.retryAfterMs(accessKeyId) > 0
    if (this.signinByKey.fail(accessKeyId) && !wasThrottled)
      this.#logger?.warn(
        {
          accessKeyId,
          sourceIp: address,
          failures: this.signinByKey.limit,
          retryAfterS: seconds(this.signinByKey.retryAfterMs(accessKeyId)),
        },
        'console sign-in throttled for this access key: too many failed sign-ins',
      )
  }

  /**
   * Counts a wrong signature of an existing access key; throws `ThrottlingException` when the key
   * has had too many (the caller throws the signature error otherwise). Right signatures never
   * come here.
   */
  signatureFailed(accessKeyId: string): void {
    const wait = this.signatureByKey.retryAfterMs(accessKeyId)
    if (wait > 0)
      throw new ThrottlingException(
        `Rate exceeded: too many requests with a wrong signature for this access key. Try again in ${seconds(wait)} seconds.`,
      )
    if (this.signatureByKey.fail(accessKeyId))
      this.#logger?.warn(
        {
          accessKeyId,
          failures: this.signatureByKey.limit,
          retryAfterS: seconds(this.signatureByKey.retryAfterMs(accessKeyId)),
        },
        'API requests throttled for this access key: too many wrong signatures',
      )
  }
}
