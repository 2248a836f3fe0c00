/**
 * Fine-grained personal access tokens in the sandbox GitHub: made through the admin API for a
 * user, one resource owner, all or selected repositories and their own permissions. They
 * authenticate REST (`Bearer` and `token`), `/user`, `/user/repos`, `/orgs/{org}` and Git over
 * HTTP (Basic, any user name); the sandbox refuses expired ones (401), repositories outside them
 * (404) and writes without contents: write (403), and a push with one sends the app webhooks.
 * Answers in the OpenAPI subset (`/user`, `/repos/{owner}/{repo}`) are validated against it;
 * `/user/repos` and `/orgs/{org}` are not in the subset (../shared/spec/github): `/user/repos`'
 * items are checked as the `repository` items of `/installation/repositories`.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  hookReceiver,
  seedGhWorld,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'
import { openApiValidator } from '../helpers/openapi.js'

const run = promisify(execFile)
const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
}
const SPEC = join(import.meta.dirname, '..', '..', '..', 'shared', 'spec', 'github')
const { expectValid } = openApiValidator(
  join(SPEC, 'rest-api.github.com.subset.json'),
  'github-pat-api.github.com',
)

describe('sandbox GitHub fine-grained personal access tokens', { timeout: 90_000 }, () => {
  let sb: GhSandbox
  let world: GhWorld
  let hooks: Awaited<ReturnType<typeof hookReceiver>>
  const tmp = mkdtempSync(join(tmpdir(), 'junction-ghs-pat-'))
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

  const pat = async (user: string, body: Record<string, unknown>) =>
    (await sb.admin<{ token: string }>(`users/${user}/tokens`, body)).token
  const get = (path: string, token: string, scheme = 'Bearer') =>
    fetch(`${sb.apiUrl}${path}`, { headers: { authorization: `${scheme} ${token}` } })

  it('is made only for an owner the user belongs to, with known permissions', async () => {
    const t = await pat('alice', { owner: 'acme', repositories: ['app'] })
    expect(t).toMatch(/^github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}$/)
    await expect(pat('bob', { owner: 'alice' })).rejects.toThrow(/422/)
    await expect(pat('alice', { owner: 'acme', repositories: ['nope'] })).rejects.toThrow(/422/)
    await expect(pat('alice', { permissions: { administration: 'write' } })).rejects.toThrow(/422/)
    await expect(pat('alice', { permissions: { contents: 'admin' } })).rejects.toThrow(/422/)
  })

  it('authenticates /user, /user/repos (its reach only, paged) and /orgs/{org}', async () => {
    const t = await pat('alice', { owner: 'acme', repositories: ['app', 'lib'] })
    for (const scheme of ['Bearer', 'token']) {
      const me = await get('/user', t, scheme)
      expect(me.status).toBe(200)
      const body = (await me.json()) as { login: string }
      expectValid('/user', 'get', 200, body)
      expect(body.login).toBe('alice')
    }
    const repos = await get('/user/repos?per_page=1', t)
    expect(repos.status).toBe(200)
    expect(repos.headers.get('link')).toMatch(/rel="next"/)
    const page1 = (await repos.json()) as { full_name: string }[]
    const page2 = (await (await get('/user/repos?per_page=1&page=2', t)).json()) as typeof page1
    expect([...page1, ...page2].map((r) => r.full_name).sort()).toEqual(['acme/app', 'acme/lib'])
    // GET /user/repos is not in the subset; its items are GitHub's `repository`, which the
    // subset describes as the items of GET /installation/repositories: checked as those.
    expectValid('/installation/repositories', 'get', 200, {
      total_count: 2,
      repositories: [...page1, ...page2],
    })
    // All of acme's: secret too, never alice's own.
    const all = await pat('alice', { owner: 'acme' })
    const names = ((await (await get('/user/repos', all)).json()) as typeof page1).map(
      (r) => r.full_name,
    )
    expect(names.sort()).toEqual(['acme/app', 'acme/lib', 'acme/secret'])
    const org = await get('/orgs/acme', t)
    expect(org.status).toBe(200)
    expect(((await org.json()) as { login: string; type: string }).type).toBe('Organization')
    expect((await get('/orgs/nobody-here', t)).status).toBe(404)
    // A PAT is no app's user token: no installations.
    expect((await get('/user/installations', t)).status).toBe(403)
  })

  it('reaches its repositories only; refuses expired tokens', async () => {
    const t = await pat('alice', { owner: 'acme', repositories: ['app'] })
    const app = await get('/repos/acme/app', t)
    expect(app.status).toBe(200)
    expectValid('/repos/{owner}/{repo}', 'get', 200, await app.json())
    const branches = await get('/repos/acme/app/branches', t)
    expectValid('/repos/{owner}/{repo}/branches', 'get', 200, await branches.json())
    const lib = await get('/repos/acme/lib', t)
    expect(lib.status).toBe(404)
    expectValid('/repos/{owner}/{repo}', 'get', 404, await lib.json())
    expect((await get('/repos/alice/own', t)).status).toBe(404)
    // Without pull_requests, pulls are refused.
    expect((await get('/repos/acme/app/pulls', t)).status).toBe(403)
    const expired = await pat('alice', { owner: 'acme', expiresInSeconds: -1 })
    const r = await get('/user', expired)
    expect(r.status).toBe(401)
    expect(((await r.json()) as { message: string }).message).toBe('Bad credentials')
    // A token that expires later dies when the sandbox clock passes it.
    const soon = await pat('alice', { owner: 'acme', expiresInSeconds: 60 })
    expect((await get('/user', soon)).status).toBe(200)
    await sb.admin('clock', { advanceSeconds: 61 })
    expect((await get('/user', soon)).status).toBe(401)
    await sb.admin('clock', { advanceSeconds: -61 })
  })

  it('clones with any user name, pushes with contents: write (webhooks follow), refuses the rest', async () => {
    const writer = await pat('alice', {
      owner: 'acme',
      repositories: ['app'],
      permissions: { contents: 'write', metadata: 'read' },
    })
    const reader = await pat('alice', { owner: 'acme', repositories: ['app'] })
    const expired = await pat('alice', {
      owner: 'acme',
      permissions: { contents: 'write' },
      expiresInSeconds: -1,
    })
    const url = (repo: string, token: string, user = 'anything') => {
      const u = new URL(`${sb.url}/acme/${repo}.git`)
      u.username = user
      u.password = token
      return u.toString()
    }
    const w = join(tmp, 'app')
    await run('git', ['clone', '-q', url('app', writer), w], { env: gitEnv })
    expect(readFileSync(join(w, 'README.md'), 'utf8')).toBe('# app\n')
    await expect(
      run('git', ['clone', '-q', url('lib', writer), join(tmp, 'lib')], { env: gitEnv }),
    ).rejects.toThrow(/not found|404/i)
    await expect(
      run('git', ['clone', '-q', url('app', expired), join(tmp, 'expired')], { env: gitEnv }),
    ).rejects.toThrow()
    const g = (...args: string[]) =>
      run('git', ['-C', w, '-c', 'user.name=Alice', '-c', 'user.email=a@example.com', ...args], {
        env: gitEnv,
      })
    const before = hooks.got.length
    await g('commit', '-q', '--allow-empty', '-m', 'With a PAT')
    await g('push', '-q', 'origin', 'HEAD:main')
    await hooks.waitFor(before + 1)
    const push = hooks.got
      .slice(before)
      .map((d) => ({ event: d.headers['x-github-event'], body: JSON.parse(d.body.toString()) }))
      .find((d) => d.event === 'push')!.body as {
      ref: string
      installation: { id: number }
      pusher: { name: string }
      head_commit: { message: string }
    }
    expect(push.ref).toBe('refs/heads/main')
    expect(push.installation.id).toBe(world.installationId)
    expect(push.pusher.name).toBe('alice')
    expect(push.head_commit.message).toBe('With a PAT')
    await g('commit', '-q', '--allow-empty', '-m', 'Refused')
    await expect(
      g('push', '-q', url('app', reader, 'x-access-token'), 'HEAD:main'),
    ).rejects.toThrow(/403|denied|not granted/i)
    await expect(g('push', '-q', url('app', expired), 'HEAD:main')).rejects.toThrow()
  })
})
