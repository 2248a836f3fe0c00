/**
 * The sandbox enforces Bitbucket Cloud's API request limits as Atlassian documents them
 * (support.atlassian.com/bitbucket-cloud/docs/api-request-limits, the scaled-rate-limits
 * announcement, the rate-limit troubleshooting article): a rolling window per credential (an
 * OAuth consumer's tokens share one, each access token has its own), anonymous requests per IP,
 * scaled limits and the X-RateLimit-* headers for access tokens only, and a plain 429 without
 * Retry-After past the limit. Also the branch-listing filter (`q`) and `fields` the poller uses.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  oauthCredentials,
  sandboxProvider,
  seedWorld,
  startSandbox,
  type Sandbox,
  type World,
} from '../helpers/bitbucket.js'

describe('the sandbox Bitbucket rate limits', () => {
  let sb: Sandbox
  let world: World
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
  })
  afterAll(() => sb.stop())
  beforeEach(async () => {
    await sb.admin('rate-limits', undefined, 'DELETE')
    await sb.admin('rate-limits', BITBUCKET, 'PUT')
  })

  const BITBUCKET = {
    enabled: true,
    windowMs: 3_600_000,
    repositories: 1000,
    webhooks: 1000,
    anonymous: 60,
    seats: {},
  }
  const get = (path: string, token?: string) =>
    fetch(`${sb.apiUrl}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {})

  it('answers 429 past the limit, per access token, with the headers Bitbucket sends', async () => {
    await sb.admin('rate-limits', { repositories: 3, windowMs: 1500 }, 'PUT')
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await get('/repositories/acme/app', world.acmeToken))
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429])
    expect(answers[0]!.headers.get('x-ratelimit-limit')).toBe('3')
    expect(answers[0]!.headers.get('x-ratelimit-resource')).toBe('api')
    expect(answers[0]!.headers.get('x-ratelimit-nearlimit')).toBe('false')
    expect(answers[2]!.headers.get('x-ratelimit-nearlimit')).toBe('true')
    const refused = answers[3]!
    expect(refused.headers.get('content-type')).toBe('text/plain')
    expect(refused.headers.get('retry-after')).toBeNull()
    expect(await refused.text()).toBe('Rate limit for this resource has been exceeded')
    // Another access token has its own allowance.
    expect((await get('/repositories/rival/secret', world.rivalToken)).status).toBe(200)
    // The window rolls: the first requests age out (wait for it, no fixed sleep).
    const deadline = Date.now() + 5000
    let again = await get('/repositories/acme/app', world.acmeToken)
    while (again.status === 429 && Date.now() < deadline) {
      await again.body?.cancel()
      await new Promise((r) => setTimeout(r, 100))
      again = await get('/repositories/acme/app', world.acmeToken)
    }
    expect(again.status).toBe(200)
  })

  it('scales access tokens with paid seats above 100, up to ten times the base', async () => {
    await sb.admin('rate-limits', { seats: { acme: 250, rival: 5000 } }, 'PUT')
    const acme = await get('/repositories/acme/app', world.acmeToken)
    expect(acme.headers.get('x-ratelimit-limit')).toBe('2500')
    const rival = await get('/repositories/rival/secret', world.rivalToken)
    expect(rival.headers.get('x-ratelimit-limit')).toBe('10000')
  })

  it('counts OAuth tokens against their consumer, without rate-limit headers', async () => {
    await sb.admin('rate-limits', { repositories: 2 }, 'PUT')
    const provider = sandboxProvider(sb)
    const alice = await oauthCredentials(sb, provider, world.alice)
    const bob = await oauthCredentials(sb, provider, world.bob)
    const first = await get('/repositories/acme/app', alice.accessToken)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-ratelimit-limit')).toBeNull()
    expect((await get('/repositories/acme/app', bob.accessToken)).status).toBe(200)
    // Two users, one consumer: the consumer's allowance is spent.
    expect((await get('/repositories/acme/app', alice.accessToken)).status).toBe(429)
    expect((await get('/repositories/acme/app', world.acmeToken)).status).toBe(200)
  })

  it('limits anonymous requests per address across the API', async () => {
    await sb.admin('rate-limits', { anonymous: 2 }, 'PUT')
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await get('/repositories/acme')).status)
    expect(statuses).toEqual([200, 200, 429])
  })

  it('filters a branch listing with q and trims it with fields', async () => {
    await sb.admin('repositories/acme/app/commits', {
      branch: 'dev',
      message: 'dev',
      files: { 'dev.txt': 'dev\n' },
    })
    const q = encodeURIComponent('name = "dev" OR name = "main" OR name = "gone"')
    const fields = encodeURIComponent('values.name,values.target.hash')
    const r = await get(
      `/repositories/acme/app/refs/branches?q=${q}&fields=${fields}`,
      world.acmeToken,
    )
    const body = (await r.json()) as { values: Record<string, unknown>[] }
    expect(body.values.map((v) => v['name']).sort()).toEqual(['dev', 'main'])
    for (const v of body.values) {
      expect(Object.keys(v).sort()).toEqual(['name', 'target'])
      expect(Object.keys(v['target'] as object)).toEqual(['hash'])
    }
    const bad = await get(
      `/repositories/acme/app/refs/branches?q=${encodeURIComponent('size > 3')}`,
      world.acmeToken,
    )
    expect(bad.status).toBe(400)
  })
})
