/**
 * Who reaches what in the sandbox GitLab: memberships inherited down nested groups
 * (acme → acme/platform → acme/platform/tools), roles (Guest cannot read code, Developer cannot
 * manage hooks), private projects out of reach answering 404, group and project access tokens
 * acting as their bot users; GitLab's pagination and rate-limit headers; injected failures;
 * compare's timeout and overflow switches; the archive's top folder; Git over HTTP with
 * `oauth2:<token>` and any user name with an access token, refused without read_repository.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { oauthTokens, startGlSandbox, type GlSandbox } from '../helpers/gitlab-sandbox.js'

const run = promisify(execFile)
const API = 'acme%2Fplatform%2Fapi'
const CLI = 'acme%2Fplatform%2Ftools%2Fcli'

describe('sandbox GitLab access, paging and Git', { timeout: 120_000 }, () => {
  let sb: GlSandbox
  let work: string
  beforeAll(async () => {
    sb = await startGlSandbox({ selfManaged: true })
    work = mkdtempSync(join(tmpdir(), 'gl-access-'))
  })
  afterAll(async () => {
    await sb?.stop()
    rmSync(work, { recursive: true, force: true })
  })
  const status = async (path: string, token: string, o: { method?: string; body?: unknown } = {}) =>
    (await sb.get(path, token, o)).status
  const json = async <T>(path: string, token: string) =>
    (await (await sb.get(path, token)).json()) as T
  const paths = (rows: { path_with_namespace?: string; full_path?: string }[]) =>
    rows.map((r) => r.path_with_namespace ?? r.full_path).sort()

  it('inherits memberships down nested groups and hides what is out of reach', async () => {
    const carol = sb.token('carol-read')
    const bob = sb.token('bob-read')
    expect(await status(`/projects/${CLI}/repository/branches`, carol)).toBe(200)
    const hidden = await sb.get(`/projects/${API}`, carol)
    expect(hidden.status).toBe(404)
    expect(await hidden.json()).toEqual({ message: '404 Project Not Found' })
    expect(paths(await json('/groups', carol))).toEqual(['acme/platform/tools'])
    expect(paths(await json('/groups?all_available=true', carol))).toEqual([
      'acme',
      'acme/platform',
      'acme/platform/tools',
    ])
    expect(paths(await json('/projects?membership=true', bob))).toEqual([
      'acme/platform/api',
      'acme/platform/tools/cli',
    ])
    const cli = await json<{ permissions: unknown }>(`/projects/${CLI}`, bob)
    expect(cli.permissions).toEqual({
      project_access: null,
      group_access: { access_level: 30, notification_level: 3 },
    })
    const numeric = await json<{ id: number }>(`/projects/${CLI}`, bob)
    expect(await status(`/projects/${numeric.id}`, bob)).toBe(200)
    expect(paths(await json('/projects?min_access_level=40', bob))).toEqual([])
    expect(paths(await json('/groups?min_access_level=50', sb.token('alice-api')))).toEqual([
      'acme',
      'acme/platform',
      'acme/platform/tools',
    ])
    expect(paths(await json('/groups?top_level_only=true', sb.token('alice-api')))).toEqual([
      'acme',
    ])
    expect(paths(await json('/projects?owned=true', sb.token('alice-api')))).toEqual([
      'alice/notes',
    ])
  })

  it('answers anonymous callers: public projects readable, private ones 404, /user 401', async () => {
    const anon = (path: string) => fetch(`${sb.apiUrl}${path}`)
    expect((await anon('/projects/acme%2Fwebsite/repository/branches')).status).toBe(200)
    expect((await anon(`/projects/${API}`)).status).toBe(404)
    const me = await anon('/user')
    expect(me.status).toBe(401)
    expect(await me.json()).toEqual({ message: '401 Unauthorized' })
    const listed = (await (await anon('/projects')).json()) as { path_with_namespace: string }[]
    expect(paths(listed)).toEqual(['acme/website'])
  })

  it('applies roles: a Guest reads no code, a Developer manages no hooks', async () => {
    const dave = sb.token('dave-api')
    expect(await status(`/projects/${API}`, dave)).toBe(200)
    const code = await sb.get(`/projects/${API}/repository/branches`, dave)
    expect(code.status).toBe(403)
    expect(await code.json()).toEqual({ message: '403 Forbidden' })
    expect(await status(`/projects/${API}/merge_requests`, dave)).toBe(403)
    const { token: bobApi } = await sb.admin<{ token: string }>('tokens', {
      kind: 'personal',
      username: 'bob',
      scopes: ['api'],
    })
    const hook = { url: 'http://127.0.0.1:9/h' }
    expect(await status(`/projects/${API}/hooks`, bobApi, { method: 'POST', body: hook })).toBe(403)
    expect(
      await status(`/projects/${API}/hooks`, sb.token('alice-api'), { method: 'POST', body: hook }),
    ).toBe(201)
    // read_api cannot write, whatever the role.
    const { token: aliceRead } = await sb.admin<{ token: string }>('tokens', {
      kind: 'personal',
      username: 'alice',
      scopes: ['read_api'],
    })
    const r = await sb.get(`/projects/${API}/hooks`, aliceRead, { method: 'POST', body: hook })
    expect(r.status).toBe(403)
    expect(await r.json()).toMatchObject({ error: 'insufficient_scope' })
  })

  it('lets group and project access tokens act as their bot users', async () => {
    const group = sb.token('acme-group-token')
    expect(paths(await json('/groups/acme/projects?include_subgroups=true', group))).toEqual([
      'acme/platform/api',
      'acme/platform/tools/cli',
      'acme/website',
    ])
    expect(paths(await json('/groups/acme/projects', group))).toEqual(['acme/website'])
    const project = sb.token('api-project-token')
    expect(await status(`/projects/${API}/hooks`, project)).toBe(200)
    expect(await status(`/projects/${CLI}`, project)).toBe(404)
    const me = await json<{ bot: boolean; username: string }>('/user', project)
    expect(me.bot).toBe(true)
  })

  it('pages with page/per_page and GitLab headers (per_page at most 100)', async () => {
    const alice = sb.token('alice-api')
    const r1 = await sb.get('/projects?membership=true&per_page=3', alice)
    const h = (r: Response, k: string) => r.headers.get(k)
    expect([
      h(r1, 'x-page'),
      h(r1, 'x-per-page'),
      h(r1, 'x-total'),
      h(r1, 'x-total-pages'),
    ]).toEqual(['1', '3', '4', '2'])
    expect([h(r1, 'x-next-page'), h(r1, 'x-prev-page')]).toEqual(['2', ''])
    expect(h(r1, 'link')).toMatch(/page=2&per_page=3>; rel="next".*rel="first".*rel="last"/)
    expect(((await r1.json()) as unknown[]).length).toBe(3)
    const r2 = await sb.get('/projects?membership=true&per_page=3&page=2', alice)
    expect([h(r2, 'x-next-page'), h(r2, 'x-prev-page')]).toEqual(['', '1'])
    expect(h(r2, 'link')).toContain('rel="prev"')
    expect(((await r2.json()) as unknown[]).length).toBe(1)
    const ids = (rows: { id: number }[]) => rows.map((r) => r.id)
    const asc = ids(await json('/groups?min_access_level=40&order_by=id&sort=asc', alice))
    expect(asc).toEqual([...asc].sort((a, b) => a - b))
    const desc = ids(await json('/projects?membership=true&order_by=id&sort=desc', alice))
    expect(desc).toEqual([...desc].sort((a, b) => b - a))
    expect(await json('/groups/acme?with_projects=false', alice)).not.toHaveProperty('projects')
    const withProjects = await json<{ projects: { path_with_namespace: string }[] }>(
      '/groups/acme',
      alice,
    )
    expect(paths(withProjects.projects)).toEqual(['acme/website'])
    const big = await sb.get('/projects?per_page=500', alice)
    expect(h(big, 'x-per-page')).toBe('100')
    const found = await sb.get(`/projects/${API}/repository/branches?search=^release`, alice)
    expect(((await found.json()) as { name: string }[]).map((b) => b.name)).toEqual(['release/1.0'])
  })

  it('rate limits with RateLimit-* headers and a 429 Retry-After; injects failures', async () => {
    const carol = sb.token('carol-read')
    await sb.admin('rate-limits', { limit: 2, windowSeconds: 60 }, 'PUT')
    const a = await sb.get('/user', carol)
    expect(a.headers.get('ratelimit-limit')).toBe('2')
    expect(a.headers.get('ratelimit-remaining')).toBe('1')
    expect(a.headers.get('ratelimit-observed')).toBe('1')
    expect(Number(a.headers.get('ratelimit-reset'))).toBeGreaterThan(0)
    await sb.get('/user', carol)
    const over = await sb.get('/user', carol)
    expect(over.status).toBe(429)
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await over.text()).toBe('Retry later\n')
    await sb.admin('rate-limits', {}, 'DELETE')
    expect((await sb.get('/user', carol)).status).toBe(200)
    await sb.admin('failures', { count: 1, status: 503, method: 'GET', path: '/api/v4/user' })
    expect((await sb.get('/user', carol)).status).toBe(503)
    expect((await sb.get('/user', carol)).status).toBe(200)
  })

  it('switches compare to time out or to cap its diffs', async () => {
    const alice = sb.token('alice-api')
    const path = `/projects/${API}/repository/compare?from=release%2F1.0&to=feature%2Flogin`
    const full = await json<{ diffs: unknown[]; compare_timeout: boolean }>(path, alice)
    expect(full.diffs.length).toBeGreaterThan(1)
    await sb.admin('settings', { diffMaxFiles: 1 }, 'PUT')
    expect((await json<{ diffs: unknown[] }>(path, alice)).diffs).toHaveLength(1)
    await sb.admin('settings', { diffMaxFiles: null, compareTimeout: true }, 'PUT')
    const t = await json<{ diffs: unknown[]; compare_timeout: boolean; commits: unknown[] }>(
      path,
      alice,
    )
    expect(t).toMatchObject({ compare_timeout: true, diffs: [] })
    await sb.admin('settings', { compareTimeout: null }, 'PUT')
    const straight = await json<{ commits: unknown[] }>(`${path}&straight=true`, alice)
    expect(straight.commits.length).toBeGreaterThan(0)
  })

  it('streams archive.zip under the top folder <path>-<ref>-<sha>/', async () => {
    const { second } = sb.world.commits
    const r = await sb.get(
      `/projects/${API}/repository/archive.zip?sha=${second}`,
      sb.token('alice-api'),
    )
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/zip')
    const zip = Buffer.from(await r.arrayBuffer())
    expect(zip.includes(`api-${second}-${second}/README.md`)).toBe(true)
    expect(zip.includes(`api-${second}-${second}/src/app.js`)).toBe(true)
  })

  async function git(cwd: string, ...args: string[]) {
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_GLOBAL: '/dev/null' }
    return run('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', ...args], {
      cwd,
      env,
    })
  }
  const repoUrl = (user: string, token: string, path = 'acme/platform/api') => {
    const u = new URL(`${sb.url}/${path}.git`)
    u.username = user
    u.password = token
    return u.toString()
  }

  it('clones with oauth2:<OAuth token> and any user name with an access token; refuses without read_repository', async () => {
    const t = await oauthTokens(sb, { scope: 'read_repository' })
    await git(work, 'clone', '-q', repoUrl('oauth2', t.access_token), 'a')
    await expect(git(work, 'clone', '-q', repoUrl('alice', t.access_token), 'b')).rejects.toThrow()
    await git(
      work,
      'clone',
      '-q',
      repoUrl('anyone', sb.token('carol-read'), 'acme/platform/tools/cli'),
      'c',
    )
    const { token: apiRead } = await sb.admin<{ token: string }>('tokens', {
      kind: 'personal',
      username: 'alice',
      scopes: ['read_api'],
    })
    await expect(git(work, 'clone', '-q', repoUrl('alice', apiRead), 'd')).rejects.toThrow(
      /401|Authentication failed|Access denied/,
    )
    await expect(
      git(work, 'clone', '-q', repoUrl('carol', sb.token('carol-read')), 'e'),
    ).rejects.toThrow()
    const info = await fetch(`${sb.url}/acme/platform/api.git/info/refs?service=git-upload-pack`)
    expect(info.status).toBe(401)
    expect(info.headers.get('www-authenticate')).toBe('Basic realm="GitLab"')
  })

  it('pushes with write_repository as a Developer or up; refuses read-only tokens', async () => {
    await git(work, 'clone', '-q', repoUrl('bot', sb.token('api-project-token')), 'p')
    const w = join(work, 'p')
    writeFileSync(join(w, 'pushed.txt'), 'x\n')
    await git(w, 'add', 'pushed.txt')
    await git(w, 'commit', '-q', '-m', 'Pushed by the project bot')
    await expect(
      git(w, 'push', '-q', repoUrl('bob', sb.token('bob-read')), 'main'),
    ).rejects.toThrow()
    await git(w, 'push', '-q', 'origin', 'main')
    const head = (await git(w, 'rev-parse', 'HEAD')).stdout.trim()
    const b = await json<{ commit: { id: string } }>(
      `/projects/${API}/repository/branches/main`,
      sb.token('alice-api'),
    )
    expect(b.commit.id).toBe(head)
  })
})
