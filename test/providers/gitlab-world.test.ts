/**
 * The GitLab adapter against the sandbox GitLab's seeded world (docs/sandbox-gitlab.md): what each
 * kind of token reaches and why one is refused (scopes, roles, a project token's one project),
 * nested namespaces, branch heads, merge requests and their webhook deliveries, the Git
 * fallbacks of changed files (a compare that timed out or was cut by diff limits), and the
 * instance application a self-managed host is set up with.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderNotFound, ProviderRequestFailed } from '../../src/providers/errors.js'
import { createInstanceApplication } from '../../src/providers/gitlab/applications.js'
import { selfManagedEndpoints } from '../../src/providers/gitlab/client.js'
import { GitLabProvider } from '../../src/providers/gitlab/gitlab-provider.js'
import type {
  ProviderCredentials,
  PullRequestEvent,
  PushEvent,
} from '../../src/providers/provider.js'
import { glReceiver, startGlSandbox, type GlSandbox } from '../helpers/gitlab-sandbox.js'

const run = promisify(execFile)
const API = 'acme/platform/api'

describe('GitLab adapter and the sandbox world', () => {
  let sb: GlSandbox
  let gl: GitLabProvider
  const pat = (name: string, o: Partial<ProviderCredentials> = {}): ProviderCredentials => ({
    kind: 'access-token',
    accessToken: sb.token(name),
    ...o,
  })

  beforeAll(async () => {
    sb = await startGlSandbox({ selfManaged: true })
    gl = new GitLabProvider({
      type: 'GitLabSelfManaged',
      endpoints: selfManagedEndpoints(sb.url),
      compareFilesCap: 2,
    })
  })
  afterAll(() => sb?.stop())

  it("lists alice's namespace and the nested groups she maintains through acme", async () => {
    const targets = await gl.listInstallationTargets(pat('alice-api'))
    expect(targets.map((t) => [t.slug, t.administrator])).toEqual(
      expect.arrayContaining([
        ['alice', true],
        ['acme', true],
        ['acme/platform', true],
        ['acme/platform/tools', true],
      ]),
    )
    expect(targets[0]!.id).toMatch(/^user:\d+$/)
  })

  it('marks a Guest as no administrator (CompleteConnection then refuses the whole group)', async () => {
    expect(await gl.verifyTarget(pat('dave-api'), 'acme')).toMatchObject({
      slug: 'acme',
      administrator: false,
    })
    expect(await gl.verifyTarget(pat('alice-api'), 'acme/platform')).toMatchObject({
      slug: 'acme/platform',
      administrator: true,
    })
  })

  it('refuses tokens without the api scope, naming it', async () => {
    for (const name of ['bob-read', 'acme-group-token'])
      await expect(gl.verifyTarget(pat(name), 'acme'), name).rejects.toThrow(/lacks the api scope/)
  })

  it("keeps a project access token to its project, and Git takes it with 'oauth2'", async () => {
    const c = pat('api-project-token', { level: 'repository', reach: { repository: 'api' } })
    expect(await gl.verifyTarget(c, 'acme/platform')).toMatchObject({ slug: 'acme/platform' })
    // Unnarrowed, its bot is no member of the group: nothing to complete with.
    await expect(gl.verifyTarget(pat('api-project-token'), 'acme/platform')).rejects.toBeInstanceOf(
      ProviderNotFound,
    )
    await expect(
      gl.verifyTarget(pat('api-project-token', { level: 'repository' }), 'acme/platform'),
    ).rejects.toThrow(/reaches one project/)
    const listed = await gl.listRepositories(c, 'acme/platform')
    expect(listed.items.map((r) => r.fullName)).toEqual([API])
    await expect(gl.getRepository(c, 'acme/platform/tools/cli')).rejects.toBeInstanceOf(
      ProviderNotFound,
    )
    const git = gl.cloneCredentials(c, API)
    const url = new URL(git.url)
    url.username = git.username
    url.password = git.password
    const { stdout } = await run('git', ['ls-remote', url.toString(), 'refs/heads/main'], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    })
    expect(stdout.split('\t')[0]).toBe(sb.world.commits.second)
  })

  it("lists a group's projects in its subgroups, and the user's own namespace", async () => {
    const acme = await gl.listRepositories(pat('alice-api'), 'acme')
    expect(acme.items.map((r) => r.fullName).sort()).toEqual(
      expect.arrayContaining([API, 'acme/platform/tools/cli', 'acme/website']),
    )
    const cli = acme.items.find((r) => r.fullName === 'acme/platform/tools/cli')!
    expect(cli).toMatchObject({ owner: 'acme/platform/tools', name: 'cli' })
    const own = await gl.listRepositories(pat('alice-api'), 'alice')
    expect(own.items.map((r) => r.fullName)).toEqual(['alice/notes'])
  })

  it('reads branch heads with slashes in one listing, and projects by numeric id', async () => {
    const heads = await gl.branchHeads(pat('alice-api'), API, [
      'main',
      'release/1.0',
      'feature/login',
      'gone',
    ])
    const { second, release, feature } = sb.world.commits
    expect(Object.fromEntries([...heads.heads].map(([k, v]) => [k, v.id]))).toEqual({
      main: second,
      'release/1.0': release,
      'feature/login': feature,
    })
    const repo = await gl.getRepository(pat('alice-api'), API)
    expect((await gl.getBranch(pat('alice-api'), repo.id, 'release/1.0')).commit.id).toBe(release)
  })

  it('reads the changed files over Git when the compare timed out or may have been cut', async () => {
    const c = pat('alice-api')
    const { first, release } = sb.world.commits
    const want = ['added VERSION']
    const norm = (xs: { status: string; path: string }[]) => xs.map((x) => `${x.status} ${x.path}`)
    await sb.admin('settings', { compareTimeout: true }, 'PUT')
    try {
      expect(norm(await gl.changedFiles(c, API, release, first))).toEqual(want)
    } finally {
      await sb.admin('settings', { compareTimeout: null }, 'PUT')
    }
    // Three files, cut by the instance to two: at the adapter's cap (2 here), Git answers.
    const three = await sb.admin<{ sha: string }>(`projects/${encodeURIComponent(API)}/commits`, {
      branch: 'many',
      files: { 'm/1': '1', 'm/2': '2', 'm/3': '3' },
      author: 'alice',
    })
    await sb.admin('settings', { diffMaxFiles: 2 }, 'PUT')
    try {
      expect(norm(await gl.changedFiles(c, API, three.sha)).sort()).toEqual([
        'added m/1',
        'added m/2',
        'added m/3',
      ])
    } finally {
      await sb.admin('settings', { diffMaxFiles: null }, 'PUT')
    }
  })

  it('parses merge request deliveries: open, update with new commits, merge', async () => {
    const receiver = await glReceiver()
    const c = pat('alice-api')
    try {
      const hook = await gl.registerWebhook(c, API, {
        url: receiver.url,
        secret: 'mr-secret',
        description: 'Junction',
        events: ['pull_request'],
      })
      const enc = encodeURIComponent(API)
      await sb.admin(`projects/${enc}/commits`, {
        branch: 'topic/mr',
        files: { 'mr.txt': 'one\n' },
        author: 'alice',
      })
      const mr = await sb.admin<{ iid: number }>(`projects/${enc}/merge_requests`, {
        source: 'topic/mr',
        title: 'Topic',
        author: 'alice',
      })
      const head = await sb.admin<{ sha: string }>(`projects/${enc}/commits`, {
        branch: 'topic/mr',
        files: { 'mr.txt': 'two\n' },
        author: 'alice',
      })
      await sb.admin(`projects/${enc}/merge_requests/${mr.iid}/merge`, { user: 'alice' })
      await sb.settled()
      const events = receiver.got
        .map((d) => gl.parseWebhook(d, 'mr-secret'))
        .filter((e): e is PullRequestEvent => e.kind === 'pull_request')
      expect(events.map((e) => [e.action, e.merged])).toEqual([
        ['OPEN', false],
        ['UPDATED', false],
        ['CLOSED', true],
      ])
      expect(events[1]).toMatchObject({
        repository: { fullName: API },
        number: mr.iid,
        sourceBranch: 'topic/mr',
        destinationBranch: 'main',
        sourceCommit: head.sha,
      })
      // No push events were asked for; the target branch resolves as a commit.
      expect(receiver.got.every((d) => d.headers['x-gitlab-event'] === 'Merge Request Hook')).toBe(
        true,
      )
      const target = await gl.getCommit(c, API, events[0]!.destinationCommit)
      expect(target.id).toMatch(/^[0-9a-f]{40}$/)
      const open = await gl.listPullRequests(c, API)
      expect(open.items.map((p) => p.number)).not.toContain(mr.iid)
      expect(await gl.getPullRequest(c, API, mr.iid)).toMatchObject({
        state: 'MERGED',
        sourceRepository: API,
      })
      await gl.deleteWebhook(c, API, hook)
    } finally {
      await receiver.close()
    }
  })

  it('reads a push of two commits (newest first, with their files) and a tag', async () => {
    const receiver = await glReceiver()
    const c = pat('alice-api')
    try {
      const hook = await gl.registerWebhook(c, API, {
        url: receiver.url,
        secret: 's',
        description: 'Junction',
        events: ['push'],
      })
      const enc = encodeURIComponent(API)
      const many = await sb.admin<{ sha: string }>(`projects/${enc}/commits`, {
        branch: 'main',
        files: { 'n.txt': 'n' },
        count: 2,
        author: 'alice',
      })
      await sb.admin(`projects/${enc}/push`, { refs: { 'refs/tags/v9': many.sha }, user: 'alice' })
      await sb.settled()
      const events = receiver.got.map((d) => gl.parseWebhook(d, 's') as PushEvent)
      expect(events[0]!.changes[0]).toMatchObject({ kind: 'branch', name: 'main', after: many.sha })
      expect(events[0]!.changes[0]!.commits[0]!.id).toBe(many.sha)
      expect(events[0]!.changes[0]!.commits).toHaveLength(2)
      expect(events[0]!.changes[0]!.commits[1]!.message).toMatch(/\(1\/2\)/)
      expect(events[0]!.changedFiles).toEqual(['n.txt'])
      expect(events[1]!.changes[0]).toMatchObject({ kind: 'tag', name: 'v9', created: true })
      await gl.deleteWebhook(c, API, hook)
    } finally {
      await receiver.close()
    }
  })

  it("creates Junction's instance application with root's token, and says why others cannot", async () => {
    const o = {
      apiUrl: `${sb.url}/api/v4`,
      name: 'Junction (test)',
      redirectUri: 'http://127.0.0.1:4599/oauth/gitlab/callback',
    }
    const app = await createInstanceApplication({ ...o, adminToken: sb.token('root-admin') })
    expect(app.applicationId).toMatch(/\S/)
    expect(app.clientSecret).toMatch(/\S/)
    await expect(
      createInstanceApplication({ ...o, adminToken: sb.token('alice-api') }),
    ).rejects.toThrow(/alice is not an administrator/)
    await expect(
      createInstanceApplication({ ...o, adminToken: sb.token('bob-read') }),
    ).rejects.toBeInstanceOf(ProviderRequestFailed)
  })
})
