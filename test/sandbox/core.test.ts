/**
 * The sandbox core on its own, with a minimal provider of the test's making: the admin registry
 * and its common endpoints, injected failures, signed deliveries with retries and resend, the
 * consent page, and Git over HTTP behind a provider's `authorize` check — what a second
 * provider's sandbox builds on.
 */
import { execFile } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addCommonEndpoints, AdminApi, COMMON_SETTINGS } from '../../src/sandbox/core/admin.js'
import { handleAuthorize } from '../../src/sandbox/core/consent.js'
import { Deliveries } from '../../src/sandbox/core/deliveries.js'
import { Failures } from '../../src/sandbox/core/failures.js'
import { commitFiles, initBare } from '../../src/sandbox/core/git.js'
import { serveGit } from '../../src/sandbox/core/git-http.js'
import { basicAuth, HttpError, sendJson } from '../../src/sandbox/core/http.js'
import { startSandboxServer, type SandboxServer } from '../../src/sandbox/core/server.js'
import {
  JsonState,
  type BaseData,
  type BaseToken,
  type BaseUser,
} from '../../src/sandbox/core/state.js'

const run = promisify(execFile)

describe('sandbox core with a minimal provider', () => {
  let dataDir: string
  let server: SandboxServer
  let state: JsonState<BaseUser, BaseToken, BaseData>
  let deliveries: Deliveries
  let receiver: Server
  let receiverUrl: string
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = []
  let failNext = 0

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'junction-core-'))
    state = new JsonState(dataDir, 'mini.json', () => ({
      users: [{ username: 'ann', password: 'pw', email: 'ann@example.com', displayName: 'Ann' }],
      tokens: {},
      settings: { accessTokenLifetimeSeconds: 60 },
    }))
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() })
        res.writeHead(failNext-- > 0 ? 500 : 204).end()
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    server = await startSandboxServer({
      name: 'mini sandbox',
      port: 0,
      dataDir,
      errorBody: (message) => ({ problem: message }),
    })
    const failures = new Failures()
    deliveries = new Deliveries({
      headers: (h, d, body, attempt) => ({
        'X-Mini-Event': d.event,
        'X-Mini-Attempt': String(attempt),
        ...(h.secret
          ? { 'X-Mini-Signature': createHmac('sha256', h.secret).update(body).digest('hex') }
          : {}),
      }),
      findHook: (id) => (id === 'h1' ? { id, url: receiverUrl, secret: 's3cret' } : undefined),
      backoffMs: () => 10,
      track: (p) => server.track(p),
    })
    const admin = new AdminApi().add(
      'POST',
      'things/:name',
      'POST /_sandbox/things/{name}',
      (c) => [201, { name: c.params['name'], color: c.str('color') ?? null }],
    )
    addCommonEndpoints(admin, {
      service: 'mini-sandbox',
      about: () => ({ web: server.url }),
      settings: {
        specs: COMMON_SETTINGS,
        values: state.data.settings as unknown as Record<string, unknown>,
        save: () => state.save(),
      },
      settingsDoc: 'PUT /_sandbox/settings {…}',
      failures,
      deliveries,
      stats: () => ({ users: state.data.users.length }),
    })
    server.route(
      async (r) => {
        if (r.url.pathname !== '/authorize') return false
        await handleAuthorize(r, {
          service: 'Mini sandbox',
          description: 'read things.',
          action: '/authorize',
          fields: ['client_id', 'state'],
          client: (id) =>
            id === 'app' ? { name: 'App <1>', callbackUrl: 'http://cb.invalid/back' } : undefined,
          signIn: (u, p) => state.checkPassword(u, p),
          issueCode: (consumer, username) => state.newCode({ consumer, username }),
        })
        return true
      },
      admin.route,
      (r) => {
        if (r.parts[0] !== 'api') return false
        const injected = failures.take(r.method, r.url.pathname)
        if (injected) throw new HttpError(injected.status, 'injected', injected.headers)
        sendJson(r.res, 200, { ok: true })
        return true
      },
      async (r) => {
        const [owner, name] = r.parts
        if (!owner || !name?.endsWith('.git')) return false
        await serveGit(r.req, r.res, {
          projectRoot: state.reposRoot,
          pathInfo: `/${r.parts.join('/')}`,
          query: r.url.search.slice(1),
          repoDir: state.repoDir(owner, name.slice(0, -4)),
          authorize(write) {
            const b = basicAuth(r.req)
            const user = b && state.checkPassword(b.user, b.password)
            if (!user && (write || name === 'private.git'))
              throw new HttpError(401, 'no', { 'WWW-Authenticate': 'Basic realm="mini"' })
            return { remoteUser: user ? user.username : 'anonymous' }
          },
        })
        return true
      },
    )
  })
  afterAll(async () => {
    await server?.close()
    await new Promise((r) => receiver?.close(r))
    rmSync(dataDir, { recursive: true, force: true })
  })

  const call = async (path: string, method = 'GET', body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }

  it('routes admin endpoints by pattern, lists them, and answers 404 in the error body', async () => {
    const made = await call('/_sandbox/things/lamp', 'POST', { color: 'red' })
    expect([made.status, JSON.parse(made.text)]).toEqual([201, { name: 'lamp', color: 'red' }])
    const index = JSON.parse((await call('/_sandbox')).text) as Record<string, unknown>
    expect(index['service']).toBe('mini-sandbox')
    expect(index['endpoints']).toContain('POST /_sandbox/things/{name}')
    expect(index['endpoints']).toContain('POST /_sandbox/deliveries/{id}/resend')
    const missing = await call('/_sandbox/things/lamp/extra', 'POST', {})
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.text)).toEqual({
      problem: 'No such sandbox admin endpoint (GET /_sandbox lists them)',
    })
    expect((await call('/nowhere')).status).toBe(404)
  })

  it('checks settings in order and persists them', async () => {
    const bad = await call('/_sandbox/settings', 'PUT', { maxPagelen: 0 })
    expect(bad.status).toBe(400)
    const ok = await call('/_sandbox/settings', 'PUT', { maxPagelen: 5, tokenDelayMs: 10 })
    expect(JSON.parse(ok.text)).toEqual({
      accessTokenLifetimeSeconds: 60,
      maxPagelen: 5,
      tokenDelayMs: 10,
    })
    await call('/_sandbox/settings', 'PUT', { maxPagelen: null })
    const reread = new JsonState<BaseUser, BaseToken, BaseData>(dataDir, 'mini.json', () => {
      throw new Error('the file was not written')
    })
    expect(reread.data.settings).toEqual({ accessTokenLifetimeSeconds: 60, tokenDelayMs: 10 })
  })

  it('injects failures aimed at one method and path, with Retry-After', async () => {
    await call('/_sandbox/failures', 'POST', {
      count: 1,
      status: 503,
      retryAfter: 2,
      path: '/api/b',
    })
    expect((await call('/api/a')).status).toBe(200)
    const failed = await call('/api/b')
    expect([failed.status, failed.headers.get('retry-after')]).toEqual([503, '2'])
    expect((await call('/api/b')).status).toBe(200)
  })

  it('delivers with the provider signature, retries a 5xx, and resends the same body and id', async () => {
    received.length = 0
    failNext = 1
    deliveries.deliver([{ id: 'h1', url: receiverUrl, secret: 's3cret' }], 'thing:made', { n: 1 })
    await server.settled()
    expect(received.map((r) => r.headers['x-mini-attempt'])).toEqual(['1', '2'])
    const sig = createHmac('sha256', 's3cret').update(received[1]!.body).digest('hex')
    expect(received[1]!.headers['x-mini-signature']).toBe(sig)
    const list = JSON.parse((await call('/_sandbox/deliveries')).text) as {
      deliveries: { id: string; status: number; attempts: number }[]
    }
    const d = list.deliveries[0]!
    expect([d.status, d.attempts]).toEqual([204, 2])
    expect((await call(`/_sandbox/deliveries/${d.id}/resend`, 'POST')).status).toBe(200)
    expect(received[2]!.body).toBe(received[0]!.body)
    expect((await call('/_sandbox/deliveries/nope/resend', 'POST')).status).toBe(404)
  })

  it('shows the consent page escaped, refuses a wrong password, and redirects with a code', async () => {
    const page = await call('/authorize?client_id=app&state=xyz')
    expect(page.text).toContain('App &#60;1&#62;')
    expect(page.text).toContain('name="state" value="xyz"')
    const post = (form: Record<string, string>) =>
      fetch(`${server.url}/authorize`, {
        method: 'POST',
        body: new URLSearchParams(form),
        redirect: 'manual',
      })
    expect((await post({ client_id: 'app', username: 'ann', password: 'no' })).status).toBe(401)
    const ok = await post({ client_id: 'app', state: 'xyz', username: 'ann', password: 'pw' })
    const back = new URL(ok.headers.get('location')!)
    expect(back.searchParams.get('state')).toBe('xyz')
    expect(state.takeCode(back.searchParams.get('code')!)?.username).toBe('ann')
    expect(state.takeCode(back.searchParams.get('code')!)).toBeUndefined()
  })

  it('serves Git over HTTP only as far as the provider authorizes', async () => {
    for (const name of ['open', 'private']) {
      const dir = state.repoDir('ann', name)
      await initBare(dir, 'main')
      await commitFiles(dir, 'main', { 'a.txt': name }, 'first', { name: 'Ann', email: 'a@x' })
    }
    const work = mkdtempSync(join(tmpdir(), 'junction-core-clone-'))
    const clone = (url: string, to: string) =>
      run('git', ['clone', '-q', url, join(work, to)], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      })
    try {
      await clone(`${server.url}/ann/open.git`, 'open')
      await expect(clone(`${server.url}/ann/private.git`, 'denied')).rejects.toThrow()
      const u = new URL(server.url)
      u.username = 'ann'
      u.password = 'pw'
      await clone(`${u.toString()}ann/private.git`, 'private')
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  })
})
