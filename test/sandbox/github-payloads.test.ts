/**
 * The sandbox GitHub's webhook payloads (src/sandbox/github/payloads.ts), held to GitHub's own
 * publications in ../shared/spec/github: each payload validates against the webhook schema for
 * its event and action (`@octokit/openapi-webhooks`, api.github.com and GHES 3.19), carries
 * every key of GitHub's published examples for the same event and action
 * (`@octokit/webhooks-examples`; recursively, arrays by their first element; the exceptions
 * below, each with its reason), and puts its URLs on the sandbox's bases where GitHub's are on
 * github.com and api.github.com. Then Junction's parser reads them: each payload is signed as
 * GitHub signs it and parsed by parseGitHubWebhook, and every published example of these events
 * is replayed through it too.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { IgnoredEvent, PullRequestEvent, PushEvent } from '../../src/providers/provider.js'
import { parseGitHubWebhook } from '../../src/providers/github/webhook.js'
import { deliveryHeaders, type HookUrls } from '../../src/sandbox/github/payloads.js'
import { c1, c2, orgRepo, payloadCases, sha, type Case } from '../helpers/github-payload-cases.js'
import { webhookValidator } from '../helpers/webhook-schemas.js'

const SPEC = join(import.meta.dirname, '..', '..', '..', 'shared', 'spec', 'github')
type Json = Record<string, unknown>
const examples = JSON.parse(
  readFileSync(join(SPEC, 'webhook-examples.api.github.com.json'), 'utf8'),
) as { name: string; examples: Json[] }[]
const examplesOf = (event: string, action?: string) =>
  examples
    .find((e) => e.name === event)!
    .examples.filter((x) => action === undefined || x['action'] === action)

const schemas = {
  dotcom: webhookValidator(join(SPEC, 'webhooks-api.github.com.subset.json'), 'gh-hooks'),
  ghes: webhookValidator(join(SPEC, 'webhooks-ghes-3.19.subset.json'), 'ghes-hooks'),
}
const URLS: Record<'dotcom' | 'ghes', HookUrls> = {
  dotcom: { web: 'http://127.0.0.1:7991', api: 'http://api.127.0.0.1.nip.io:7991' },
  ghes: { web: 'https://ghes.sandbox.test:8443', api: 'https://ghes.sandbox.test:8443/api/v3' },
}

// ---- the comparisons -----------------------------------------------------------------------

/** The webhooks-document entry for an event and action (`pull_request` + `opened`). */
const schemaName = (c: Case) => [c.event, c.action].filter(Boolean).join('-').replace(/_/g, '-')

/**
 * The keys of `example` that `have` lacks, recursively, arrays by their first element. Where
 * `have` holds null or an empty array and the example an object or a filled one, there is
 * nothing to descend into: GitHub sends null and [] there too (no milestone, no labels, a
 * deleted ref's `head_commit`), and the schema says whether null is allowed.
 */
function missingKeys(have: unknown, example: unknown, path = '$'): string[] {
  if (Array.isArray(example))
    return Array.isArray(have) && have.length > 0 && example.length > 0
      ? missingKeys(have[0], example[0], `${path}[]`)
      : []
  if (example === null || typeof example !== 'object') return []
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return []
  const h = have as Json
  return Object.entries(example as Json).flatMap(([k, v]) =>
    k in h ? missingKeys(h[k], v, `${path}.${k}`) : [`${path}.${k}`],
  )
}

/** Every key path of `v`, array elements as `[]`. */
function keyPaths(v: unknown, path = '$'): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => keyPaths(x, `${path}[]`))
  if (v === null || typeof v !== 'object') return []
  return Object.entries(v).flatMap(([k, x]) => [`${path}.${k}`, ...keyPaths(x, `${path}.${k}`)])
}

/**
 * Keys of GitHub's examples the sandbox leaves out on purpose, and why. `organization` (and the
 * push repository's `organization`) GitHub adds only for an organization's repository.
 */
