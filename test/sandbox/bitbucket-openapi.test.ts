/**
 * The sandbox Bitbucket is only useful if it answers like Bitbucket: every REST answer the adapter
 * relies on is validated against Bitbucket's published OpenAPI description (shared/spec), and the
 * webhook payloads it sends are compared, key by key, with the real samples in shared/fixtures.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  oauthCredentials,
  seedWorld,
  startSandbox,
  type Sandbox,
  type World,
  sandboxProvider,
} from '../helpers/bitbucket.js'

const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared')
const doc = JSON.parse(
  readFileSync(join(SHARED, 'spec', 'bitbucket-cloud', 'swagger.v3.json'), 'utf8'),
) as {
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }
    >
  >
  components: unknown
}

const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false })
;(addFormats as unknown as (a: Ajv) => void)(ajv)
ajv.addSchema({ $id: 'bitbucket', components: doc.components })

/** Validates `body` against the schema the document declares for the path, method and status. */
function expectValid(template: string, method: string, status: number, body: unknown): void {
  const ref =
    doc.paths[template]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema
      ?.$ref
  expect(ref, `${method} ${template} ${status} is described`).toBeDefined()
  const validate = ajv.getSchema(`bitbucket${ref!}`)!
  const ok = validate(body)
  expect(
    ok ? [] : validate.errors!.slice(0, 5),
    `${method.toUpperCase()} ${template} → ${status}`,
  ).toEqual([])
}

describe('sandbox Bitbucket answers match the OpenAPI description', () => {
  let sb: Sandbox
  let world: World
  let userToken: string
  const calls: string[] = []
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    const provider = sandboxProvider(sb)
    userToken = (await oauthCredentials(sb, provider, world.alice)).accessToken
  })
  afterAll(async () => {
    await sb?.stop()
  })

  async function check(
    template: string,
    path: string,
    o: { method?: string; token?: string; body?: unknown; status?: number } = {},
  ) {
    const method = o.method ?? 'get'
    const res = await fetch(`${sb.apiUrl}${path}`, {
      method: method.toUpperCase(),
      headers: {
        authorization: `Bearer ${o.token ?? userToken}`,
        ...(o.body ? { 'content-type': 'application/json' } : {}),
      },
      ...(o.body ? { body: JSON.stringify(o.body) } : {}),
    })
    const body = (await res.json()) as Record<string, unknown>
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(
      o.status ?? (method === 'post' ? 201 : 200),
    )
    expectValid(template, method, res.status, body)
    calls.push(`${method.toUpperCase()} ${template} ${res.status}`)
    return body
  }

  it('validates accounts, workspaces and repositories', async () => {
    await check('/user', '/user')
    await check('/user/workspaces', '/user/workspaces')
    await check('/workspaces/{workspace}', '/workspaces/acme')
    await check('/repositories/{workspace}', '/repositories/acme')
    await check('/repositories/{workspace}', '/repositories/acme', { token: world.acmeToken })
    await check('/repositories/{workspace}/{repo_slug}', '/repositories/acme/app')
  })

  it('validates branches, commits and diffstats', async () => {
    await check(
      '/repositories/{workspace}/{repo_slug}/refs/branches',
      '/repositories/acme/app/refs/branches',
    )
    await check(
      '/repositories/{workspace}/{repo_slug}/refs/branches/{name}',
      '/repositories/acme/app/refs/branches/main',
    )
    await check(
      '/repositories/{workspace}/{repo_slug}/commit/{commit}',
      `/repositories/acme/app/commit/${world.commits.second}`,
    )
    await check(
      '/repositories/{workspace}/{repo_slug}/diffstat/{spec}',
      `/repositories/acme/app/diffstat/${world.commits.second}`,
    )
    await check(
      '/repositories/{workspace}/{repo_slug}/diffstat/{spec}',
      `/repositories/acme/app/diffstat/${world.commits.second}..${world.commits.first}`,
    )
  })

  it('validates webhook subscriptions and pull requests', async () => {
    const hook = await check(
      '/repositories/{workspace}/{repo_slug}/hooks',
      '/repositories/acme/app/hooks',
      {
        method: 'post',
        body: {
          description: 'x',
          url: 'http://127.0.0.1:9/hook',
          active: true,
          secret: 's',
          events: ['repo:push'],
        },
      },
    )
    expect(hook['secret_set']).toBe(true)
    expect(hook).not.toHaveProperty('secret')
    await check('/repositories/{workspace}/{repo_slug}/hooks', '/repositories/acme/app/hooks')
    await check(
      '/repositories/{workspace}/{repo_slug}/hooks/{uid}',
      `/repositories/acme/app/hooks/${encodeURIComponent(String(hook['uuid']))}`,
    )
    await sb.admin('repositories/acme/app/commits', { branch: 'topic', files: { 't.txt': 't' } })
    const pr = await check(
      '/repositories/{workspace}/{repo_slug}/pullrequests',
      '/repositories/acme/app/pullrequests',
      {
        method: 'post',
        body: {
          title: 'Topic',
          source: { branch: { name: 'topic' } },
          destination: { branch: { name: 'main' } },
        },
      },
    )
    await check(
      '/repositories/{workspace}/{repo_slug}/pullrequests',
      '/repositories/acme/app/pullrequests',
    )
    await check(
      '/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}',
      `/repositories/acme/app/pullrequests/${String(pr['id'])}`,
    )
  })

  it('validates error answers', async () => {
    await check('/repositories/{workspace}/{repo_slug}', '/repositories/acme/nope', { status: 404 })
    await check('/repositories/{workspace}/{repo_slug}', '/repositories/rival/secret', {
      token: world.acmeToken,
      status: 404,
    })
    await check('/user', '/user', { token: 'not-a-token', status: 401 })
    await check(
      '/repositories/{workspace}/{repo_slug}/commit/{commit}',
      '/repositories/acme/app/commit/0000000000',
      { status: 404 },
    )
  })

  it('covered these endpoints', () => {
    expect(calls.length).toBeGreaterThanOrEqual(20)
  })
})

