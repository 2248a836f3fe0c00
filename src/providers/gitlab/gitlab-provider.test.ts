/**
 * The adapter against a small loopback GitLab answering GitLab-shaped JSON (API v4): namespaces
 * and roles, nested project paths sent as one encoded `:id` segment, pagination by `Link`, branch
 * names with slashes, compare statuses, hooks, merge requests, archives and credential reach. The
 * contract suite (test/providers/gitlab.test.ts) runs the same adapter against the sandbox GitLab.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import { GitArchiveTooLarge } from '../git-archive.js'
import type { ProviderCredentials } from '../provider.js'
import { GitLabProvider } from './gitlab-provider.js'

const SHA1 = 'a'.repeat(40)
const SHA2 = 'b'.repeat(40)
const commit = (id: string, parents: string[]) => ({
  id,
  short_id: id.slice(0, 8),
  title: `Commit ${id.slice(0, 4)}`,
  message: `Commit ${id.slice(0, 4)}\n\nbody`,
  author_name: 'Alice A',
  author_email: '[REDACTED]',
  authored_date: '2026-01-02T03:04:05.000+01:00',
  parent_ids: parents,
})
const project = (id: number, path: string, ns: { id: number; kind: string }, level = 40) => ({
  id,
  path: path.split('/').at(-1),
  path_with_namespace: path,
  default_branch: 'main',
  visibility: 'private',
  http_url_to_repo: `http://gitlab.test/${path}.git`,
  namespace: { ...ns, full_path: path.split('/').slice(0, -1).join('/') },
  permissions: { project_access: null, group_access: { access_level: level } },
})
const PROJECTS = [
  project(100, 'acme/app', { id: 10, kind: 'group' }),
  project(101, 'acme/platform/tools/api', { id: 13, kind: 'group' }),
  project(102, 'acme/dev-only', { id: 10, kind: 'group' }, 30),
]
const TOKENS: Record<string, { scopes: string[] }> = {
  'alice-pat': { scopes: ['api'] },
  'readonly-pat': { scopes: ['read_api', 'read_repository'] },
}

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

describe('GitLab adapter against a loopback GitLab', () => {
  let server: Server
  let base: string
  const seen: Seen[] = []
  const hooks = new Map<string, unknown>()

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString()
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
        const json = (status: number, v: unknown, headers: Record<string, string> = {}) =>
          res
            .writeHead(status, { 'content-type': 'application/json', ...headers })
            .end(JSON.stringify(v))
        const token = req.headers['private-token'] ?? req.headers.authorization?.slice(7)
        if (token !== 'alice-pat' && token !== 'alice-oauth' && token !== 'readonly-pat')
          return json(401, { message: '401 Unauthorized' })
        const [path, query = ''] = req.url!.replace(/^\/api\/v4/, '').split('?') as [string, string]
        const q = new URLSearchParams(query)
        const page = (all: unknown[], per = 1) => {
          const n = Number(q.get('page') ?? '1')
          const headers: Record<string, string> = {}
          if (n * per < all.length) {
            q.set('page', String(n + 1))
            headers['link'] = `<${base}/api/v4${path}?${q.toString()}>; rel="next"`
          }
          return json(200, all.slice((n - 1) * per, n * per), headers)
        }
        const byId = (id: string) =>
          PROJECTS.find(
            (p) => String(p.id) === id || p.path_with_namespace === decodeURIComponent(id),
          )
        let m: RegExpExecArray | null
        if (path === '/user') return json(200, { id: 1, username: 'alice', name: 'Alice A' })
        if (path === '/personal_access_tokens/self')
          return TOKENS[token] ? json(200, { ...TOKENS[token], active: true }) : json(404, {})
        if (path === '/groups') {
          // alice: Owner of acme (and so of acme/platform), Developer of devs.
          const maintained = [
            { id: 10, full_path: 'acme', full_name: 'Acme', name: 'Acme' },
            { id: 11, full_path: 'acme/platform', full_name: 'Acme / Platform', name: 'Platform' },
          ]
          const min = Number(q.get('min_access_level'))
          if (min === 40) return page(maintained)
          if (min === 10) return page([...maintained, { id: 12, full_path: 'devs', name: 'Devs' }])
        }
        if ((m = /^\/groups\/([^/]+)$/.exec(path))) {
          const groups: Record<string, number> = {
            acme: 10,
            'acme/platform': 11,
            devs: 12,
            public: 14,
          }
          const id = groups[decodeURIComponent(m[1]!)]
          return id
            ? json(200, { id, full_path: decodeURIComponent(m[1]!), name: 'G' })
            : json(404, { message: '404 Group Not Found' })
        }
        if ((m = /^\/groups\/([^/]+)\/projects$/.exec(path))) {
          const g = decodeURIComponent(m[1]!)
          if (g !== 'acme') return json(404, { message: '404 Group Not Found' })
          return page(
            PROJECTS.filter(
              (p) => p.permissions.group_access.access_level >= Number(q.get('min_access_level')),
            ),
          )
        }
        if (path === '/projects' && q.get('owned') === 'true')
          return page([project(200, 'alice/own', { id: 1, kind: 'user' })])
        if ((m = /^\/projects\/([^/]+)(\/.*)?$/.exec(path))) {
          const p = byId(m[1]!)
          if (!p || m[1]!.includes('/')) return json(404, { message: '404 Project Not Found' })
          const rest = m[2] ?? ''
          if (rest === '') return json(200, p)
          if (rest === '/repository/branches')
            return page(
              ['main', 'release/1.0', 'x', 'y'].map((name) => ({
                name,
                commit: commit(SHA2, [SHA1]),
              })),
              2,
            )
          if ((m = /^\/repository\/branches\/([^/]+)$/.exec(rest))) {
            const name = decodeURIComponent(m[1]!)
            if (!['main', 'release/1.0'].includes(name))
              return json(404, { message: '404 Branch Not Found' })
            return json(
              200,
              { name, commit: commit(SHA2, [SHA1]) },
              { 'ratelimit-limit': '600', 'ratelimit-remaining': '30' },
            )
          }
          if ((m = /^\/repository\/commits\/([^/]+)$/.exec(rest))) {
            const id = decodeURIComponent(m[1]!)
            if (SHA2.startsWith(id) || id === 'main') return json(200, commit(SHA2, [SHA1]))
            return json(404, { message: '404 Commit Not Found' })
          }
          if (rest === '/repository/compare')
            return json(200, {
              compare_timeout: false,
              diffs: [
                {
                  old_path: 'a.txt',
                  new_path: 'a.txt',
                  new_file: true,
                  renamed_file: false,
                  deleted_file: false,
                },
                {
                  old_path: 'b.txt',
                  new_path: 'b.txt',
                  new_file: false,
                  renamed_file: false,
                  deleted_file: true,
                },
                {
                  old_path: 'c.txt',
                  new_path: 'd.txt',
                  new_file: false,
                  renamed_file: true,
                  deleted_file: false,
                },
                {
                  old_path: 'e.txt',
                  new_path: 'e.txt',
                  new_file: false,
                  renamed_file: false,
                  deleted_file: false,
                },
              ],
            })
          if (rest === '/repository/archive.zip')
            return res
              .writeHead(200, { 'content-type': 'application/zip' })
              .end(Buffer.alloc(4096, 1))
          if (rest === '/hooks' && req.method === 'POST') {
            const id = String(hooks.size + 1)
            hooks.set(id, JSON.parse(body))
            return json(201, { id: Number(id) })
          }
          if ((m = /^\/hooks\/(\d+)$/.exec(rest)) && req.method === 'DELETE')
            return hooks.delete(m[1]!)
              ? res.writeHead(204).end()
              : json(404, { message: '404 Not found' })
          if (rest === '/merge_requests')
            return page(
              [
                {
                  iid: 7,
                  title: 'MR',
                  state: 'opened',
                  source_branch: 'topic',
                  target_branch: 'main',
                  source_project_id: 100,
                  target_project_id: 100,
                  sha: SHA2,
                  diff_refs: { base_sha: SHA1, head_sha: SHA2 },
                },
              ],
              100,
            )
          if (rest === '/merge_requests/8')
            return json(200, {
              iid: 8,
              title: 'From a fork',
              state: 'merged',
              source_branch: 'f',
              target_branch: 'main',
              source_project_id: 999,
              target_project_id: 100,
              sha: SHA2,
              diff_refs: { base_sha: SHA1, head_sha: SHA2 },
            })
        }
        return json(404, { error: '404 Not Found' })
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  const gl = () =>
    new GitLabProvider({
      type: 'GitLabSelfManaged',
      endpoints: { webUrl: base, apiUrl: `${base}/api/v4` },
      http: { attempts: 1 },
    })
  const pat: ProviderCredentials = { kind: 'access-token', accessToken: 'alice-pat' }
  const oauth: ProviderCredentials = { kind: 'oauth', accessToken: 'alice-oauth' }

  it('authenticates OAuth tokens as Bearer and access tokens as PRIVATE-TOKEN', async () => {
    await gl().getRepository(oauth, 'acme/app')
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer alice-oauth')
    await gl().getRepository(pat, 'acme/app')
    expect(seen.at(-1)!.headers['private-token']).toBe('alice-pat')
    expect(seen.at(-1)!.headers.authorization).toBeUndefined()
  })

  it("lists the user's namespace and the groups they maintain, following pages", async () => {
    expect(await gl().listInstallationTargets(oauth)).toEqual([
      { id: 'user:1', slug: 'alice', name: 'Alice A', administrator: true },
      { id: 'group:10', slug: 'acme', name: 'Acme', administrator: true },
      { id: 'group:11', slug: 'acme/platform', name: 'Acme / Platform', administrator: true },
    ])
  })

  it('verifies a namespace: a maintained group, a group with less, the own namespace, none', async () => {
    expect(await gl().verifyTarget(pat, 'acme')).toMatchObject({
      id: 'group:10',
      administrator: true,
    })
    expect(await gl().verifyTarget(pat, 'acme/platform')).toMatchObject({
      id: 'group:11',
      slug: 'acme/platform',
    })
    expect(await gl().verifyTarget(pat, 'devs')).toMatchObject({ administrator: false })
    expect(await gl().verifyTarget(pat, 'alice')).toEqual({
      id: 'user:1',
      slug: 'alice',
      name: 'Alice A',
      administrator: true,
    })
    await expect(gl().verifyTarget(pat, 'public')).rejects.toThrow(/not a member/)
    await expect(gl().verifyTarget(pat, 'nope')).rejects.toBeInstanceOf(ProviderNotFound)
    await expect(gl().verifyTarget(pat, 'bad path')).rejects.toBeInstanceOf(ProviderNotFound)
  })

  it('refuses an access token without the api scope, naming it', async () => {
    const err = await gl()
      .verifyTarget({ kind: 'access-token', accessToken: 'readonly-pat' }, 'acme')
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      )
    expect(err).toBeInstanceOf(ProviderRequestFailed)
    expect(err.message).toMatch(/lacks the api scope.*has: read_api, read_repository/)
  })

  it('verifies a credential narrowed to one project, which needs Maintainer on it', async () => {
    const one = { ...pat, reach: { repository: 'platform/tools/api' } }
    expect(await gl().verifyTarget(one, 'acme')).toMatchObject({ slug: 'acme' })
    const less = { ...pat, reach: { repository: 'dev-only' } }
    await expect(gl().verifyTarget(less, 'acme')).rejects.toThrow(
      /Maintainer role on acme\/dev-only/,
    )
    await expect(gl().verifyTarget({ ...pat, level: 'repository' }, 'acme')).rejects.toBeInstanceOf(
      ProviderRequestFailed,
    )
  })

  it("lists a group's projects with Maintainer, subgroups included, page by page", async () => {
    const names: string[] = []
    let next: string | undefined
    let pages = 0
    do {
      const p = await gl().listRepositories(pat, 'acme', next)
      names.push(...p.items.map((r) => r.fullName))
      next = p.next
      pages++
    } while (next)
    expect(names).toEqual(['acme/app', 'acme/platform/tools/api'])
    expect(pages).toBe(2)
    const first = seen.find((s) => s.url.startsWith('/api/v4/groups/acme/projects'))!
    expect(first.url).toContain('include_subgroups=true')
    expect(first.url).toContain('min_access_level=40')
    const nested = await gl().listRepositories(pat, 'acme/platform/tools')
    expect(nested.items).toEqual([]) // not a group here: the user listing, filtered to the path
    const own = await gl().listRepositories(pat, 'alice')
    expect(own.items.map((r) => r.fullName)).toEqual(['alice/own'])
    await expect(gl().listRepositories(pat, 'acme', 'https://evil.example/x')).rejects.toThrow(
      /page token/,
    )
  })

  it('sends a nested project path as one encoded :id segment, and takes numeric ids', async () => {
    const r = await gl().getRepository(pat, 'acme/platform/tools/api')
    expect(seen.at(-1)!.url).toBe('/api/v4/projects/acme%2Fplatform%2Ftools%2Fapi')
    expect(r).toEqual({
      fullName: 'acme/platform/tools/api',
      owner: 'acme/platform/tools',
      name: 'api',
      id: '101',
      isPrivate: true,
      defaultBranch: 'main',
      cloneUrl: 'http://gitlab.test/acme/platform/tools/api.git',
    })
    expect((await gl().getRepository(pat, '101')).fullName).toBe('acme/platform/tools/api')
    await expect(gl().getRepository(pat, 'stranger/hidden')).rejects.toBeInstanceOf(
      ProviderNotFound,
    )
    await expect(gl().getRepository(pat, 'acme/../x')).rejects.toBeInstanceOf(ProviderNotFound)
  })

  it('reads branches (slashes encoded), their heads and commits', async () => {
    const b = await gl().getBranch(pat, 'acme/app', 'release/1.0')
    expect(seen.at(-1)!.url).toBe('/api/v4/projects/acme%2Fapp/repository/branches/release%2F1.0')
    expect(b.commit).toEqual({
      id: SHA2,
      authorDate: '2026-01-02T03:04:05.000+01:00',
      message: 'Commit bbbb\n\nbody',
      author: 'Alice A <[REDACTED]>',
      parents: [SHA1],
    })
    await expect(gl().getBranch(pat, 'acme/app', 'gone')).rejects.toBeInstanceOf(ProviderNotFound)
    expect((await gl().getCommit(pat, 'acme/app', SHA2.slice(0, 10))).id).toBe(SHA2)
    await expect(gl().getCommit(pat, 'acme/app', 'deadbeef')).rejects.toBeInstanceOf(
      ProviderNotFound,
    )
    await expect(gl().getCommit(pat, 'acme/app', 'main~1')).rejects.toBeInstanceOf(ProviderNotFound)
    const all = await gl().listBranches(pat, 'acme/app')
    expect(all.items.map((x) => x.name)).toEqual(['main', 'release/1.0'])
    expect(all.next).toMatch(/page=2/)
  })

  it('polls one or two branches one by one, more through the listing; reads RateLimit-*', async () => {
    const before = seen.length
    const two = await gl().branchHeads(pat, 'acme/app', ['main', 'gone'])
    expect([...two.heads.keys()]).toEqual(['main'])
    expect(two).toMatchObject({ limitPerHour: 36_000, nearLimit: true })
    expect(seen.length - before).toBe(2)
    const many = await gl().branchHeads(pat, 'acme/app', ['main', 'x', 'release/1.0'])
    expect([...many.heads.keys()].sort()).toEqual(['main', 'release/1.0', 'x'])
    expect(seen.length - before).toBe(4) // two pages of two branches
  })

  it("maps the compare API's files, direct or from the merge base", async () => {
    const files = await gl().changedFiles(pat, 'acme/app', SHA2, SHA1)
    expect(files).toEqual([
      { status: 'added', path: 'a.txt' },
      { status: 'removed', path: 'b.txt' },
      { status: 'renamed', path: 'd.txt', oldPath: 'c.txt' },
      { status: 'modified', path: 'e.txt' },
    ])
    expect(new URL(seen.at(-1)!.url, base).searchParams.get('straight')).toBe('true')
    await gl().changedFiles(pat, 'acme/app', SHA2, SHA1, true)
    expect(new URL(seen.at(-1)!.url, base).searchParams.get('straight')).toBe('false')
    await gl().changedFiles(pat, 'acme/app', SHA2)
    const q = new URL(seen.at(-1)!.url, base).searchParams
    expect([q.get('from'), q.get('to'), q.get('straight')]).toEqual([SHA1, SHA2, 'true'])
  })

  it('streams the archive, cut past maxBytes', async () => {
    const s = await gl().downloadArchive(pat, 'acme/app', SHA2)
    expect((await new Response(s).arrayBuffer()).byteLength).toBe(4096)
    expect(seen.at(-1)!.url).toBe(`/api/v4/projects/acme%2Fapp/repository/archive.zip?sha=${SHA2}`)
    const cut = await gl()
      .downloadArchive(pat, 'acme/app', SHA2, { maxBytes: 1000 })
      .then((st) => new Response(st).arrayBuffer())
      .catch((e: unknown) => e)
    expect(cut).toBeInstanceOf(GitArchiveTooLarge)
  })

  it('registers a project hook for push, tag push and merge request events; deletes it twice', async () => {
    const ref = await gl().registerWebhook(pat, 'acme/platform/tools/api', {
      url: 'https://j.example/webhooks/gitlab',
      secret: 's3cret',
      description: 'Junction',
      events: ['push', 'pull_request'],
    })
    expect(seen.at(-1)!.url).toBe('/api/v4/projects/acme%2Fplatform%2Ftools%2Fapi/hooks')
    expect(hooks.get(ref.id)).toEqual({
      url: 'https://j.example/webhooks/gitlab',
      token: 's3cret',
      push_events: true,
      tag_push_events: true,
      merge_requests_events: true,
      enable_ssl_verification: true,
    })
    const prOnly = await gl().registerWebhook(pat, 'acme/app', {
      url: 'https://j.example/h',
      secret: 's',
      description: 'Junction',
      events: ['pull_request'],
    })
    expect(hooks.get(prOnly.id)).toMatchObject({ push_events: false, merge_requests_events: true })
    await gl().deleteWebhook(pat, 'acme/platform/tools/api', ref)
    await gl().deleteWebhook(pat, 'acme/platform/tools/api', ref)
    expect(hooks.has(ref.id)).toBe(false)
  })

  it('reads merge requests as pull requests (a fork named by its project id)', async () => {
    expect((await gl().listPullRequests(pat, 'acme/app')).items).toEqual([
      {
        number: 7,
        title: 'MR',
        state: 'OPEN',
        sourceBranch: 'topic',
        sourceCommit: SHA2,
        sourceRepository: 'acme/app',
        destinationBranch: 'main',
        destinationCommit: SHA1,
      },
    ])
    expect(await gl().getPullRequest(pat, 'acme/app', 8)).toMatchObject({
      state: 'MERGED',
      sourceRepository: '999',
    })
    await expect(gl().getPullRequest(pat, 'acme/app', 0)).rejects.toBeInstanceOf(ProviderNotFound)
  })

  it('keeps a narrowed credential to its one project, before any request', async () => {
    const one = { ...pat, reach: { repository: 'platform/tools/api' } }
    expect((await gl().getRepository(one, 'acme/platform/tools/api')).id).toBe('101')
    const before = seen.length
    for (const p of [
      gl().getRepository(one, 'acme/app'),
      gl().getBranch(one, 'acme/app', 'main'),
      gl().changedFiles(one, 'acme/app', SHA2),
      gl().downloadArchive(one, 'acme/app', SHA2),
      gl().registerWebhook(one, 'acme/app', {
        url: 'https://x',
        secret: 's',
        description: 'd',
        events: ['push'],
      }),
    ])
      await expect(p).rejects.toBeInstanceOf(ProviderNotFound)
    expect(seen.length).toBe(before)
    const listed = await gl().listRepositories(one, 'acme')
    expect(listed.items.map((r) => r.fullName)).toEqual(['acme/platform/tools/api'])
  })

  it('reports a refused token as ProviderAuthFailed without echoing it', async () => {
    const err = await gl()
      .getRepository({ kind: 'oauth', accessToken: 'revoked-token' }, 'acme/app')
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      )
    expect(err).toBeInstanceOf(ProviderAuthFailed)
    expect(err.message).not.toContain('revoked-token')
  })

  it('builds web links, clone credentials and the Git host', () => {
    const p = gl()
    expect(p.webLinks('acme/platform/tools/api', SHA2)).toEqual({
      repository: `${base}/acme/platform/tools/api`,
      commit: `${base}/acme/platform/tools/api/-/commit/${SHA2}`,
    })
    expect(p.webLinks('101').repository).toBe(`${base}/projects/101`)
    expect(p.cloneCredentials(oauth, 'acme/platform/tools/api')).toEqual({
      url: `${base}/acme/platform/tools/api.git`,
      username: 'oauth2',
      password: 'alice-oauth',
    })
    expect(() => p.cloneCredentials(oauth, '101')).toThrow(ProviderNotFound)
    expect(p.gitHost()).toBe(new URL(base).host)
    expect(p.capabilities).toEqual({
      hosts: true,
      tokenRefresh: true,
      changedFilesInPushEvents: false,
      numericRepositoryIds: true,
    })
  })
})