const EXCEPTIONS: { event: string; path: string; when?: (c: Case) => boolean; why: string }[] = [
  ...['push', 'create', 'delete', 'pull_request', 'ping'].map((event) => ({
    event,
    path: '$.organization',
    when: (c: Case) => c.owner.type === 'User',
    why: 'GitHub adds organization only for an organization-owned repository',
  })),
  {
    event: 'push',
    path: '$.repository.organization',
    when: (c: Case) => c.owner.type === 'User',
    why: 'the push repository names its organization only when it has one',
  },
  ...['commits[]', 'head_commit']
    .flatMap((k) => [`$.${k}.author.username`, `$.${k}.committer.username`])
    .map((path) => ({
      event: 'push',
      path,
      when: (c: Case) => c.name.includes('without a public email'),
      why: 'GitHub names the account only when the commit email maps to one',
    })),
  ...['installation', 'installation_repositories'].map((event) => ({
    event,
    path: '$.installation.permissions.*',
    why:
      'a map keyed by the permissions granted to this app (contents, metadata, pull_requests); ' +
      "the examples' apps were granted others",
  })),
  ...[
    '$.repository',
    '$.hook.url',
    '$.hook.test_url',
    '$.hook.ping_url',
    '$.hook.last_response',
  ].map((path) => ({
    event: 'ping',
    path,
    why:
      "an App's hook belongs to no repository and has no REST hook URLs (it is managed at " +
      '/app/hook/config): the examples are repository and organization hooks; real App pings ' +
      '(shared/fixtures/webhooks/github/ping.json, octokit/webhooks#3) carry none of these',
  })),
]

const allowed = (c: Case, path: string) =>
  EXCEPTIONS.some(
    (e) =>
      e.event === c.event &&
      (e.path.endsWith('.*') ? path.startsWith(e.path.slice(0, -1)) : e.path === path) &&
      (!e.when || e.when(c)),
  )

/** The examples a case is held to: its event and action; `edited` (none published) to `opened`. */
function examplesFor(c: Case): Json[] {
  const action = c.event === 'pull_request' && c.action === 'edited' ? 'opened' : c.action
  const found = examplesOf(c.event, action)
  expect(found.length, `${c.event} ${action ?? ''} has published examples`).toBeGreaterThan(0)
  return found
}

/** Every string of `v` with its path. */
function strings(v: unknown, path = '$'): [string, string][] {
  if (typeof v === 'string') return [[path, v]]
  if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, `${path}[${i}]`))
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => strings(x, `${path}.${k}`))
  return []
}
const at = (v: unknown, path: string): unknown =>
  path
    .replace(/^\$\.?/, '')
    .split(/\.|\[(\d+)\]/)
    .filter((s) => s !== undefined && s !== '')
    .reduce<unknown>((o, k) => (o == null ? undefined : (o as Json)[k]), v)

// ---- the tests -----------------------------------------------------------------------------

