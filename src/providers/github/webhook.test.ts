/**
 * GitHub App webhook deliveries, parsed from GitHub's own published examples
 * (shared/spec/github/webhook-examples.api.github.com.json, @octokit/webhooks-examples 7.6.1) and
 * real deliveries (shared/fixtures/webhooks/github), signed here as GitHub signs them.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { WebhookRejected } from '../errors.js'
import type { IgnoredEvent, PullRequestEvent, PushEvent } from '../provider.js'
import { parseGitHubWebhook, signGitHub, verifyGitHubSignature } from './webhook.js'

const SHARED = join(import.meta.dirname, '..', '..', '..', '..', 'shared')
type Json = Record<string, unknown>
const examples = JSON.parse(
  readFileSync(join(SHARED, 'spec', 'github', 'webhook-examples.api.github.com.json'), 'utf8'),
) as { name: string; examples: Json[] }[]
const examplesOf = (name: string) => examples.find((e) => e.name === name)!.examples
const fixture = (name: string) =>
  JSON.parse(readFileSync(join(SHARED, 'fixtures', 'webhooks', 'github', name), 'utf8')) as Json

const SECRET = 'a webhook secret'
let n = 0
function delivery(event: string, body: unknown, secret = SECRET) {
  const raw = Buffer.from(JSON.stringify(body))
  return {
    headers: {
      'x-github-event': event,
      'x-github-delivery': `72d3162e-cc78-11e3-81ab-${String(++n).padStart(12, '0')}`,
      'x-hub-signature-256': signGitHub(secret, raw),
      'content-type': 'application/json',
    },
    body: raw,
  }
}
const parse = (event: string, body: unknown) => parseGitHubWebhook(delivery(event, body), SECRET)

describe('X-Hub-Signature-256', () => {
  it("matches GitHub's documented test vector", () => {
    // docs.github.com, "Validating webhook deliveries", "Testing the webhook payload validation".
    expect(signGitHub("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    )
  })

  const ok = delivery('push', fixture('push.json'))
  it('accepts the right signature, in either hex case', () => {
    expect(() => verifyGitHubSignature(ok, SECRET)).not.toThrow()
    const upper = { ...ok, headers: { ...ok.headers } }
    upper.headers['x-hub-signature-256'] = `sha256=${ok.headers['x-hub-signature-256']
      .slice(7)
      .toUpperCase()}`
    expect(() => verifyGitHubSignature(upper, SECRET)).not.toThrow()
  })

  it.each([
    ['a forged body', { ...ok, body: Buffer.concat([ok.body, Buffer.from(' ')]) }, SECRET],
    ['the wrong secret', ok, 'another secret'],
    [
      'no signature',
      { ...ok, headers: { ...ok.headers, 'x-hub-signature-256': undefined } },
      SECRET,
    ],
    [
      'only the SHA-1 X-Hub-Signature',
      {
        ...ok,
        headers: {
          ...ok.headers,
          'x-hub-signature-256': undefined,
          'x-hub-signature': 'sha1=0123456789abcdef0123456789abcdef01234567',
        },
      },
      SECRET,
    ],
    [
      'a truncated signature',
      {
        ...ok,
        headers: {
          ...ok.headers,
          'x-hub-signature-256': ok.headers['x-hub-signature-256'].slice(0, 40),
        },
      },
      SECRET,
    ],
    ['no configured secret', ok, ''],
  ])('refuses %s before parsing', (_, req, secret) => {
    expect(() => parseGitHubWebhook(req, secret)).toThrow(WebhookRejected)
  })

  it('refuses a delivery larger than GitHub sends, unread', () => {
    const req = { headers: ok.headers, body: Buffer.alloc(25 * 1024 * 1024 + 1, 0x20) }
    expect(() => parseGitHubWebhook(req, SECRET)).toThrow(/larger than GitHub sends/)
  })

  it('refuses a signed body that is not a JSON object, and a delivery without its headers', () => {
    const raw = Buffer.from('[1,2]')
    const base = { 'x-github-event': 'push', 'x-github-delivery': 'd1' }
    const sig = { 'x-hub-signature-256': signGitHub(SECRET, raw) }
    expect(() => parseGitHubWebhook({ headers: { ...base, ...sig }, body: raw }, SECRET)).toThrow(
      /not a JSON object/,
    )
    expect(() =>
      parseGitHubWebhook({ headers: { 'x-github-delivery': 'd1', ...sig }, body: raw }, SECRET),
    ).toThrow(/X-GitHub-Event/)
  })
})

describe('push', () => {
  it('a branch push with commits: newest first, changed files from added/modified/removed', () => {
    const body = fixture('push.json')
    const e = parse('push', body) as PushEvent
    expect(e.kind).toBe('push')
    expect(e.repository).toEqual({
      fullName: 'binkkatal/sample_app',
      id: String((body['repository'] as Json)['id']),
    })
    expect(e.changes).toEqual([
      {
        kind: 'branch',
        name: 'master',
        before: '737d38c599c1b2991664dfc6155d6bf516fcce36',
        after: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
        created: false,
        deleted: false,
        forced: false,
        commits: [{ id: 'fd489864e7642b48eaad6e3f155c10e46810ec72', message: 'test a push event' }],
      },
    ])
    expect(e.changedFiles?.sort()).toEqual(
      ['.razorops.yaml', 'app/controllers/application_controller.rb'].sort(),
    )
  })

  it('orders several commits newest first and unions their files', () => {
    const body = fixture('push.json')
    const first = (body['commits'] as Json[])[0]!
    body['commits'] = [
      {
        ...first,
        id: 'a'.repeat(40),
        message: 'older',
        added: [],
        modified: ['x/y.txt'],
        removed: ['gone.md'],
      },
      first,
    ]
    const e = parse('push', body) as PushEvent
    expect(e.changes[0]!.commits.map((c) => c.message)).toEqual(['test a push event', 'older'])
    expect(new Set(e.changedFiles)).toEqual(
      new Set([
        'x/y.txt',
        'gone.md',
        '.razorops.yaml',
        'app/controllers/application_controller.rb',
      ]),
    )
  })

  it('a forced push leaves changed files to the compare API', () => {
    const e = parse('push', { ...fixture('push.json'), forced: true }) as PushEvent
    expect(e.changes[0]!.forced).toBe(true)
    expect(e.changedFiles).toBeUndefined()
  })

  it("GitHub's examples: tag created, tag deleted, branch created through an installation", () => {
    const [tagCreated, tagDeleted, , , branchCreated] = examplesOf('push')
    const t = parse('push', tagCreated) as PushEvent
    expect(t.changes[0]).toMatchObject({
      kind: 'tag',
      name: 'simple-tag',
      created: true,
      deleted: false,
    })
    expect(t.changes[0]!.before).toBeUndefined()
    expect(t.changes[0]!.after).toBe('6113728f27ae82c7b1a177c8d03f9e96e0adf246')
    const d = parse('push', tagDeleted) as PushEvent
    expect(d.changes[0]).toMatchObject({ kind: 'tag', name: 'simple-tag', deleted: true })
    expect(d.changes[0]!.after).toBeUndefined()
    expect(d.changedFiles).toBeUndefined()
    const b = parse('push', branchCreated) as PushEvent
    expect(b.installationId).toBe('1')
    expect(b.repository.fullName).toBe('Codertocat/Hello-World')
    expect(b.changes[0]).toMatchObject({ kind: 'branch', name: 'master', created: true })
    expect(b.changedFiles).toBeUndefined()
  })

  it('ignores pushes to other refs', () => {
    const e = parse('push', { ...fixture('push.json'), ref: 'refs/notes/commits' })
    expect(e).toMatchObject({ kind: 'ignored', reason: 'push to refs/notes/commits' })
  })

  it('parses a form-encoded delivery (payload=<json>)', () => {
    const raw = Buffer.from(
      new URLSearchParams({ payload: JSON.stringify(fixture('push.json')) }).toString(),
    )
    const e = parseGitHubWebhook(
      {
        headers: {
          'x-github-event': 'push',
          'x-github-delivery': 'form-1',
          'x-hub-signature-256': signGitHub(SECRET, raw),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: raw,
      },
      SECRET,
    )
    expect(e.kind).toBe('push')
  })
})

describe('pull_request', () => {
  const all = examplesOf('pull_request')

  it('maps every published action: opened/reopened OPEN, synchronize UPDATED, closed CLOSED, others ignored', () => {
    const seen: Record<string, string> = {}
    for (const ex of all) {
      const e = parse('pull_request', ex)
      seen[ex['action'] as string] = e.kind === 'pull_request' ? e.action : 'ignored'
    }
    expect(seen).toEqual({
      opened: 'OPEN',
      reopened: 'OPEN',
      synchronize: 'UPDATED',
      closed: 'CLOSED',
      assigned: 'ignored',
      converted_to_draft: 'ignored',
      labeled: 'ignored',
      locked: 'ignored',
      ready_for_review: 'ignored',
      review_request_removed: 'ignored',
      review_requested: 'ignored',
      unassigned: 'ignored',
      unlabeled: 'ignored',
      unlocked: 'ignored',
    })
  })

  it('reads branches, full commit ids, number and installation', () => {
    const ex = all.find((x) => x['action'] === 'synchronize')!
    const pr = ex['pull_request'] as Json
    const e = parse('pull_request', ex) as PullRequestEvent
    expect(e).toMatchObject({
      kind: 'pull_request',
      action: 'UPDATED',
      number: 2,
      merged: false,
      sourceBranch: 'changes',
      destinationBranch: 'master',
      sourceCommit: (pr['head'] as Json)['sha'],
      destinationCommit: (pr['base'] as Json)['sha'],
      title: pr['title'],
      installationId: '1',
      repository: { fullName: 'Codertocat/Hello-World' },
    })
    expect(e.sourceCommit).toMatch(/^[0-9a-f]{40}$/)
  })

  it('closed: merged or not, as pull_request.merged says', () => {
    const closed = all.find((x) => x['action'] === 'closed')!
    expect((parse('pull_request', closed) as PullRequestEvent).merged).toBe(false)
    const merged = {
      ...closed,
      pull_request: { ...(closed['pull_request'] as Json), merged: true },
    }
    expect(parse('pull_request', merged)).toMatchObject({ action: 'CLOSED', merged: true })
  })

  it('a real delivery (fixtures), with its installation', () => {
    const e = parse('pull_request', fixture('pull-request.json')) as PullRequestEvent
    expect(e).toMatchObject({
      action: 'OPEN',
      number: 1,
      repository: { fullName: 'baxterthehacker/public-repo' },
    })
    expect(e.installationId).toBe('234')
  })

  it('refuses a pull request without a number', () => {
    const ex = {
      ...all[0]!,
      number: undefined,
      pull_request: { ...(all[0]!['pull_request'] as Json), number: 'x' },
    }
    expect(() => parse('pull_request', ex)).toThrow(/no number/)
  })
})

describe('installation events', () => {
  it("GitHub's installation examples carry the change for the connect layer", () => {
    const got = examplesOf('installation').map(
      (ex) => (parse('installation', ex) as IgnoredEvent).installation,
    )
    expect(got.map((c) => [c?.action, c?.installationId, c?.account])).toEqual([
      ['deleted', '2', 'octocat'],
      ['created', '957387', 'Codertocat'],
      ['created', '957387', 'Codertocat'],
      ['deleted', '2', 'octocat'],
      ['new_permissions_accepted', '957387', 'Codertocat'],
      ['suspend', '16598467', 'Codertocat'],
      ['unsuspend', '16598467', 'Codertocat'],
    ])
    expect(got[1]).toMatchObject({
      repositorySelection: 'selected',
      repositoriesAdded: ['Codertocat/Hello-World'],
    })
    expect(got[0]!.repositoriesAdded).toBeUndefined()
  })

  it('installation_repositories: added and removed', () => {
    const [added, , removed] = examplesOf('installation_repositories')
    expect((parse('installation_repositories', added) as IgnoredEvent).installation).toEqual({
      action: 'repositories_added',
      installationId: '957387',
      account: 'Codertocat',
      repositorySelection: 'selected',
      repositoriesAdded: ['Codertocat/Space'],
    })
    expect(
      (parse('installation_repositories', removed) as IgnoredEvent).installation,
    ).toMatchObject({
      action: 'repositories_removed',
      installationId: '2',
      repositoriesRemoved: ['octocat/Hello-World'],
    })
  })

  it('real deliveries (fixtures) and an authorization revoked', () => {
    const i = parse('installation', fixture('integration-installation.json')) as IgnoredEvent
    expect(i.installation).toMatchObject({ action: 'created', installationId: '80429' })
    const r = parse(
      'installation_repositories',
      fixture('installation-repositories.json'),
    ) as IgnoredEvent
    expect(r.installation?.action).toBe('repositories_removed')
    const g = parse(
      'github_app_authorization',
      examplesOf('github_app_authorization')[0],
    ) as IgnoredEvent
    expect(g.installation).toEqual({ action: 'authorization_revoked' })
  })
})

describe('other events', () => {
  it('ping, create, delete, repository, meta are verified and ignored', () => {
    expect(parse('ping', fixture('ping.json'))).toMatchObject({ kind: 'ignored', reason: 'ping' })
    for (const name of ['ping', 'create', 'delete', 'repository', 'meta'])
      for (const ex of examplesOf(name)) expect(parse(name, ex).kind).toBe('ignored')
  })
  it('carries the delivery id', () => {
    const d = delivery('ping', fixture('ping.json'))
    expect(parseGitHubWebhook(d, SECRET).deliveryId).toBe(d.headers['x-github-delivery'])
  })
})
