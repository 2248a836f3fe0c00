/**
 * Project webhooks of the sandbox GitLab replay GitLab's published examples
 * (/work/shared/spec/gitlab/webhook-examples/push.json, tag-push.json, merge-request.json): a
 * delivered body has every key of the example, recursively, with the same JSON type (null where
 * the example has null). Also: GitLab's delivery headers, the newest-20 commit list with the real
 * `total_commits_count`, no hooks for a push of more than 3 refs, `oldrev` only on an update with
 * new commits, `[REDACTED]` author emails, retries and resends under one `Idempotency-Key`.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { glReceiver, startGlSandbox, type GlSandbox } from '../helpers/gitlab-sandbox.js'

const run = promisify(execFile)
const EXAMPLES = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'spec',
  'gitlab',
  'webhook-examples',
)
const example = (f: string) => JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8')) as unknown
const API = 'acme%2Fplatform%2Fapi'

/**
 * Keys GitLab answers null while unset, where the example shows a set value: time tracking
 * without tracked time, a project label's group, the edit marks of a never-edited request.
 */
const NULLABLE = new Set([
  'human_total_time_spent',
  'human_time_change',
  'human_time_estimate',
  'group_id',
  'last_edited_at',
  'last_edited_by_id',
])

const kind = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v

/** Every key of `want` in `have` (recursively, same JSON type); the differences, one a line. */
function missingKeys(have: unknown, want: unknown, path = '$'): string[] {
  const k = kind(want)
  const key = path
    .split('.')
    .pop()!
    .replace(/\[\d+\]$/, '')
  if (kind(have) !== k && !(have === null && NULLABLE.has(key)))
    return [`${path}: ${kind(have)} where the example has ${k}`]
  if (k === 'array') {
    const w = want as unknown[]
    const h = have as unknown[]
    if (w.length === 0 || h.length === 0) return []
    return h.flatMap((x, i) => missingKeys(x, w[0], `${path}[${i}]`))
  }
  if (k !== 'object' || have === null) return []
  // `changes` holds what changed in this event ("can be triggered even if the changes field is
  // empty", webhook_events.md): each entry is {previous, current}, the keys vary.
  if (key === 'changes')
    return Object.entries(have as Record<string, unknown>).flatMap(([c, v]) =>
      missingKeys(v, { previous: null, current: null }, `${path}.${c}`).filter(
        (l) => !l.includes('where the example has null'),
      ),
    )
  const h = have as Record<string, unknown>
  return Object.entries(want as Record<string, unknown>).flatMap(([name, v]) =>
    name in h ? missingKeys(h[name], v, `${path}.${name}`) : [`${path}.${name}: absent`],
  )
}

async function gitIn(cwd: string, ...args: string[]) {
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_GLOBAL: '/dev/null' }
  return (
    await run(
      'git',
      ['-c', 'user.name=Alice Owner', '-c', 'user.email=alice@example.com', ...args],
      { cwd, env },
    )
  ).stdout
}

