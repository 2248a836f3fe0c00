/**
 * Console sessions are revocable on the server (issue 11, item 8), and the sign-in `next` field
 * never breaks the answer or redirects elsewhere (item 13). Plain HTTP against a real Junction:
 * each test replays an old cookie or sends a hostile `next`, as an attacker would.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import type { Credentials } from '../helpers/client.js'
import { freshPgSchema, pgUrl, testEngines } from '../helpers/engines.js'
import { iamClient, policy, userWithPolicy } from '../helpers/iam.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const READ = policy({
  Effect: 'Allow',
  Action: ['codestar-connections:List*', 'codestar-connections:Get*'],
  Resource: '*',
})

const form = (values: Record<string, string>) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(values),
})

/** Signs in over HTTP; the cookie (`name=value`) and where the answer sends the browser. */
async function signIn(base: string, creds: Credentials, next = '/console') {
  const r = await fetch(
    `${base}/console/signin`,
    form({
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      next,
    }),
  )
  const set = r.headers.getSetCookie().find((c) => c.startsWith('junction_console='))
  const html = await r.text()
  return { status: r.status, location: r.headers.get('location'), cookie: set?.split(';')[0], html }
}

/** GETs a console page with the cookie: 200 with the page, or 303 to sign-in when refused. */
async function open(base: string, cookie: string, path = '/console') {
  const r = await fetch(`${base}${path}`, { headers: { cookie }, redirect: 'manual' })
  const html = await r.text()
  const csrf = /name="csrf" value="([^"]*)"/.exec(html)?.[1]
  return { status: r.status, location: r.headers.get('location'), html, csrf }
}

const signedIn = async (base: string, cookie: string) => (await open(base, cookie)).status === 200

