/**
 * The shared HTTP client with GitHub's rate-limit signals (`rateLimits: 'github'`), over a real
 * socket: a local HTTP server answers the status and headers GitHub documents for its primary and
 * secondary limits (docs.github.com, "Rate limits for the REST API", "Best practices"). Without the
 * option the client behaves as before (Bitbucket).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderAuthFailed, ProviderRateLimited } from '../errors.js'
import { HttpClient } from '../http-client.js'

interface Answer {
  status: number
  headers?: Record<string, string>
  body?: unknown
}

describe('GitHub rate limits in the HTTP client', () => {
  let server: Server
  let base: string
  let script: Answer[] = []
  let seen = 0
  beforeAll(async () => {
    server = createServer((_req, res) => {
      seen++
      const a = script.shift() ?? { status: 200, body: { ok: true } }
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers })
      res.end(JSON.stringify(a.body ?? {}))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  const github = new HttpClient('GitHub', { rateLimits: 'github', baseDelayMs: 1 })
  const run = async (client: HttpClient, answers: Answer[]) => {
    script = answers
    seen = 0
    const started = Date.now()
    const result = await client.json(`${base}/x`).catch((e: unknown) => e)
    return { result, requests: seen, ms: Date.now() - started }
  }
  const resetIn = (s: number) => String(Math.floor(Date.now() / 1000) + s)
  const primary = (status: number, seconds: number): Answer => ({
    status,
    headers: {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': resetIn(seconds),
    },
    body: { message: 'API rate limit exceeded for installation ID 1.' },
  })

  it('primary limit far off (403, remaining 0): handed back at once with the wait until reset', async () => {
    const { result, requests } = await run(github, [primary(403, 3600)])
    expect(result).toBeInstanceOf(ProviderRateLimited)
    const wait = (result as ProviderRateLimited).retryAfterMs!
    expect(wait).toBeGreaterThan(3_590_000)
    expect(wait).toBeLessThanOrEqual(3_602_000)
    expect((result as Error).message).toBe(
      'GitHub answered 403: API rate limit exceeded for installation ID 1.',
    )
    expect(requests).toBe(1)
  })

  it('primary limit resetting within the client sleep (429): waits for the reset, then asks again', async () => {
    const { result, requests, ms } = await run(github, [primary(429, 1)])
    expect(result).toEqual({ ok: true })
    expect(requests).toBe(2)
    expect(ms).toBeGreaterThanOrEqual(900)
  })

  it('secondary limit with Retry-After: not asked again before it', async () => {
    const { result, requests } = await run(github, [
      {
        status: 403,
        headers: { 'retry-after': '120' },
        body: { message: 'You have exceeded a secondary rate limit.' },
      },
    ])
    expect((result as ProviderRateLimited).retryAfterMs).toBe(120_000)
    expect(requests).toBe(1)
  })

  it('secondary limit without headers: a minute, as GitHub asks', async () => {
    const { result, requests } = await run(github, [
      {
        status: 403,
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        },
      },
    ])
    expect(result).toBeInstanceOf(ProviderRateLimited)
    expect((result as ProviderRateLimited).retryAfterMs).toBe(60_000)
    expect(requests).toBe(1)
  })

  it('a short Retry-After is slept and the request retried', async () => {
    const { result, requests } = await run(github, [
      { status: 403, headers: { 'retry-after': '0' }, body: { message: 'secondary rate limit' } },
    ])
    expect(result).toEqual({ ok: true })
    expect(requests).toBe(2)
  })

  it('a 403 that is a refusal stays a refusal', async () => {
    const { result, requests } = await run(github, [
      {
        status: 403,
        headers: { 'x-ratelimit-remaining': '4999' },
        body: { message: 'Resource not accessible by integration' },
      },
    ])
    expect(result).toBeInstanceOf(ProviderAuthFailed)
    expect((result as Error).message).toBe(
      'GitHub answered 403: Resource not accessible by integration',
    )
    expect(requests).toBe(1)
  })

  it('without the option a 403 with GitHub headers is a refusal (Bitbucket unchanged)', async () => {
    const plain = new HttpClient('Bitbucket', { baseDelayMs: 1 })
    const { result } = await run(plain, [primary(403, 3600)])
    expect(result).toBeInstanceOf(ProviderAuthFailed)
  })
})
