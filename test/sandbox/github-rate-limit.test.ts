/**
 * GitHub's rate limits in the sandbox, and Junction's adapter under them: the primary limit's
 * `x-ratelimit-*` headers, its 403 "API rate limit exceeded" at 0 remaining, the secondary limit's
 * 403/429 with `Retry-After`; the adapter waits as long as the headers say when that is within its
 * bounds (never asking again earlier) and throws ProviderRateLimited at once when it is not.
 * Waits in this file are only the ones the headers ask for (1–4 s).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ProviderRateLimited } from '../../src/providers/errors.js'
import { GitHubProvider } from '../../src/providers/github/github-provider.js'
import type { ProviderCallObservation } from '../../src/providers/http-client.js'
import type { ProviderCredentials } from '../../src/providers/provider.js'
import {
  seedGhWorld,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'

describe('sandbox GitHub rate limits and the adapter', { timeout: 90_000 }, () => {
  let sb: GhSandbox
  let world: GhWorld
  let token: string
  let c: ProviderCredentials
  let calls: { status: ProviderCallObservation['status']; at: number }[]
  const provider = (maxDelayMs?: number) =>
    new GitHubProvider({
      endpoints: { webUrl: sb.url, apiUrl: sb.apiUrl },
      app: {
        clientId: world.app.clientId,
        clientSecret: world.app.clientSecret,
        callbackUrl: 'http://127.0.0.1:9/callback',
        appId: String(world.app.id),
        privateKey: world.app.privateKey,
        slug: world.app.slug,
        webhookSecret: 'hook-secret',
      },
      http: {
        ...(maxDelayMs === undefined ? {} : { maxDelayMs }),
        observe: (o) => calls.push({ status: o.status, at: Date.now() }),
      },
    })
  beforeAll(async () => {
    sb = await startGhSandbox()
    world = await seedGhWorld(sb)
    token = (await sb.admin<{ token: string }>('users/alice/tokens', { owner: 'acme' })).token
    c = { kind: 'access-token', accessToken: token }
  })
  afterAll(async () => {
    await sb?.stop()
  })
  beforeEach(async () => {
    calls = []
    await sb.admin('rate-limit/secondary', { retryAfter: 0 })
    await sb.admin('rate-limit', { limit: 5000, windowSeconds: 3600 }, 'PUT')
  })

  const get = (path: string) =>
    fetch(`${sb.apiUrl}${path}`, { headers: { authorization: `token ${token}` } })

  it('counts every request in x-ratelimit-* headers and refuses at 0 remaining', async () => {
    const first = await get('/repos/acme/app')
    const h = (k: string) => first.headers.get(`x-ratelimit-${k}`)
    expect([h('limit'), h('remaining'), h('used'), h('resource')]).toEqual([
      '5000',
      '4999',
      '1',
      'core',
    ])
    const reset = Number(h('reset'))
    expect(reset * 1000).toBeGreaterThan(Date.now() + 3500_000)
    const second = await get('/repos/acme/lib')
    expect(second.headers.get('x-ratelimit-remaining')).toBe('4998')
    expect(second.headers.get('x-ratelimit-reset')).toBe(String(reset))
    // An error answer is counted and tells the limit too.
    const missing = await get('/repos/acme/nothing')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('x-ratelimit-used')).toBe('3')
    // GET /rate_limit is not counted.
    const status = (await (await get('/rate_limit')).json()) as { rate: { used: number } }
    expect(status.rate.used).toBe(3)

    await sb.admin('rate-limit', { limit: 2 }, 'PUT')
    expect((await get('/user')).status).toBe(200)
    expect((await get('/user')).status).toBe(200)
    const refused = await get('/user')
    expect(refused.status).toBe(403)
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(refused.headers.get('x-ratelimit-used')).toBe('2')
    const body = (await refused.json()) as { message: string; documentation_url: string }
    expect(body.message).toMatch(/^API rate limit exceeded for user ID alice\./)
    expect(body.documentation_url).toMatch(/^https:\/\/docs\.github\.com/)
    // Another user's tokens have their own limit.
    const bob = (await sb.admin<{ token: string }>('users/bob/tokens', { owner: 'acme' })).token
    const other = await fetch(`${sb.apiUrl}/user`, { headers: { authorization: `Bearer ${bob}` } })
    expect(other.status).toBe(200)
    expect(other.headers.get('x-ratelimit-remaining')).toBe('1')
  })

  it('the adapter waits for x-ratelimit-reset when it is near, never asking before', async () => {
    await sb.admin('rate-limit', { limit: 2, windowSeconds: 3 }, 'PUT')
    const p = provider()
    await p.getRepository(c, 'acme/app')
    await p.getRepository(c, 'acme/app')
    const third = await p.getRepository(c, 'acme/app')
    expect(third.name).toBe('app')
    expect(calls.map((x) => x.status)).toEqual([200, 200, 403, 200])
    // The retry went out after the reset the 403 named (whole seconds, so at least ~1 s later).
    expect(calls[3]!.at - calls[2]!.at).toBeGreaterThanOrEqual(900)
  })

  it('the adapter throws ProviderRateLimited at once when the reset is beyond its bounds', async () => {
    await sb.admin('rate-limit', { limit: 1 }, 'PUT')
    const p = provider()
    await p.getRepository(c, 'acme/app')
    const err = await p.getRepository(c, 'acme/app').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderRateLimited)
    expect((err as ProviderRateLimited).retryAfterMs).toBeGreaterThan(3500_000)
    expect((err as Error).message).toMatch(/API rate limit exceeded/)
    expect((err as Error).message).not.toContain(token)
    expect(calls.map((x) => x.status)).toEqual([200, 403])
  })

  for (const status of [403, 429] as const) {
    it(`a secondary limit (${status}) answers Retry-After, which the adapter waits for`, async () => {
      await sb.admin('rate-limit/secondary', { retryAfter: 1, status })
      const raw = await get('/repos/acme/app')
      expect(raw.status).toBe(status)
      expect(raw.headers.get('retry-after')).toBe('1')
      expect(((await raw.json()) as { message: string }).message).toMatch(/secondary rate limit/)
      await sb.admin('rate-limit/secondary', { retryAfter: 1, status })
      const repo = await provider().getRepository(c, 'acme/app')
      expect(repo.name).toBe('app')
      expect(calls.map((x) => x.status)).toEqual([status, 200])
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950)
    })
  }

  it('a secondary limit longer than the adapter waits is thrown at once', async () => {
    await sb.admin('rate-limit/secondary', { retryAfter: 30 })
    const err = await provider(5_000)
      .getRepository(c, 'acme/app')
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderRateLimited)
    expect((err as ProviderRateLimited).retryAfterMs).toBe(30_000)
    expect(calls.map((x) => x.status)).toEqual([403])
  })

  it('refuses bad settings', async () => {
    await expect(sb.admin('rate-limit', { limit: 0 }, 'PUT')).rejects.toThrow(/422/)
    await expect(sb.admin('rate-limit/secondary', { retryAfter: 1, status: 500 })).rejects.toThrow(
      /422/,
    )
  })
})
