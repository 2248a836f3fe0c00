/**
 * A console session belongs to the secret it was opened with: when the operator replaces the root's
 * secret under the same access key id (JUNCTION_ROOT_SECRET_ACCESS_KEY, given again at restart),
 * a cookie from before opens nothing; a restart with the same secret keeps it. Real `junction
 * serve` processes on one data directory, cookies replayed over plain HTTP.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { spawnServe, type ServeProcess } from '../helpers/process.js'

const KEY_ID = 'JKIASESSIONSECRET000'

describe('console sessions and a replaced root secret', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-session-secret-'))
  let node: ServeProcess | undefined
  afterEach(async () => {
    node?.child.kill('SIGTERM')
    await node?.exited
    node = undefined
  })
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  const start = async (secret: string) => {
    node = await spawnServe(['--data-dir', dataDir], {
      JUNCTION_ROOT_ACCESS_KEY_ID: KEY_ID,
      JUNCTION_ROOT_SECRET_ACCESS_KEY: secret,
    })
    return node.url
  }
  const stop = async () => {
    node!.child.kill('SIGTERM')
    await node!.exited
    node = undefined
  }
  const signIn = async (url: string, secret: string) => {
    const r = await fetch(`${url}/console/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ accessKeyId: KEY_ID, secretAccessKey: secret }),
    })
    await r.body?.cancel()
    const cookie = r.headers.getSetCookie().find((c) => c.startsWith('junction_console='))
    expect(cookie, `sign-in answered ${r.status}`).toBeDefined()
    return cookie!.split(';')[0]!
  }
  const opens = async (url: string, cookie: string) => {
    const r = await fetch(`${url}/console`, { headers: { cookie }, redirect: 'manual' })
    await r.body?.cancel()
    return r.status === 200
  }

  it('keeps the session across a restart with the same secret, ends it when the secret is replaced', async () => {
    const first = randomBytes(30).toString('base64url')
    let url = await start(first)
    const cookie = await signIn(url, first)
    expect(await opens(url, cookie)).toBe(true)
    await stop()

    url = await start(first)
    expect(await opens(url, cookie)).toBe(true)
    await stop()

    const second = randomBytes(30).toString('base64url')
    url = await start(second)
    expect(await opens(url, cookie)).toBe(false)
    // The new secret signs in as usual.
    expect(await opens(url, await signIn(url, second))).toBe(true)
  })
})