async function signOut(base: string, cookie: string) {
  const { csrf } = await open(base, cookie)
  const r = await fetch(`${base}/console/signout`, {
    ...form({ csrf: csrf! }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
  })
  await r.body?.cancel()
  return r
}

for (const engine of testEngines()) {
  describe(`console sessions are revocable [${engine}]`, () => {
    let server: TestServer
    let iam: IAMClient
    let base: string
    beforeAll(async () => {
      server = await startTestServer(engine)
      iam = iamClient(server.url, server.credentials)
      base = server.url
    })
    afterAll(async () => {
      iam?.destroy()
      await server?.stop()
    })

    it('refuses the old cookie replayed after sign-out, for pages and for forms', async () => {
      const { cookie, location } = await signIn(base, server.credentials)
      expect(location).toBe('/console')
      expect(await signedIn(base, cookie!)).toBe(true)
      const { csrf } = await open(base, cookie!)
      const out = await signOut(base, cookie!)
      expect(out.status).toBe(303)
      expect(out.headers.get('location')).toBe('/console/signin?m=out')
      // The attacker kept a copy of the cookie: it opens nothing any more.
      const replay = await open(base, cookie!, '/console/settings')
      expect(replay.status).toBe(303)
      expect(replay.location).toBe('/console/signin?next=%2Fconsole%2Fsettings')
      const post = await fetch(`${base}/console/connections/new`, {
        ...form({ csrf: csrf!, provider: 'Bitbucket', name: 'after-signout' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie! },
      })
      expect(post.status).toBe(403)
      expect(await post.text()).toMatch(/Your session has expired/)
      expect(await server.store.connections.list('000000000000', {}, 0, 10)).toEqual([])
      // Signing out one session leaves the others of the same key alone.
      const a = (await signIn(base, server.credentials)).cookie!
      const b = (await signIn(base, server.credentials)).cookie!
      await signOut(base, a)
      expect(await signedIn(base, a)).toBe(false)
      expect(await signedIn(base, b)).toBe(true)
    })

    it('refuses the old cookie after its key was deactivated, even once reactivated', async () => {
      const creds = await userWithPolicy(iam, 'flip', READ)
      const other = await iam.send(new CreateAccessKeyCommand({ UserName: 'flip' }))
      const otherCreds = {
        accessKeyId: other.AccessKey!.AccessKeyId!,
        secretAccessKey: other.AccessKey!.SecretAccessKey!,
      }
      const cookie = (await signIn(base, creds)).cookie!
      const otherCookie = (await signIn(base, otherCreds)).cookie!
      expect(await signedIn(base, cookie)).toBe(true)
      const set = (Status: 'Active' | 'Inactive') =>
        iam.send(
          new UpdateAccessKeyCommand({ UserName: 'flip', AccessKeyId: creds.accessKeyId, Status }),
        )
      await set('Inactive')
      expect(await signedIn(base, cookie)).toBe(false)
      expect((await signIn(base, creds)).status).toBe(401) // an inactive key signs nobody in
      await set('Active')
      // Reactivating the key does not bring the old session back.
      expect(await signedIn(base, cookie)).toBe(false)
      // The user's session on another key was not touched; a fresh sign-in works again.
      expect(await signedIn(base, otherCookie)).toBe(true)
      expect(await signedIn(base, (await signIn(base, creds)).cookie!)).toBe(true)
    })

    it('refuses the old cookie after its key is deleted, and after the user is deleted', async () => {
      const creds = await userWithPolicy(iam, 'leaver', READ)
      const cookie = (await signIn(base, creds)).cookie!
      expect(await signedIn(base, cookie)).toBe(true)
      await iam.send(
        new DeleteAccessKeyCommand({ UserName: 'leaver', AccessKeyId: creds.accessKeyId }),
      )
      expect(await signedIn(base, cookie)).toBe(false)
      await iam.send(new DeleteUserPolicyCommand({ UserName: 'leaver', PolicyName: 'test' }))
      await iam.send(new DeleteUserCommand({ UserName: 'leaver' }))
      // A new user with the same name does not inherit the old session either.
      await userWithPolicy(iam, 'leaver', READ)
      expect(await signedIn(base, cookie)).toBe(false)
    })

    it('keeps only a signed random session id (and a fingerprint of the secret) in the cookie and its hash in the store', async () => {
      const { cookie } = await signIn(base, server.credentials)
      const value = cookie!.slice('junction_console='.length)
      const payload = JSON.parse(
        Buffer.from(value.slice(0, value.lastIndexOf('.')), 'base64url').toString('utf8'),
      ) as { v: Record<string, unknown> }
      expect(Object.keys(payload.v)).toEqual(['s', 'f'])
      expect(value).not.toContain(server.credentials.accessKeyId)
      // The fingerprint is an HMAC under the session id: no part of the secret itself.
      const { createHmac } = await import('node:crypto')
      const secret = server.credentials.secretAccessKey
      expect(payload.v['f']).toBe(
        createHmac('sha256', String(payload.v['s']))
          .update(secret)
          .digest('base64url')
          .slice(0, 22),
      )
      expect(value).not.toContain(secret.slice(0, 8))
      const id = String(payload.v['s'])
      expect(id.length).toBeGreaterThanOrEqual(43) // 256 random bits
      const { createHash } = await import('node:crypto')
      const hash = createHash('sha256').update(id).digest('hex')
      expect(await server.store.consoleSessions.get(id, Date.now())).toBeUndefined()
      expect(await server.store.consoleSessions.get(hash, Date.now())).toMatchObject({
        accessKeyId: server.credentials.accessKeyId,
      })
      // A forged cookie (the id re-signed by no one) opens nothing.
      expect(await signedIn(base, `junction_console=${value.slice(0, -2)}xx`)).toBe(false)
    })
  })
}

describeWith(needs.postgres)(
  'two nodes on one PostgreSQL share console sessions [postgres]',
  () => {
    const schema = pgUrl ? freshPgSchema() : undefined
    const env = {
      JUNCTION_MASTER_KEY: randomBytes(32).toString('hex'),
      JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIASESSIONSTWONODES',
      JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
    }
    let a: TestServer
    let b: TestServer
    let iam: IAMClient
    beforeAll(async () => {
      a = await startTestServer('postgres', { database: schema!.url }, env)
      b = await startTestServer('postgres', { database: schema!.url }, env)
      iam = iamClient(a.url, a.credentials)
    })
    afterAll(async () => {
      iam?.destroy()
      await a?.stop()
      await b?.stop()
      await schema?.drop()
    })

    it('a sign-out or a deactivation on one node ends the session on the other at once', async () => {
      const cookie = (await signIn(a.url, a.credentials)).cookie!
      expect(await signedIn(b.url, cookie)).toBe(true)
      await signOut(b.url, cookie)
      expect(await signedIn(a.url, cookie)).toBe(false)
      // Node b has just read the user's key (and keeps it in its cache): the session row decides.
      const creds = await userWithPolicy(iam, 'shared', READ)
      const userCookie = (await signIn(b.url, creds)).cookie!
      expect(await signedIn(a.url, userCookie)).toBe(true)
      expect(await signedIn(b.url, userCookie)).toBe(true)
      await iam.send(
        new UpdateAccessKeyCommand({
          UserName: 'shared',
          AccessKeyId: creds.accessKeyId,
          Status: 'Inactive',
        }),
      )
      await iam.send(
        new UpdateAccessKeyCommand({
          UserName: 'shared',
          AccessKeyId: creds.accessKeyId,
          Status: 'Active',
        }),
      )
      expect(await signedIn(b.url, userCookie)).toBe(false)
      expect(await signedIn(a.url, userCookie)).toBe(false)
    })
  },
)

describe('the sign-in `next` field', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite')
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('keeps a same-origin console path', async () => {
    const r = await signIn(server.url, server.credentials, '/console/hosts?x=1')
    expect(r.status).toBe(303)
    expect(r.location).toBe('/console/hosts?x=1')
  })

  it.each([
    ['CR/LF header injection', '/console/\r\nSet-Cookie: evil=1'],
    ['CR/LF right after /console', '/console\r\nSet-Cookie: evil=1'],
    ['LF alone', '/console/hosts\nLocation: https://evil.example'],
    ['a scheme-relative URL', '//evil.example'],
    ['an absolute URL', 'https://evil.example'],
    ['a backslash', '/\\evil.example'],
    ['a backslash after /console', '/console/\\\\evil.example'],
    ['a double slash after /console', '/console//evil.example'],
    ['a tab', '/console/\thosts'],
    ['a NUL', '/console/\u0000'],
    ['a path outside the console', '/oauth/bitbucket/callback'],
    ['a lookalike prefix', '/consolex'],
    ['a dot segment', '/console/../oauth'],
    ['non-ASCII', '/console/é'],
  ])('refuses %s: redirects to /console, never 5xx', async (_, next) => {
    const r = await signIn(server.url, server.credentials, next)
    expect(r.status).toBe(303)
    expect(r.location).toBe('/console')
    expect(r.cookie).toBeDefined()
    // The sign-in page shown with such a `next` carries /console instead.
    const page = await fetch(`${server.url}/console/signin?next=${encodeURIComponent(next)}`).then(
      async (x) => ({ status: x.status, html: await x.text() }),
    )
    expect(page.status).toBe(200)
    expect(page.html).toContain('<input type="hidden" name="next" value="/console">')
  })

  it('answers a wrong secret with a hostile next as a plain 401', async () => {
    const r = await signIn(
      server.url,
      { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'wrong' },
      '/console\r\nX: y',
    )
    expect(r.status).toBe(401)
    expect(r.html).toContain('<input type="hidden" name="next" value="/console">')
  })
})

describe('login CSRF: another site cannot sign a visitor in', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer('sqlite')
  })
  afterAll(async () => {
    await server?.stop()
  })

  const post = (headers: Record<string, string>, body?: string) =>
    fetch(`${server.url}/console/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body:
        body ??
        new URLSearchParams({
          accessKeyId: server.credentials.accessKeyId,
          secretAccessKey: server.credentials.secretAccessKey,
        }).toString(),
    })

  it.each([
    ['an Origin of another site', { origin: 'http://evil.example' }],
    ['an opaque Origin', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
    ['a text/plain body', { 'content-type': 'text/plain' }],
    ['a multipart body', { 'content-type': 'multipart/form-data; boundary=x' }],
  ])('refuses a sign-in with %s (403, no cookie)', async (_, headers) => {
    const r = await post(headers)
    expect(r.status).toBe(403)
    expect(r.headers.getSetCookie().some((c) => c.startsWith('junction_console='))).toBe(false)
    expect(await r.text()).toMatch(/Nothing was changed/)
  })

  it('signs in from its own page (same-origin Origin and Sec-Fetch-Site)', async () => {
    const r = await post({
      origin: new URL(server.url).origin,
      'sec-fetch-site': 'same-origin',
    })
    await r.body?.cancel()
    expect(r.status).toBe(303)
    expect(r.headers.getSetCookie().some((c) => c.startsWith('junction_console='))).toBe(true)
  })
})