describe('sandbox GitLab project webhooks', { timeout: 120_000 }, () => {
  let sb: GlSandbox
  let rx: Awaited<ReturnType<typeof glReceiver>>
  let alice: string
  let hookId: number
  beforeAll(async () => {
    sb = await startGlSandbox({ selfManaged: true })
    rx = await glReceiver()
    alice = sb.token('alice-api')
    const r = await sb.get(`/projects/${API}/hooks`, alice, {
      method: 'POST',
      body: {
        url: rx.url,
        token: 'hook-secret',
        push_events: true,
        tag_push_events: true,
        merge_requests_events: true,
      },
    })
    hookId = ((await r.json()) as { id: number }).id
  })
  afterAll(async () => {
    await sb?.stop()
    await rx?.close()
  })

  const since = (n: number) => rx.got.slice(n)
  const bodies = (from: number, event: string) =>
    since(from)
      .filter((g) => g.headers['x-gitlab-event'] === event)
      .map((g) => JSON.parse(g.body.toString('utf8')) as Record<string, unknown>)

  it('a git push over HTTP (oauth2:<token>) fires a Push Hook with every key of push.json and GitLab headers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-push-'))
    try {
      const url = new URL(`${sb.url}/acme/platform/api.git`)
      url.username = 'oauth2'
      url.password = alice
      await gitIn(dir, 'clone', '-q', url.toString(), 'w')
      const w = join(dir, 'w')
      writeFileSync(join(w, 'CHANGELOG'), 'one\n')
      await gitIn(w, 'add', 'CHANGELOG')
      await gitIn(w, 'commit', '-q', '-m', 'Add changelog\n\nWith details.')
      const n = rx.got.length
      await gitIn(w, 'push', '-q', 'origin', 'main')
      await rx.waitFor(n + 1)
      const got = since(n)[0]!
      expect(got.headers['x-gitlab-event']).toBe('Push Hook')
      expect(got.headers['x-gitlab-token']).toBe('hook-secret')
      expect(got.headers['x-gitlab-instance']).toBe(sb.url)
      expect(got.headers['user-agent']).toMatch(/^GitLab\/\d+\.\d+/)
      expect(got.headers['content-type']).toBe('application/json')
      for (const h of ['x-gitlab-webhook-uuid', 'x-gitlab-event-uuid', 'idempotency-key'])
        expect(got.headers[h]).toMatch(/^[0-9a-f-]{36}$/)
      const body = JSON.parse(got.body.toString('utf8')) as Record<string, unknown>
      expect(missingKeys(body, example('push.json'))).toEqual([])
      const head = (await gitIn(w, 'rev-parse', 'HEAD')).trim()
      expect(body['after']).toBe(head)
      expect(body['user_username']).toBe('alice')
      expect(body['total_commits_count']).toBe(1)
      const [c] = body['commits'] as { added: string[]; author: { email: string }; title: string }[]
      expect(c).toMatchObject({
        added: ['CHANGELOG'],
        title: 'Add changelog',
        author: { email: 'alice@example.com' },
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a tag push fires a Tag Push Hook with every key of tag-push.json', async () => {
    const n = rx.got.length
    await sb.admin(`projects/${API}/push`, { refs: { 'refs/tags/v1.0.0': 'main' }, user: 'alice' })
    await sb.settled()
    const [tag] = bodies(n, 'Tag Push Hook')
    expect(missingKeys(tag, example('tag-push.json'))).toEqual([])
    expect(tag).toMatchObject({
      object_kind: 'tag_push',
      ref: 'refs/tags/v1.0.0',
      before: '0'.repeat(40),
    })
    expect(bodies(n, 'Push Hook')).toEqual([])
  })

  it('lists only the newest 20 commits, oldest first, with the real total_commits_count', async () => {
    const n = rx.got.length
    const made = await sb.admin<{ sha: string }>(`projects/${API}/commits`, {
      branch: 'main',
      files: { 'many.txt': 'x' },
      message: 'Step',
      author: 'bob',
      count: 22,
    })
    await sb.settled()
    const [push] = bodies(n, 'Push Hook')
    const commits = push!['commits'] as { id: string; title: string }[]
    expect(push!['total_commits_count']).toBe(22)
    expect(commits).toHaveLength(20)
    expect(commits[0]!.title).toBe('Step (3/22)')
    expect(commits[19]!.id).toBe(made.sha)
  })

  it('fires no push or tag push hook for a push of more than 3 refs, and one per ref up to 3', async () => {
    let n = rx.got.length
    await sb.admin(`projects/${API}/push`, {
      refs: {
        'refs/heads/a': 'main',
        'refs/heads/b': 'main',
        'refs/heads/c': 'main',
        'refs/tags/t4': 'main',
      },
    })
    await sb.settled()
    expect(since(n)).toEqual([])
    n = rx.got.length
    await sb.admin(`projects/${API}/push`, {
      refs: { 'refs/heads/a': null, 'refs/heads/b': null, 'refs/tags/t4': null },
    })
    await sb.settled()
    expect(
      bodies(n, 'Push Hook')
        .map((b) => [b['ref'], b['after']])
        .sort(),
    ).toEqual([
      ['refs/heads/a', '0'.repeat(40)],
      ['refs/heads/b', '0'.repeat(40)],
    ])
    expect(bodies(n, 'Tag Push Hook')).toHaveLength(1)
  })

  it('merge request events replay merge-request.json; oldrev only when commits were pushed', async () => {
    const n = rx.got.length
    // Each step's deliveries arrive before the next step starts: the order is the events' order.
    const step = async <T>(path: string, body: unknown, method?: string) => {
      const out = await sb.admin<T>(path, body, method)
      await sb.settled()
      return out
    }
    await step(`projects/${API}/push`, {
      refs: { 'refs/heads/feature/mr': 'main' },
      user: 'alice',
    })
    await step(`projects/${API}/commits`, {
      branch: 'feature/mr',
      files: { 'mr.txt': '1' },
      author: 'alice',
    })
    const { iid } = await step<{ iid: number }>(`projects/${API}/merge_requests`, {
      source: 'feature/mr',
      title: 'MR one',
      author: 'alice',
      assignees: ['bob'],
      reviewers: ['carol'],
      labels: ['API'],
    })
    const mr = `projects/${API}/merge_requests/${iid}`
    await step(mr, { user: 'alice', title: 'MR one, edited' }, 'PUT')
    await step(`projects/${API}/commits`, {
      branch: 'feature/mr',
      files: { 'mr.txt': '2' },
      author: 'alice',
    })
    await step(`${mr}/close`, { user: 'alice' })
    await step(`${mr}/reopen`, { user: 'alice' })
    await step(`${mr}/merge`, { user: 'alice' })
    await sb.settled()
    const created = bodies(n, 'Push Hook').find((b) => b['ref'] === 'refs/heads/feature/mr')
    // A branch pushed with no new commits lists none (webhook_events.md, Push events).
    expect(created).toMatchObject({
      ref: 'refs/heads/feature/mr',
      commits: [],
      total_commits_count: 0,
    })
    const events = bodies(n, 'Merge Request Hook')
    const attrs = events.map((e) => e['object_attributes'] as Record<string, unknown>)
    expect(attrs.map((a) => a['action'])).toEqual([
      'open',
      'update',
      'update',
      'close',
      'reopen',
      'merge',
    ])
    for (const e of events) expect(missingKeys(e, example('merge-request.json'))).toEqual([])
    expect(attrs.map((a) => 'oldrev' in a)).toEqual([false, false, true, false, false, false])
    expect(attrs[1]!['title']).toBe('MR one, edited')
    expect(Object.keys(events[1]!['changes'] as object)).toContain('title')
    expect(attrs[5]).toMatchObject({
      state: 'merged',
      merge_commit_sha: expect.stringMatching(/^[0-9a-f]{40}$/),
    })
    const merged = await sb.get(`/projects/${API}/merge_requests/${iid}`, alice)
    expect(await merged.json()).toMatchObject({ state: 'merged', iid })
  })

  it('filters push hooks by branch (wildcard) and leaves tag pushes to tag_push_events', async () => {
    const rx2 = await glReceiver()
    try {
      const made = await sb.get(`/projects/${API}/hooks`, alice, {
        method: 'POST',
        body: { url: rx2.url, push_events_branch_filter: 'release/*' },
      })
      expect(made.status).toBe(201)
      await sb.admin(`projects/${API}/commits`, { files: { 'f.txt': 'main' }, author: 'alice' })
      await sb.admin(`projects/${API}/commits`, {
        branch: 'release/1.0',
        files: { 'f.txt': 'release' },
        author: 'alice',
      })
      await sb.admin(`projects/${API}/push`, { refs: { 'refs/tags/v9': 'main' } })
      await sb.settled()
      expect(rx2.gitlab('Push Hook').map((d) => d.body['ref'])).toEqual(['refs/heads/release/1.0'])
      expect(rx2.gitlab('Tag Push Hook')).toEqual([])
      const id = ((await made.json()) as { id: number }).id
      await sb.get(`/projects/${API}/hooks/${id}`, alice, { method: 'DELETE' })
    } finally {
      await rx2.close()
    }
  })

  it('redacts author emails when the setting is on', async () => {
    await sb.admin('settings', { redactAuthorEmails: true }, 'PUT')
    const n = rx.got.length
    await sb.admin(`projects/${API}/commits`, { files: { 'r.txt': 'r' }, author: 'alice' })
    await sb.settled()
    await sb.admin('settings', { redactAuthorEmails: null }, 'PUT')
    const [push] = bodies(n, 'Push Hook')
    expect((push!['commits'] as { author: { email: string } }[])[0]!.author.email).toBe(
      '[REDACTED]',
    )
  })

  it('retries a failed delivery and resends it under the same Idempotency-Key and event UUID', async () => {
    rx.setStatus(500)
    const n = rx.got.length
    await sb.admin(`projects/${API}/commits`, { files: { 'retry.txt': 'r' }, author: 'alice' })
    await sb.settled()
    rx.setStatus(200)
    const tries = since(n)
    expect(tries.length).toBe(3)
    const keys = new Set(tries.map((t) => t.headers['idempotency-key']))
    expect(keys.size).toBe(1)
    const { deliveries } = await sb.admin<{ deliveries: { id: string; hook: string }[] }>(
      'deliveries',
    )
    const last = deliveries.at(-1)!
    expect(last.hook).toBe(String(hookId))
    await sb.admin(`deliveries/${last.id}/resend`, {})
    const again = rx.got.at(-1)!
    expect(again.headers['idempotency-key']).toBe(tries[0]!.headers['idempotency-key'])
    expect(again.headers['x-gitlab-event-uuid']).toBe(tries[0]!.headers['x-gitlab-event-uuid'])
    expect(again.body.equals(tries[0]!.body)).toBe(true)
  })
})
