/**
 * Console sign-in is throttled per source address and per access key id: a brute force is stopped
 * after the limit with a 429 page saying how long to wait, a legitimate user elsewhere is not
 * affected (a throttled key is paused only for the addresses that failed on it, so knowing a key
 * id is not enough to lock its owner out), a right secret after a few typos still signs in, and
 * the limit passes with time.
 * Each client sends from its own loopback address to one real server whose throttle clock the
 * test moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_SIGNIN_LIMIT, DEFAULT_THROTTLE_WINDOW_MS } from '../../src/server/throttle.js'
import type { Credentials } from '../helpers/client.js'
import { iamClient, userWithPolicy } from '../helpers/iam.js'
import { sendFrom, startClockedServer, type ClockedServer } from '../helpers/clocked-server.js'

const LIMIT = DEFAULT_SIGNIN_LIMIT

describe('Console sign-in throttling', () => {
  let server: ClockedServer
  let root: Credentials
  let alice: Credentials

  beforeAll(async () => {
    server = await startClockedServer()
    root = server.credentials
    const iam = iamClient(server.url, root)
    alice = await userWithPolicy(iam, 'alice')
    iam.destroy()
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** POSTs the sign-in form from `address`. */
  const signIn = (address: string, accessKeyId: string, secretAccessKey: string) =>
    sendFrom(address, `${server.url}/console/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ accessKeyId, secretAccessKey, next: '/console' }).toString(),
    })

  const signedIn = (r: { status: number; headers: Record<string, unknown> }) =>
    r.status === 303 && String(r.headers['set-cookie'] ?? '').includes('junction_console=')

  const made = (n: number) => `JKIAMADEUP${String(n).padStart(10, '0')}`

  it('signs in with the right secret after a few typos', async () => {
    for (let i = 0; i < 3; i++)
      expect((await signIn('127.0.0.9', alice.accessKeyId, `typo-${i}`)).status).toBe(401)
    expect(signedIn(await signIn('127.0.0.9', alice.accessKeyId, alice.secretAccessKey))).toBe(true)
  })

  it(`stops a brute force from one address after ${LIMIT} failures, whatever the key`, async () => {
    // Guessing ids and secrets: each try a different made-up key, all from 127.0.0.2.
    for (let i = 0; i < LIMIT; i++) {
      const r = await signIn('127.0.0.2', made(i), 'guess')
      expect(r.status).toBe(401)
    }
    const stopped = await signIn('127.0.0.2', made(LIMIT), 'guess')
    expect(stopped.status).toBe(429)
    expect(stopped.body).toMatch(/Too many failed sign-ins/)
    expect(stopped.body).toMatch(/Wait \d+ seconds, then try again\./)
    const wait = Number(stopped.headers['retry-after'])
    expect(wait).toBeGreaterThan(DEFAULT_THROTTLE_WINDOW_MS / 1000 - 60)
    expect(wait).toBeLessThanOrEqual(DEFAULT_THROTTLE_WINDOW_MS / 1000)
    // The address is paused even with a right secret: a right guess looks like a wrong one.
    expect((await signIn('127.0.0.2', root.accessKeyId, root.secretAccessKey)).status).toBe(429)
    // The same key from another address signs in.
    expect(signedIn(await signIn('127.0.0.3', root.accessKeyId, root.secretAccessKey))).toBe(true)
  })

  it(`stops a brute force on one key from many addresses after ${LIMIT} failures`, async () => {
    // Three typos on alice's key were counted in the first test; spread the rest over addresses,
    // never reaching the limit of any one address.
    for (let i = 3; i < LIMIT; i++) {
      const r = await signIn(`127.0.1.${i}`, alice.accessKeyId, `guess-${i}`)
      expect(r.status).toBe(401)
    }
    // Every address that failed on the key is paused for it, even with the right secret.
    const stopped = await signIn('127.0.1.4', alice.accessKeyId, alice.secretAccessKey)
    expect(stopped.status).toBe(429)
    expect(stopped.body).toMatch(/Wait \d+ seconds/)
    // A fresh address gets one guess, and is paused for the key after it.
    expect((await signIn('127.0.2.9', alice.accessKeyId, 'guess-fresh')).status).toBe(401)
    expect((await signIn('127.0.2.9', alice.accessKeyId, alice.secretAccessKey)).status).toBe(429)
    // The key's owner, from an address that never failed on it, still signs in: knowing the key
    // id does not let an attacker lock her out.
    expect(signedIn(await signIn('127.0.2.1', alice.accessKeyId, alice.secretAccessKey))).toBe(true)
    // Another key from an attacking address is unaffected (it has one failure to its name).
    expect(signedIn(await signIn('127.0.1.3', root.accessKeyId, root.secretAccessKey))).toBe(true)
  })

  it('writes a log line per throttled address and key, with no secret in any line', () => {
    const byAddress = server.logs.filter((l) => l.includes('throttled for this source address'))
    const byKey = server.logs.filter((l) => l.includes('throttled for this access key'))
    expect(byAddress).toHaveLength(1)
    expect(JSON.parse(byAddress[0]!)).toMatchObject({ level: 40, sourceIp: '127.0.0.2' })
    expect(byKey).toHaveLength(1)
    expect(JSON.parse(byKey[0]!)).toMatchObject({ level: 40, accessKeyId: alice.accessKeyId })
    const all = server.logs.join('\n')
    for (const secret of [alice.secretAccessKey, root.secretAccessKey, 'guess-', 'typo-'])
      expect(all).not.toContain(secret)
  })

  it('lets the address and the key sign in again once the window has passed', async () => {
    server.advance(DEFAULT_THROTTLE_WINDOW_MS - 60_000)
    expect((await signIn('127.0.0.2', root.accessKeyId, root.secretAccessKey)).status).toBe(429)
    expect((await signIn('127.0.1.5', alice.accessKeyId, alice.secretAccessKey)).status).toBe(429)
    server.advance(60_000)
    expect(signedIn(await signIn('127.0.0.2', root.accessKeyId, root.secretAccessKey))).toBe(true)
    expect(signedIn(await signIn('127.0.1.5', alice.accessKeyId, alice.secretAccessKey))).toBe(true)
  })

  it('makes 500 wrong secrets cost an attacker all but the first few', async () => {
    const answers = new Map<number, number>()
    for (let i = 0; i < 500; i++) {
      const r = await signIn('127.0.3.1', alice.accessKeyId, `spray-${i}`)
      answers.set(r.status, (answers.get(r.status) ?? 0) + 1)
    }
    expect(answers.get(401)).toBe(LIMIT)
    expect(answers.get(429)).toBe(500 - LIMIT)
  })
})