/** Every key path of a JSON value, arrays collapsed to `[]`. */
function keyPaths(v: unknown, prefix = ''): Set<string> {
  const out = new Set<string>()
  const walk = (x: unknown, p: string) => {
    if (Array.isArray(x)) x.forEach((y) => walk(y, `${p}[]`))
    else if (x && typeof x === 'object')
      for (const [k, y] of Object.entries(x)) {
        out.add(`${p}.${k}`)
        walk(y, `${p}.${k}`)
      }
  }
  walk(v, prefix)
  return out
}

describe('sandbox Bitbucket webhooks look like the real ones', () => {
  let sb: Sandbox
  const received: { headers: Record<string, unknown>; body: Record<string, unknown> }[] = []
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
      })
      res.writeHead(200).end()
    })
  })
  beforeAll(async () => {
    sb = await startSandbox()
    await seedWorld(sb)
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`
    const { token } = await sb.admin<{ token: string }>('access-tokens', { workspace: 'acme' })
    await fetch(`${sb.apiUrl}/repositories/acme/app/hooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url,
        secret: 'k',
        events: ['repo:push', 'pullrequest:created', 'pullrequest:fulfilled'],
      }),
    })
  })
  afterAll(async () => {
    sink.close()
    await sb?.stop()
  })

  /** Paths of the fixture the sandbox's payload must also have (provider-only extras excepted). */
  function missing(fixture: string, payload: unknown, ignore: RegExp[]): string[] {
    const want = keyPaths(
      JSON.parse(readFileSync(join(SHARED, 'fixtures', 'webhooks', 'bitbucket', fixture), 'utf8')),
    )
    const have = keyPaths(payload)
    return [...want].filter((p) => !have.has(p) && !ignore.some((r) => r.test(p))).sort()
  }

  it('sends repo:push with the sample payload shape and Bitbucket headers', async () => {
    await sb.admin('repositories/acme/app/commits', {
      branch: 'main',
      author: 'alice',
      files: { 'a.txt': 'a' },
    })
    await sb.settled()
    const d = received.find((r) => r.headers['x-event-key'] === 'repo:push')!
    expect(d.headers['x-hub-signature']).toMatch(/^sha256=[0-9a-f]{64}$/)
    expect(d.headers['x-request-uuid']).toMatch(/^[0-9a-f-]{36}$/)
    expect(d.headers['x-attempt-number']).toBe('1')
    // The samples' repository.owner/website/project and user links (avatars) are not modelled.
    expect(
      missing('repo-push.json', d.body, [
        /\.owner/,
        /\.website/,
        /\.project/,
        /\.links\.avatar/,
        /\.summary/,
      ]),
    ).toEqual([])
  })

  it('sends pullrequest:created and pullrequest:fulfilled with the sample shapes', async () => {
    await sb.admin('repositories/acme/app/commits', { branch: 'feature', files: { 'f.txt': 'f' } })
    const res = await fetch(`${sb.apiUrl}/repositories/acme/app/pullrequests`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ title: 'Feature', source: { branch: { name: 'feature' } } }),
    })
    // Basic auth with a password is not an API credential here: a user's OAuth token is needed.
    expect(res.status).toBe(401)
    const provider = sandboxProvider(sb)
    const user = await oauthCredentials(sb, provider, { username: 'alice', password: 'alice-pw' })
    const created = await fetch(`${sb.apiUrl}/repositories/acme/app/pullrequests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Feature', source: { branch: { name: 'feature' } } }),
    })
    const pr = (await created.json()) as { id: number }
    const merged = await fetch(`${sb.apiUrl}/repositories/acme/app/pullrequests/${pr.id}/merge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}` },
    })
    expect(merged.status).toBe(200)
    await sb.settled()
    const ignore = [
      /\.owner/,
      /\.website/,
      /\.project/,
      /\.links\./,
      /\.participants\[\]/,
      /\.reviewers\[\]/,
      /\.closed_by/,
      /\.rendered/,
      /\.summary/,
      /\.merge_commit/,
    ]
    const c = received.find((r) => r.headers['x-event-key'] === 'pullrequest:created')!
    expect(missing('pull-request-created.json', c.body, ignore)).toEqual([])
    const f = received.find((r) => r.headers['x-event-key'] === 'pullrequest:fulfilled')!
    expect(missing('pull-request-merged.json', f.body, ignore)).toEqual([])
    expect((f.body['pullrequest'] as { state: string }).state).toBe('MERGED')
    // Merging moved main: a repo:push followed.
    expect(
      received.filter((r) => r.headers['x-event-key'] === 'repo:push').length,
    ).toBeGreaterThanOrEqual(2)
  })
})
