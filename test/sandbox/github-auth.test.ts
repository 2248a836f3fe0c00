/**
 * The sandbox GitHub refuses what GitHub refuses: app JWTs (expired, issued in the future, too
 * long, wrong issuer or key), installation tokens beyond the installation (repositories,
 * permissions), expired tokens (the sandbox clock moved), suspended and deleted installations,
 * tokens on another repository (REST and Git), and a token sent to codeload. And it does what
 * GitHub does: Git over HTTP with `x-access-token`, the zipball's redirect and top folder, signed
 * app webhooks on a push, redelivery.
 */
import { execFile } from 'node:child_process'
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appJwt,
  hookReceiver,
  mintToken,
  seedGhWorld,
  signJwt,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'

const run = promisify(execFile)
const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
}

describe('sandbox GitHub authentication and reach', { timeout: 90_000 }, () => {
  let sb: GhSandbox
  let world: GhWorld
  let hooks: Awaited<ReturnType<typeof hookReceiver>>
  const tmp = mkdtempSync(join(tmpdir(), 'junction-ghs-clone-'))
  beforeAll(async () => {
    hooks = await hookReceiver()
    sb = await startGhSandbox()
    world = await seedGhWorld(sb, { webhookUrl: hooks.url })
  })
  afterAll(async () => {
    await sb?.stop()
    await hooks?.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  const get = (path: string, token: string) =>
    fetch(`${sb.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })

  it('refuses JWTs GitHub refuses', async () => {
    const now = Math.floor(Date.now() / 1000)
    const key = world.app.privateKey
    const ok = await get('/app', appJwt(world.app))
    expect(ok.status).toBe(200)
    expect((await get('/app', appJwt(world.app, world.app.clientId))).status).toBe(200)
    const cases: [string, string][] = [
      ['expired', signJwt(key, { iat: now - 700, exp: now - 100, iss: world.app.id })],
      ['iat in the future', signJwt(key, { iat: now + 120, exp: now + 500, iss: world.app.id })],
      [
        'longer than 10 minutes',
        signJwt(key, { iat: now - 30, exp: now + 600, iss: world.app.id }),
      ],
      ['unknown issuer', signJwt(key, { iat: now - 60, exp: now + 500, iss: 999999 })],
      ['no issuer', signJwt(key, { iat: now - 60, exp: now + 500 })],
      [
        'another key',
        signJwt(
          generateKeyPairSync('rsa', { modulusLength: 2048 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
          { iat: now - 60, exp: now + 500, iss: world.app.id },
        ),
      ],
      ['not a JWT', 'abc.def'],
    ]
    for (const [what, jwt] of cases) {
      const res = await get('/app', jwt)
      expect(res.status, what).toBe(401)
      expect(((await res.json()) as { message: string }).message, what).toBeTruthy()
    }
    // 60 s of clock skew is allowed for iat.
    expect(
      (await get('/app', signJwt(key, { iat: now + 30, exp: now + 500, iss: world.app.id })))
        .status,
    ).toBe(200)
    // An installation token is not a JWT.
    const t = await mintToken(sb, world.app, world.installationId)
    expect((await get('/app', String(t.json['token']))).status).toBe(401)
  })

  it('narrows installation tokens and refuses to widen them', async () => {
    const narrowed = await mintToken(sb, world.app, world.installationId, {
      repositories: ['app'],
      permissions: { contents: 'read' },
    })
    expect(narrowed.status).toBe(201)
    expect(String(narrowed.json['token'])).toMatch(/^ghs_/)
    expect(narrowed.json['repository_selection']).toBe('selected')
    expect(Date.parse(String(narrowed.json['expires_at'])) - Date.now()).toBeGreaterThan(3500_000)
    const token = String(narrowed.json['token'])
    expect((await get('/repos/acme/app', token)).status).toBe(200)
    expect((await get('/repos/acme/lib', token)).status).toBe(404)
    expect((await get('/repos/acme/secret', token)).status).toBe(404)
    // contents only: pull requests are not readable.
    expect((await get('/repos/acme/app/pulls', token)).status).toBe(403)
    const listed = (await (await get('/installation/repositories', token)).json()) as {
      total_count: number
    }
    expect(listed.total_count).toBe(1)
    for (const body of [
      { repositories: ['secret'] },
      { repositories: ['own'] },
      { repository_ids: [sb.state.repo('acme', 'secret')!.id] },
      { permissions: { contents: 'write' } },
      { permissions: { administration: 'read' } },
    ]) {
      const res = await mintToken(sb, world.app, world.installationId, body)
      expect(res.status, JSON.stringify(body)).toBe(422)
    }
    const missing = await mintToken(sb, world.app, 424242)
    expect(missing.status).toBe(404)
  })

  it('expires tokens after an hour on the sandbox clock', async () => {
    const t = String((await mintToken(sb, world.app, world.installationId)).json['token'])
    expect((await get('/repos/acme/app', t)).status).toBe(200)
    await sb.admin('clock', { advanceSeconds: 3601 })
    try {
      const res = await get('/repos/acme/app', t)
      expect(res.status).toBe(401)
      expect(((await res.json()) as { message: string }).message).toBe('Bad credentials')
      // The app's JWT still works (checked against the real time): a new token is minted.
      const fresh = await mintToken(sb, world.app, world.installationId)
      expect(fresh.status).toBe(201)
      expect((await get('/repos/acme/app', String(fresh.json['token']))).status).toBe(200)
    } finally {
      await sb.admin('clock', { advanceSeconds: -3601 })
    }
  })

  it('refuses tokens of a suspended installation, and all of a deleted one', async () => {
    const other = await sb.admin<{ id: number }>('installations', {
      app: world.app.slug,
      account: 'alice',
    })
    const t = String((await mintToken(sb, world.app, other.id)).json['token'])
    expect((await get('/repos/alice/own', t)).status).toBe(200)
    await sb.admin(`installations/${other.id}/suspend`, {})
    const res = await get('/repos/alice/own', t)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { message: string }).message).toBe(
      'This installation has been suspended',
    )
    expect((await mintToken(sb, world.app, other.id)).status).toBe(403)
    const jwtView = (await (
      await get(`/app/installations/${other.id}`, appJwt(world.app))
    ).json()) as { suspended_at: string | null }
    expect(jwtView.suspended_at).not.toBeNull()
    await sb.admin(`installations/${other.id}/unsuspend`, {})
    expect((await get('/repos/alice/own', t)).status).toBe(200)
    await sb.admin(`installations/${other.id}`, undefined, 'DELETE')
    expect((await get('/repos/alice/own', t)).status).toBe(401)
    expect((await get(`/app/installations/${other.id}`, appJwt(world.app))).status).toBe(404)
    await sb.settled()
    const actions = hooks
      .events('installation')
      .filter((e) => (e['installation'] as { id: number }).id === other.id)
      .map((e) => e['action'])
    expect(actions).toEqual(['created', 'suspend', 'unsuspend', 'deleted'])
  })

  it('clones with x-access-token, refuses another repository, and a push sends a signed webhook', async () => {
    // Asking for more than the installation holds is refused; an app with contents: write can push.
    const refused = await mintToken(sb, world.app, world.installationId, {
      repositories: ['app'],
      permissions: { contents: 'write' },
    })
    expect(refused.status).toBe(422)
    const writer = await sb.admin<GhWorld['app']>('apps', {
      name: 'Writer',
      owner: 'alice',
      permissions: { contents: 'write', metadata: 'read' },
      webhookUrl: hooks.url,
      webhookSecret: 'hook-secret',
    })
    const wi = await sb.admin<{ id: number }>('installations', {
      app: writer.slug,
      account: 'acme',
      repositories: ['app'],
    })
    const t = String(
      (
        await mintToken(sb, writer, wi.id, {
          repositories: ['app'],
          permissions: { contents: 'write' },
        })
      ).json['token'],
    )
    const url = (repo: string, token = t) => {
      const u = new URL(`${sb.url}/acme/${repo}.git`)
      u.username = 'x-access-token'
      u.password = token
      return u.toString()
    }
    await run('git', ['clone', '-q', url('app'), join(tmp, 'app')], { env: gitEnv })
    expect(readFileSync(join(tmp, 'app', 'src', 'main.sh'), 'utf8')).toBe('echo hello\n')
    await expect(
      run('git', ['clone', '-q', url('lib'), join(tmp, 'lib')], { env: gitEnv }),
    ).rejects.toThrow(/not found|404/i)
    await expect(
      run('git', ['clone', '-q', url('app', 'ghs_wrong'), join(tmp, 'bad')], { env: gitEnv }),
    ).rejects.toThrow()
    await expect(
      run('git', ['clone', '-q', `${sb.url}/acme/app.git`, join(tmp, 'anon')], { env: gitEnv }),
    ).rejects.toThrow()
    const before = hooks.got.length
    const w = join(tmp, 'app')
    const g = (...args: string[]) =>
      run('git', ['-C', w, '-c', 'user.name=CI', '-c', 'user.email=ci@example.com', ...args], {
        env: gitEnv,
      })
    await g('commit', '-q', '--allow-empty', '-m', 'From CI')
    await g('push', '-q', 'origin', 'HEAD:main')
    await hooks.waitFor(before + 1)
    const d = hooks.got.slice(before).find((x) => x.headers['x-github-event'] === 'push')!
    const sig = createHmac('sha256', 'hook-secret').update(d.body).digest('hex')
    expect(d.headers['x-hub-signature-256']).toBe(`sha256=${sig}`)
    expect([String(world.app.id), String(writer.id)]).toContain(
      d.headers['x-github-hook-installation-target-id'],
    )
    expect(d.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/)
    expect(d.headers['x-github-hook-installation-target-type']).toBe('integration')
    expect(d.headers['user-agent']).toMatch(/^GitHub-Hookshot\//)
    const payload = JSON.parse(d.body.toString('utf8')) as {
      ref: string
      installation: { id: number }
      head_commit: { message: string }
    }
    expect(payload.ref).toBe('refs/heads/main')
    expect([world.installationId, wi.id]).toContain(payload.installation.id)
    expect(payload.head_commit.message).toBe('From CI')
    // A read-only token cannot push.
    const ro = String(
      (await mintToken(sb, world.app, world.installationId, { repositories: ['app'] })).json[
        'token'
      ],
    )
    await g('commit', '-q', '--allow-empty', '-m', 'Refused')
    await expect(g('push', '-q', url('app', ro), 'HEAD:main')).rejects.toThrow(
      /403|denied|not granted/i,
    )
  })

  it('redirects the zipball to codeload, which refuses an Authorization header', async () => {
    const t = String((await mintToken(sb, world.app, world.installationId)).json['token'])
    const res = await fetch(`${sb.apiUrl}/repos/acme/app/zipball/main`, {
      headers: { authorization: `Bearer ${t}` },
      redirect: 'manual',
    })
    expect(res.status).toBe(302)
    const location = res.headers.get('location')!
    expect(new URL(location).origin).not.toBe(new URL(sb.apiUrl).origin)
    expect((await fetch(location, { headers: { authorization: `Bearer ${t}` } })).status).toBe(400)
    const zip = await fetch(location)
    expect(zip.status).toBe(200)
    const bytes = Buffer.from(await zip.arrayBuffer())
    const head = sb.state.repo('acme', 'app')!
    expect(head).toBeDefined()
    const dir = mkdtempSync(join(tmp, 'zip-'))
    const file = join(dir, 'a.zip')
    await import('node:fs/promises').then((f) => f.writeFile(file, bytes))
    const { stdout } = await run('unzip', ['-Z1', file])
    const top = stdout.split('\n')[0]!
    expect(top).toMatch(/^acme-app-[0-9a-f]{7}\/$/)
    // A link whose signature was changed, or another repository's token: refused.
    expect((await fetch(location.replace(/token=[^&]+/, 'token=1.x'))).status).toBe(404)
    const narrowed = String(
      (await mintToken(sb, world.app, world.installationId, { repositories: ['lib'] })).json[
        'token'
      ],
    )
    expect(
      (
        await fetch(`${sb.apiUrl}/repos/acme/app/zipball/main`, {
          headers: { authorization: `Bearer ${narrowed}` },
          redirect: 'manual',
        })
      ).status,
    ).toBe(404)
  })

  it('lists app deliveries and redelivers one with the same GUID', async () => {
    const jwt = appJwt(world.app)
    const list = (await (await get('/app/hook/deliveries', jwt)).json()) as {
      id: number
      guid: string
      event: string
    }[]
    expect(list.length).toBeGreaterThan(0)
    const first = list[0]!
    const before = hooks.got.length
    const res = await fetch(`${sb.apiUrl}/app/hook/deliveries/${first.id}/attempts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    })
    expect(res.status).toBe(202)
    await hooks.waitFor(before + 1)
    expect(hooks.got.at(-1)!.headers['x-github-delivery']).toBe(first.guid)
    const after = (await (await get('/app/hook/deliveries', jwt)).json()) as {
      guid: string
      redelivery: boolean
    }[]
    expect(after[0]).toMatchObject({ guid: first.guid, redelivery: true })
    const cfg = (await (await get('/app/hook/config', jwt)).json()) as Record<string, string>
    expect(cfg).toMatchObject({ url: hooks.url, content_type: 'json', secret: '********' })
  })
})
