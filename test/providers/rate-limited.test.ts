/**
 * The adapters' HTTP client and Bitbucket's 429 (issue 12 item 9), against the sandbox: a
 * Retry-After longer than the client sleeps is handed back at once (no request before it), a
 * poll's listing is never retried in line, and the sandbox's own limit (no Retry-After) surfaces
 * as ProviderRateLimited without one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ProviderRateLimited } from '../../src/providers/errors.js'
import type { ProviderCredentials } from '../../src/providers/provider.js'
import {
  sandboxProvider,
  seedWorld,
  startSandbox,
  type Sandbox,
  type World,
} from '../helpers/bitbucket.js'

describe('429 answers', () => {
  let sb: Sandbox
  let world: World
  let c: ProviderCredentials
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    c = { kind: 'access-token', accessToken: world.acmeToken }
  })
  afterAll(() => sb.stop())
  beforeEach(() => sb.admin('rate-limits', undefined, 'DELETE'))

  const requests = async () =>
    (await sb.admin<{ recent: { path: string; status: number }[] }>('rate-limits')).recent

  it('hands a long Retry-After back at once instead of asking early', async () => {
    await sb.admin('failures', { count: 1, status: 429, retryAfter: 120 })
    const err = await sandboxProvider(sb)
      .getRepository(c, 'acme/app')
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProviderRateLimited)
    expect((err as ProviderRateLimited).retryAfterMs).toBe(120_000)
    expect((err as ProviderRateLimited).status).toBe(429)
    expect((await requests()).map((r) => r.status)).toEqual([429])
  })

  it("does not retry a poll's listing, and reports Bitbucket's own 429 without Retry-After", async () => {
    await sb.admin('rate-limits', { repositories: 1 }, 'PUT')
    try {
      const provider = sandboxProvider(sb)
      const first = await provider.branchHeads(c, 'acme/app', ['main', 'nope'])
      expect([...first.heads.keys()]).toEqual(['main'])
      expect(first.limitPerHour).toBe(1)
      expect(first.nearLimit).toBe(true)
      const err = await provider.branchHeads(c, 'acme/app', ['main']).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ProviderRateLimited)
      expect((err as ProviderRateLimited).retryAfterMs).toBeUndefined()
      expect((await requests()).map((r) => r.status)).toEqual([200, 429])
    } finally {
      await sb.admin('rate-limits', { repositories: 1000 }, 'PUT')
    }
  })
})
