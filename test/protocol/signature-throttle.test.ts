/**
 * Wrong SigV4 signatures are throttled per access key id: after the limit every wrong signature
 * with that key is answered with AWS's throttling error (JSON `ThrottlingException`, Query
 * `Throttling`) until the window passes, while the owner's right signatures keep working (an
 * attacker who knows a key id cannot lock its owner out); other keys are unaffected, successes
 * never count, and a log line names the key without any secret. Performed against a real server whose throttle clock the test moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../../src/protocol/sigv4/sign.js'
import { DEFAULT_SIGNATURE_LIMIT, DEFAULT_THROTTLE_WINDOW_MS } from '../../src/server/throttle.js'
import { RawClient, type Credentials } from '../helpers/client.js'
import { expectAwsError } from '../helpers/api.js'
import { iamClient, userWithPolicy } from '../helpers/iam.js'
import { startClockedServer, type ClockedServer } from '../helpers/clocked-server.js'

describe('SigV4 failures are throttled per access key', () => {
  let server: ClockedServer
  let raw: RawClient
  let victim: Credentials

  beforeAll(async () => {
    server = await startClockedServer()
    raw = new RawClient(server.url, server.credentials)
    const iam = iamClient(server.url, server.credentials)
    victim = await userWithPolicy(iam, 'victim')
    iam.destroy()
  })
  afterAll(async () => {
    await server?.stop()
  })

  /** STS GetCallerIdentity (Query protocol; every principal may call it). */
  async function whoAmI(creds: Credentials): Promise<{ status: number; text: string }> {
    const url = new URL(server.url)
    const body = 'Action=GetCallerIdentity&Version=2011-06-15'
    const { host: _h, ...headers } = signRequest(
      url,
      body,
      { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      creds,
      'sts',
      'us-east-1',
    )
    const res = await fetch(url, { method: 'POST', headers, body })
    return { status: res.status, text: await res.text() }
  }

  const wrong = (n: number): Credentials => ({
    accessKeyId: victim.accessKeyId,
    secretAccessKey: `guess-${n}-${'x'.repeat(30)}`,
  })

  it('lets a correct secret through after a few typos, and successes never count', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await raw.call({ credentials: wrong(i) })
      expectAwsError(res, 'InvalidSignatureException', 403, /signature we calculated/)
    }
    for (let i = 0; i < 30; i++) expect((await whoAmI(victim)).status).toBe(200)
  })

  it(`throttles wrong signatures of the key after ${DEFAULT_SIGNATURE_LIMIT}; its owner and others are unaffected`, async () => {
    // Three failures were counted above; the attack brings the key to the limit.
    for (let i = 3; i < DEFAULT_SIGNATURE_LIMIT; i++) {
      const res = await raw.call({ credentials: wrong(i) })
      expectAwsError(res, 'InvalidSignatureException', 403, /signature we calculated/)
    }
    const guess = await raw.call({ credentials: wrong(999) })
    expectAwsError(guess, 'ThrottlingException', 400, /^Rate exceeded.*Try again in \d+ seconds\.$/)
    // The owner's right signatures still pass: the attack cannot lock the key's owner out.
    // (The user has no policy: a verified signature reaches IAM and gets AccessDenied.)
    expectAwsError(await raw.call({ credentials: victim }), 'AccessDeniedException', 400)
    expect((await whoAmI(victim)).status).toBe(200)
    // Wrong ones keep being throttled, on the Query protocol as `Throttling`.
    const query = await whoAmI(wrong(1000))
    expect(query.status).toBe(400)
    expect(query.text).toContain('<Code>Throttling</Code>')
    // Another key, and the root, are unaffected.
    expect((await raw.call({ operation: 'ListConnections' })).status).toBe(200)
    expect((await whoAmI(server.credentials)).status).toBe(200)
  })

  it('writes one log line naming the key, with no secret in any line', async () => {
    const lines = server.logs.filter((l) => l.includes('too many wrong signatures'))
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(line['accessKeyId']).toBe(victim.accessKeyId)
    expect(line['level']).toBe(40)
    const all = server.logs.join('\n')
    expect(all).not.toContain(victim.secretAccessKey)
    expect(all).not.toContain(server.credentials.secretAccessKey)
    expect(all).not.toContain('guess-')
  })

  it('lets the key in again once the window has passed', async () => {
    server.advance(DEFAULT_THROTTLE_WINDOW_MS - 60_000)
    expectAwsError(await raw.call({ credentials: wrong(2000) }), 'ThrottlingException', 400)
    server.advance(60_000)
    expect((await whoAmI(victim)).status).toBe(200)
    // And wrong signatures are counted afresh.
    expectAwsError(await raw.call({ credentials: wrong(1) }), 'InvalidSignatureException', 403)
    expect((await whoAmI(victim)).status).toBe(200)
  })
})
