/**
 * Real sandbox deliveries, parsed by the Bitbucket adapter, turned into trigger changes with the
 * changed files fetched from the diffstat API, and matched by V2 trigger filters.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sourceChanges, type ChangeLookups } from '../../src/pipelines/events.js'
import { TriggerMatcher } from '../../src/pipelines/match-filters.js'
import type {
  ProviderCredentials,
  ProviderEvent,
  PullRequestEvent,
  RawWebhook,
} from '../../src/providers/provider.js'
import {
  oauthCredentials,
  sandboxProvider,
  seedWorld,
  startSandbox,
  type Sandbox,
} from '../helpers/bitbucket.js'

describe('trigger changes from Bitbucket deliveries', () => {
  let sb: Sandbox
  let creds: ProviderCredentials
  const received: RawWebhook[] = []
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(204).end()
    })
  })
  const provider = () => sandboxProvider(sb)
  const lookups = (): ChangeLookups => ({
    changedFiles: async (commit, base, fromMergeBase) =>
      (await provider().changedFiles(creds, 'acme/app', commit, base, fromMergeBase)).flatMap(
        (f) => (f.oldPath ? [f.oldPath, f.path] : [f.path]),
      ),
    resolveCommit: async (c) => (await provider().getCommit(creds, 'acme/app', c)).id,
  })
  /** The next delivery of `eventKey`, parsed and verified. */
  async function next(eventKey: string): Promise<ProviderEvent> {
    await sb.settled()
    const i = received.findIndex((r) => r.headers['x-event-key'] === eventKey)
    expect(i, `a ${eventKey} delivery`).toBeGreaterThanOrEqual(0)
    const [raw] = received.splice(i, 1)
    return provider().parseWebhook(raw!, 'k') as ProviderEvent
  }

  beforeAll(async () => {
    sb = await startSandbox()
    const world = await seedWorld(sb)
    creds = await oauthCredentials(sb, provider(), world.alice)
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
    await provider().registerWebhook(creds, 'acme/app', {
      url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`,
      secret: 'k',
      description: 't',
      events: ['push', 'pull_request'],
    })
  })
  afterAll(async () => {
    sink.close()
    await sb?.stop()
  })

  it('diffs a push against the commit before it, and a new branch against its first parent', async () => {
    const one = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'main',
      files: { 'services/api/a.ts': 'a', 'README.md': 'changed' },
    })
    const push = await next('repo:push')
    const [change] = await sourceChanges(push, lookups(), true)
    expect(change!.commit).toBe(one.commit)
    expect(change!.event).toEqual({
      kind: 'push',
      ref: { type: 'branch', name: 'main' },
      changedFiles: ['README.md', 'services/api/a.ts'],
    })
    await sb.admin('repositories/acme/app/commits', {
      branch: 'feature/x',
      files: { 'web/x.css': 'x' },
    })
    const created = await sourceChanges(await next('repo:push'), lookups(), true)
    expect(created[0]!.event).toMatchObject({
      ref: { name: 'feature/x' },
      changedFiles: ['web/x.css'],
    })
    // Without file filters, no diff is fetched.
    const before = (await sb.admin<{ apiRequests: number }>('stats')).apiRequests
    await sb.admin('repositories/acme/app/commits', { branch: 'main', files: { 'b.txt': 'b' } })
    const plain = await sourceChanges(await next('repo:push'), lookups(), false)
    expect(plain[0]!.event).toEqual({ kind: 'push', ref: { type: 'branch', name: 'main' } })
    expect((await sb.admin<{ apiRequests: number }>('stats')).apiRequests).toBe(before)
  })

  it('resolves pull-request commits and diffs the source against the destination; filters decide', async () => {
    const matcher = new TriggerMatcher({
      sourceActionName: 'Source',
      pullRequest: [
        { events: ['OPEN'], branches: { includes: ['main'] }, filePaths: { includes: ['web/**'] } },
      ],
      push: [{ branches: { includes: ['main'] }, filePaths: { includes: ['services/api/**'] } }],
    })
    const res = await fetch(`${sb.apiUrl}/repositories/acme/app/pullrequests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${creds.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'CSS', source: { branch: { name: 'feature/x' } } }),
    })
    expect(res.status).toBe(201)
    const opened = await next('pullrequest:created')
    const [pr] = await sourceChanges(opened, lookups(), true)
    expect(pr!.commit).toMatch(/^[0-9a-f]{40}$/)
    expect(pr!.ref).toBe('feature/x')
    expect(pr!.event).toMatchObject({
      kind: 'pull_request',
      action: 'OPEN',
      destinationBranch: 'main',
    })
    // Only the branch's own change: main moved on since (b.txt, README.md), which a two-dot diff
    // would wrongly count.
    expect((pr!.event as { changedFiles: string[] }).changedFiles).toEqual(['web/x.css'])
    expect(matcher.match(pr!.event).matched).toBe(true)
    // A push to main touching only the README does not pass the push filter.
    await sb.admin('repositories/acme/app/commits', {
      branch: 'main',
      files: { 'README.md': 'again' },
    })
    const [p] = await sourceChanges(await next('repo:push'), lookups(), true)
    expect(matcher.match(p!.event)).toEqual({
      matched: false,
      reason:
        "push filter 1: none of the 1 changed file passes the file path filter (file 'README.md' is not included by [services/api/**])",
      needsFiles: false,
    })
  })

  it("a push to an open pull request's branch gives a push change and an UPDATED one; so does a title edit, at the same head", async () => {
    // Both triggers of one pipeline match: CodePipeline evaluates each event on its own, so the
    // push starts one execution and the pull-request update another (README, Triggers).
    const matcher = new TriggerMatcher({
      sourceActionName: 'Source',
      push: [{ branches: { includes: ['feature/**'] } }],
      pullRequest: [{ events: ['UPDATED'], branches: { includes: ['main'] } }],
    })
    const pushed = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'feature/x',
      files: { 'web/y.css': 'y' },
    })
    const [push] = await sourceChanges(await next('repo:push'), lookups(), false)
    const [update] = await sourceChanges(await next('pullrequest:updated'), lookups(), false)
    expect(push!.commit).toBe(pushed.commit)
    expect(push!.event).toEqual({ kind: 'push', ref: { type: 'branch', name: 'feature/x' } })
    expect(update!.commit).toBe(pushed.commit)
    expect(update!.ref).toBe('feature/x')
    expect(update!.event).toMatchObject({
      kind: 'pull_request',
      action: 'UPDATED',
      destinationBranch: 'main',
    })
    expect(matcher.match(push!.event).matched).toBe(true)
    expect(matcher.match(update!.event).matched).toBe(true)

    // A title edit alone: pullrequest:updated, no push, the source head unchanged; an UPDATED
    // filter matches it (CodePipeline's "updated" is Bitbucket's pullrequest:updated).
    const [pr] = (
      (await (
        await fetch(`${sb.apiUrl}/repositories/acme/app/pullrequests`, {
          headers: { authorization: `Bearer ${creds.accessToken}` },
        })
      ).json()) as { values: { id: number }[] }
    ).values
    const edit = await fetch(`${sb.apiUrl}/repositories/acme/app/pullrequests/${pr!.id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${creds.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'CSS, renamed' }),
    })
    expect(edit.status).toBe(200)
    const edited = (await next('pullrequest:updated')) as PullRequestEvent
    expect(edited.title).toBe('CSS, renamed')
    expect(received.some((r) => r.headers['x-event-key'] === 'repo:push')).toBe(false)
    const [titled] = await sourceChanges(edited, lookups(), false)
    expect(titled!.commit).toBe(pushed.commit)
    expect(matcher.match(titled!.event).matched).toBe(true)
    // A filter on OPEN alone does not start on it.
    expect(
      new TriggerMatcher({
        sourceActionName: 'Source',
        pullRequest: [{ events: ['OPEN'], branches: { includes: ['main'] } }],
      }).match(titled!.event).matched,
    ).toBe(false)
  })
})
