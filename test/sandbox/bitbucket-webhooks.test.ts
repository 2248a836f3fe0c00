/**
 * The sandbox's webhook deliveries, as a real HTTP receiver gets them, compared key by key with
 * current Bitbucket Cloud payloads (test/fixtures/bitbucket, whose README names the reference and
 * the recordings they were assembled from): the same keys at every level, the same JSON types,
 * null where Bitbucket sends null and absent where it sends nothing.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  oauthCredentials,
  sandboxProvider,
  seedWorld,
  startSandbox,
  type Sandbox,
} from '../helpers/bitbucket.js'
import { shapeDiff } from '../helpers/json-shape.js'

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'bitbucket')
const sample = (name: string): unknown =>
  JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as unknown

interface Delivery {
  headers: Record<string, string | string[] | undefined>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a delivered payload, read loosely
  body: Record<string, any>
}

describe('sandbox Bitbucket webhooks, key by key against current payloads', () => {
  let sb: Sandbox
  let token: string
  const received: Delivery[] = []
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()) as Delivery['body'],
      })
      res.writeHead(200).end()
    })
  })
  /** The deliveries of `event` since the last call, in order. */
  async function take(event: string): Promise<Delivery[]> {
    await sb.settled()
    const out = received.filter((r) => r.headers['x-event-key'] === event)
    for (const d of out) received.splice(received.indexOf(d), 1)
    return out
  }
  const api = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${sb.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const commit = (branch: string, files: Record<string, string>) =>
    sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch,
      author: 'alice',
      message: `Change ${branch}\n\nWith a body.`,
      files,
    })

  beforeAll(async () => {
    sb = await startSandbox()
    const world = await seedWorld(sb)
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`
    const res = await fetch(`${sb.apiUrl}/repositories/acme/app/hooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.acmeToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url,
        secret: 'k',
        events: [
          'repo:push',
          'pullrequest:created',
          'pullrequest:updated',
          'pullrequest:fulfilled',
          'pullrequest:rejected',
        ],
      }),
    })
    expect(res.status).toBe(201)
    token = (await oauthCredentials(sb, sandboxProvider(sb), world.alice)).accessToken
  })
  afterAll(async () => {
    sink.close()
    await sb?.stop()
  })

  it('sends repo:push for a moved and a new branch, with Bitbucket headers', async () => {
    await commit('main', { 'a.txt': 'a' })
    const [moved] = await take('repo:push')
    expect(moved!.headers['x-hub-signature']).toMatch(/^sha256=[0-9a-f]{64}$/)
    expect(moved!.headers['x-request-uuid']).toMatch(/^[0-9a-f-]{36}$/)
    expect(moved!.headers['x-hook-uuid']).toMatch(/^[0-9a-f-]{36}$/)
    expect(moved!.headers['x-attempt-number']).toBe('1')
    expect(moved!.headers['user-agent']).toBe('Bitbucket-Webhooks/2.0')
    expect(shapeDiff(moved!.body, sample('repo-push.json'))).toEqual([])
    expect(moved!.body['push'].changes[0].created).toBe(false)
    await commit('feature', { 'f.txt': 'f' })
    const [created] = await take('repo:push')
    expect(shapeDiff(created!.body, sample('repo-push.json'))).toEqual([])
    expect(created!.body['push'].changes[0].old).toBeNull()
  })

  it('sends pullrequest:created, :updated (an edit, and a push to its branch), :fulfilled', async () => {
    const created = await api('/repositories/acme/app/pullrequests', 'POST', {
      title: 'Feature',
      source: { branch: { name: 'feature' } },
    })
    expect(created.status).toBe(201)
    const pr = (await created.json()) as { id: number }
    const [c] = await take('pullrequest:created')
    expect(shapeDiff(c!.body, sample('pullrequest-created.json'))).toEqual([])
    expect(c!.body['pullrequest'].merge_commit).toBeNull()
    expect(c!.body['pullrequest'].closed_by).toBeNull()
    const head = c!.body['pullrequest'].source.commit.hash as string

    // An edit of the title alone.
    expect(
      (await api(`/repositories/acme/app/pullrequests/${pr.id}`, 'PUT', { title: 'Renamed' }))
        .status,
    ).toBe(200)
    const [edited] = await take('pullrequest:updated')
    expect(shapeDiff(edited!.body, sample('pullrequest-updated.json'))).toEqual([])
    expect(edited!.body['pullrequest'].title).toBe('Renamed')
    expect(edited!.body['pullrequest'].source.commit.hash).toBe(head)
    expect(await take('repo:push')).toEqual([])

    // A push to the source branch: repo:push and pullrequest:updated at the new head.
    const next = await commit('feature', { 'g.txt': 'g' })
    const [push] = await take('repo:push')
    expect(shapeDiff(push!.body, sample('repo-push.json'))).toEqual([])
    const [pushed] = await take('pullrequest:updated')
    expect(shapeDiff(pushed!.body, sample('pullrequest-updated.json'))).toEqual([])
    expect(pushed!.body['pullrequest'].source.commit.hash).toBe(next.commit.slice(0, 12))
    // A push elsewhere updates no pull request.
    await commit('other', { 'o.txt': 'o' })
    await take('repo:push')
    expect(await take('pullrequest:updated')).toEqual([])

    const merged = await api(`/repositories/acme/app/pullrequests/${pr.id}/merge`, 'POST')
    expect(merged.status).toBe(200)
    const [f] = await take('pullrequest:fulfilled')
    expect(shapeDiff(f!.body, sample('pullrequest-fulfilled.json'))).toEqual([])
    expect(f!.body['pullrequest'].state).toBe('MERGED')
    expect(f!.body['pullrequest'].closed_by.nickname).toBe('alice')
    // Merging moved main: a repo:push whose new head is the merge commit (two parents, no patch
    // link), and no pullrequest:updated for the merged pull request.
    const [mergePush] = await take('repo:push')
    expect(shapeDiff(mergePush!.body, sample('repo-push.json'))).toEqual([])
    expect(mergePush!.body['push'].changes[0].new.target.parents).toHaveLength(2)
    expect(await take('pullrequest:updated')).toEqual([])
  })

  it('sends pullrequest:rejected with closed_by and no merge commit', async () => {
    const created = await api('/repositories/acme/app/pullrequests', 'POST', {
      title: 'Other',
      source: { branch: { name: 'other' } },
    })
    const pr = (await created.json()) as { id: number }
    await take('pullrequest:created')
    expect((await api(`/repositories/acme/app/pullrequests/${pr.id}/decline`, 'POST')).status).toBe(
      200,
    )
    const [r] = await take('pullrequest:rejected')
    expect(shapeDiff(r!.body, sample('pullrequest-rejected.json'))).toEqual([])
    expect(r!.body['pullrequest'].state).toBe('DECLINED')
    expect(r!.body['pullrequest'].merge_commit).toBeNull()
  })

  it('has a sample for each event, with its source', () => {
    for (const f of [
      'repo-push.json',
      'pullrequest-created.json',
      'pullrequest-updated.json',
      'pullrequest-fulfilled.json',
      'pullrequest-rejected.json',
    ])
      expect((sample(f) as { _source: string })._source).toContain(
        'support.atlassian.com/bitbucket-cloud/docs/event-payloads',
      )
  })
})

describe('the key-by-key comparison', () => {
  it('finds a missing key, an extra key, a type change and null versus absent', () => {
    const want = { a: { b: 1, c: null }, list: [{ x: 's' }, { y: true }] }
    expect(shapeDiff({ a: { b: 2, c: null }, list: [{ x: 't' }, { y: false }] }, want)).toEqual([])
    expect(shapeDiff({ a: { b: 2 }, list: [] }, want)).toEqual(['$.a.c: absent, the sample has it'])
    expect(shapeDiff({ a: { b: 2, c: null, d: 0 }, list: [] }, want)).toEqual([
      '$.a.d: present, the sample has no such key',
    ])
    expect(shapeDiff({ a: { b: '2', c: {} }, list: [{ z: 1 }] }, want)).toEqual([
      '$.a.b: string where the sample has number',
      '$.a.c: object where the sample has null',
      '$.list[0].x: absent, the sample has it',
      '$.list[0].z: present, the sample has no such key',
    ])
    expect(shapeDiff({ _source: 'x' }, { _source: 'y' })).toEqual([
      '$._source: present, the sample has no such key',
    ])
  })
})