for (const mode of ['dotcom', 'ghes'] as const) {
  const urls = URLS[mode]
  describe(`sandbox GitHub payloads (${mode === 'dotcom' ? 'api.github.com' : 'GHES 3.19'})`, () => {
    const all = payloadCases(urls)

    it.each(all.map((c) => [c.name, c] as const))('%s validates against the schema', (_, c) => {
      expect(schemas[mode].errors(schemaName(c), c.body)).toEqual([])
    })

    it.each(all.map((c) => [c.name, c] as const))(
      '%s invents no key (each is declared by the schema or shown in an example)',
      (_, c) => {
        const shown = new Set(examplesFor(c).flatMap((ex) => keyPaths(ex)))
        const invented = schemas[mode]
          .undeclared(schemaName(c), c.body)
          .filter((p) => !shown.has(p.replace(/\[\d+\]/g, '[]')))
        expect(invented).toEqual([])
      },
    )

    it.each(all.map((c) => [c.name, c] as const))(
      "%s carries every key of GitHub's examples",
      (_, c) => {
        const missing = new Set(examplesFor(c).flatMap((ex) => missingKeys(c.body, ex)))
        expect([...missing].filter((p) => !allowed(c, p))).toEqual([])
      },
    )

    it.each(all.map((c) => [c.name, c] as const))(
      '%s puts its URLs on the sandbox where GitHub puts them on github.com',
      (_, c) => {
        const wrong: string[] = []
        for (const ex of examplesFor(c))
          for (const [path, value] of strings(ex)) {
            const ours = at(c.body, path)
            if (typeof ours !== 'string') continue
            if (value.startsWith('https://api.github.com/') && !ours.startsWith(`${urls.api}/`))
              wrong.push(`${path}: ${ours}`)
            if (
              value.startsWith('https://github.com/') &&
              (!ours.startsWith(`${urls.web}/`) || ours.startsWith(`${urls.api}/`))
            )
              wrong.push(`${path}: ${ours}`)
          }
        expect(wrong).toEqual([])
        const hosts = strings(c.body)
          .map(([, s]) => s)
          .filter((s) => /^https?:\/\//.test(s) && !s.startsWith('http://127.0.0.1:3000/'))
        for (const s of hosts)
          expect(s.startsWith(urls.web) || s.startsWith(urls.api), s).toBe(true)
      },
    )

    it('keeps GitHub’s URL shapes for the repository, its clone URL and the pull request', () => {
      const byName = (n: string) =>
        all.find((c) => c.name === n)!.body as Json & Record<string, Json>
      const pull = byName('org pull_request opened')
      expect(pull['repository']).toMatchObject({
        url: `${urls.api}/repos/acme/app`,
        html_url: `${urls.web}/acme/app`,
        clone_url: `${urls.web}/acme/app.git`,
        git_url: `git://${new URL(urls.web).host}/acme/app.git`,
        owner: {
          url: `${urls.api}/users/acme`,
          html_url: `${urls.web}/acme`,
          type: 'Organization',
        },
      })
      expect(pull['pull_request']).toMatchObject({
        url: `${urls.api}/repos/acme/app/pulls/7`,
        html_url: `${urls.web}/acme/app/pull/7`,
        diff_url: `${urls.web}/acme/app/pull/7.diff`,
        head: { label: 'acme:feature', ref: 'feature', sha: sha('a') },
      })
      expect(pull['installation']).toEqual({ id: 501, node_id: expect.any(String) })
      expect(pull['organization']).toMatchObject({ login: 'acme', url: `${urls.api}/orgs/acme` })
      const push = byName('org push')
      // The push payload's repository.url is the web page, its created_at Unix seconds.
      expect(push['repository']).toMatchObject({
        url: `${urls.web}/acme/app`,
        master_branch: 'main',
      })
      expect((push['repository'] as Json)['created_at']).toBe(
        Date.parse('2026-11-01T09:00:00Z') / 1000,
      )
      expect(push['compare']).toBe(
        `${urls.web}/acme/app/compare/${'9'.repeat(12)}...${'2'.repeat(12)}`,
      )
      expect((push['head_commit'] as Json)['url']).toBe(`${urls.web}/acme/app/commit/${c2.id}`)
      const inst = byName('org installation created')['installation'] as Json
      expect(inst).toMatchObject({
        access_tokens_url: `${urls.api}/app/installations/501/access_tokens`,
        repositories_url: `${urls.api}/installation/repositories`,
        html_url: `${urls.web}/organizations/acme/settings/installations/501`,
        target_type: 'Organization',
      })
      expect(byName('user installation created')['installation']).toMatchObject({
        html_url: `${urls.web}/settings/installations/502`,
      })
      expect(byName('ping')['hook']).toMatchObject({ type: 'App', app_id: 77 })
    })

    it('builds the same payloads from the same data, and leaves the data as it was', () => {
      const snapshot = JSON.stringify([orgRepo, c1, c2])
      expect(payloadCases(urls)).toEqual(all)
      expect(JSON.stringify([orgRepo, c1, c2])).toBe(snapshot)
    })

    it('the comparisons fail on a payload that lacks a key or invents one', () => {
      const c = all.find((x) => x.name === 'org pull_request opened')!
      const pull = c.body['pull_request'] as Json
      const { merged_by: _, ...rest } = pull
      const lacking = { ...c, body: { ...c.body, pull_request: rest } }
      expect(examplesFor(c).flatMap((ex) => missingKeys(lacking.body, ex))).toContain(
        '$.pull_request.merged_by',
      )
      expect(schemas[mode].errors(schemaName(c), lacking.body)).not.toEqual([])
      const inventing = {
        ...c.body,
        pull_request: { ...pull, head: { ...(pull['head'] as Json), invented: 1 } },
      }
      expect(schemas[mode].undeclared(schemaName(c), inventing)).toContain(
        '$.pull_request.head.invented',
      )
    })
  })
}

// ---- the consumer --------------------------------------------------------------------------

const SECRET = 'the app webhook secret'
let deliveries = 0
function deliver(event: string, body: unknown) {
  const raw = Buffer.from(JSON.stringify(body))
  const headers = deliveryHeaders({
    event,
    deliveryId: `5b0e7c3a-0000-4000-8000-${String(++deliveries).padStart(12, '0')}`,
    body: raw,
    secret: SECRET,
    hookId: 4242,
    appId: 77,
  })
  return parseGitHubWebhook({ headers, body: raw }, SECRET)
}

describe('parseGitHubWebhook reads the sandbox payloads', () => {
  const all = payloadCases(URLS.ghes)
  const body = (name: string) => all.find((c) => c.name === name)!
  const parse = (name: string) => {
    const c = body(name)
    return deliver(c.event, c.body)
  }

  it('signs as GitHub does: the parser refuses a delivery whose body changed', () => {
    const c = body('org push')
    const raw = Buffer.from(JSON.stringify(c.body))
    const headers = deliveryHeaders({
      event: 'push',
      deliveryId: 'd',
      body: raw,
      secret: SECRET,
      hookId: 1,
      appId: 77,
    })
    expect(headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/)
    expect(() =>
      parseGitHubWebhook({ headers, body: Buffer.concat([raw, Buffer.from(' ')]) }, SECRET),
    ).toThrow(/does not match/)
  })

  it('a branch push: commits newest first, the changed files of its commits', () => {
    const e = parse('org push') as PushEvent
    expect(e).toMatchObject({
      kind: 'push',
      repository: { fullName: 'acme/app', id: '3001' },
      installationId: '501',
    })
    expect(e.changes).toEqual([
      {
        kind: 'branch',
        name: 'main',
        before: sha('9'),
        after: c2.id,
        created: false,
        deleted: false,
        forced: false,
        commits: [
          { id: c2.id, message: c2.message },
          { id: c1.id, message: c1.message },
        ],
      },
    ])
    expect(new Set(e.changedFiles)).toEqual(new Set(['src/new.ts', 'README.md', 'old.txt']))
  })

  it('a new branch, a deleted branch, a forced push', () => {
    const created = parse('org push creating a branch') as PushEvent
    expect(created.changes[0]).toMatchObject({ kind: 'branch', name: 'feature', created: true })
    expect(created.changes[0]!.before).toBeUndefined()
    expect(created.changedFiles).toBeUndefined()
    const deleted = parse('user push deleting a branch') as PushEvent
    expect(deleted.repository.fullName).toBe('alice/notes')
    expect(deleted.changes[0]).toMatchObject({
      kind: 'branch',
      name: 'feature',
      deleted: true,
      created: false,
      before: c2.id,
      commits: [],
    })
    expect(deleted.changes[0]!.after).toBeUndefined()
    const forced = parse('org forced push') as PushEvent
    expect(forced.changes[0]).toMatchObject({ forced: true, after: c2.id })
    expect(forced.changedFiles).toBeUndefined()
  })

  it('a tag pushed and deleted', () => {
    const tag = parse('org tag push') as PushEvent
    expect(tag.changes[0]).toMatchObject({ kind: 'tag', name: 'v1.0', created: true, after: c2.id })
    const gone = parse('org tag deleted') as PushEvent
    expect(gone.changes[0]).toMatchObject({ kind: 'tag', name: 'v1.0', deleted: true })
  })

  it('create and delete are verified and left to push', () => {
    for (const n of ['org create', 'org create tag', 'org delete'])
      expect(parse(n)).toMatchObject({ kind: 'ignored' })
  })

  it('pull requests: OPEN, UPDATED, CLOSED with merged', () => {
    const expected: Record<string, [string, boolean]> = {
      'org pull_request opened': ['OPEN', false],
      'org pull_request reopened': ['OPEN', false],
      'org pull_request synchronize': ['UPDATED', false],
      'org pull_request edited': ['UPDATED', false],
      'org pull_request closed merged': ['CLOSED', true],
      'org pull_request closed unmerged': ['CLOSED', false],
    }
    for (const [name, [action, merged]] of Object.entries(expected)) {
      const e = parse(name) as PullRequestEvent
      expect(e, name).toMatchObject({
        kind: 'pull_request',
        action,
        merged,
        number: 7,
        title: 'Add the feature',
        sourceBranch: 'feature',
        destinationBranch: 'main',
        sourceCommit: sha('a'),
        destinationCommit: sha('b'),
        installationId: '501',
        repository: { fullName: 'acme/app', id: '3001' },
      })
    }
  })

  it('installation changes for the connect layer', () => {
    const change = (n: string) => (parse(n) as IgnoredEvent).installation
    expect(change('org installation created')).toEqual({
      action: 'created',
      installationId: '501',
      account: 'acme',
      repositorySelection: 'selected',
      repositoriesAdded: ['acme/app'],
    })
    for (const a of ['deleted', 'suspend', 'unsuspend', 'new_permissions_accepted'])
      expect(change(`user installation ${a}`)).toMatchObject({
        action: a,
        installationId: '502',
        account: 'alice',
      })
    expect(change('user installation deleted')!.repositoriesAdded).toBeUndefined()
    expect(change('org installation_repositories added')).toEqual({
      action: 'repositories_added',
      installationId: '501',
      account: 'acme',
      repositorySelection: 'selected',
      repositoriesAdded: ['acme/app'],
    })
    expect(change('org installation_repositories removed')).toEqual({
      action: 'repositories_removed',
      installationId: '501',
      account: 'acme',
      repositorySelection: 'selected',
      repositoriesRemoved: ['acme/app'],
    })
    expect(change('github_app_authorization revoked')).toEqual({ action: 'authorization_revoked' })
    expect(parse('ping')).toMatchObject({ kind: 'ignored', reason: 'ping' })
  })
})

describe('parseGitHubWebhook reads every GitHub example of these events', () => {
  const prActions: Record<string, string> = {
    opened: 'OPEN',
    reopened: 'OPEN',
    synchronize: 'UPDATED',
    edited: 'UPDATED',
    closed: 'CLOSED',
  }
  const events = [
    'push',
    'create',
    'delete',
    'pull_request',
    'installation',
    'installation_repositories',
    'ping',
    'github_app_authorization',
  ]
  const replays = events.flatMap((event) =>
    examplesOf(event).map(
      (ex, i) => [`${event} #${i} ${(ex['action'] as string) ?? ''}`, event, ex] as const,
    ),
  )
  it.each(replays)('%s', (_, event, ex) => {
    const e = deliver(event, ex)
    if (event === 'push') {
      const p = e as PushEvent
      const ref = ex['ref'] as string
      expect(p.kind).toBe('push')
      expect(p.changes[0]!.kind).toBe(ref.startsWith('refs/tags/') ? 'tag' : 'branch')
      expect(p.changes[0]!.created).toBe(ex['created'])
      expect(p.changes[0]!.deleted).toBe(ex['deleted'])
      expect(p.changes[0]!.forced).toBe(ex['forced'])
      expect(p.changes[0]!.commits).toHaveLength((ex['commits'] as unknown[]).length)
    } else if (event === 'pull_request') {
      const action = prActions[ex['action'] as string]
      if (action) {
        const pull = ex['pull_request'] as Json
        expect(e).toMatchObject({
          kind: 'pull_request',
          action,
          number: ex['number'],
          merged: action === 'CLOSED' && pull['merged'] === true,
        })
      } else
        expect(e).toMatchObject({
          kind: 'ignored',
          reason: `pull_request ${ex['action'] as string}`,
        })
    } else if (event.startsWith('installation') || event === 'github_app_authorization') {
      const change = (e as IgnoredEvent).installation
      const prefix =
        event === 'installation_repositories'
          ? 'repositories_'
          : event === 'github_app_authorization'
            ? 'authorization_'
            : ''
      expect(change?.action).toBe(`${prefix}${ex['action'] as string}`)
      const inst = ex['installation'] as Json | undefined
      if (inst) expect(change?.installationId).toBe(String(inst['id']))
    } else expect(e.kind).toBe('ignored')
  })
})
