/**
 * The sandbox Bitbucket is only useful if it answers like Bitbucket: every REST answer the adapter
 * relies on is validated against Bitbucket's published OpenAPI description (shared/spec). (Its
 * webhook payloads are compared key by key with current ones in bitbucket-webhooks.test.ts.)
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  oauthCredentials,
  seedWorld,
  startSandbox,
  type Sandbox,
  type World,
  sandboxProvider,
} from '../helpers/bitbucket.js'
import { openApiValidator } from '../helpers/openapi.js'

const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared')
const { expectValid } = openApiValidator(
  join(SHARED, 'spec', 'bitbucket-cloud', 'swagger.v3.json'),
  'bitbucket',
)

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
