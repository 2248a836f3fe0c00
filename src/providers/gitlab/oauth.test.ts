/**
 * OAuth with PKCE derived from the state, against a loopback token endpoint that checks the
 * verifier against the challenge the authorization URL carried, as GitLab does, and rotates
 * refresh tokens.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProviderAuthFailed, ProviderRequestFailed } from '../errors.js'
import { GitLabProvider } from './gitlab-provider.js'
import { pkceChallenge, pkceVerifier } from './oauth.js'

const APP = { clientId: 'app-id', clientSecret: 'app-secret', callbackUrl: 'https://j.example/cb' }

describe('PKCE', () => {
  it('computes S256 as base64url(SHA-256(verifier)), checked with WebCrypto', async () => {
    const verifier = 'dBjftJeZ4CVP-mJ0kjg4ZwpE-kV8QbvvRb2Yp_sEhJI'
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
    expect(pkceChallenge(verifier)).toBe(Buffer.from(digest).toString('base64url'))
    expect(pkceChallenge(verifier)).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('derives a 43-character verifier from the state and the client secret, nothing stored', () => {
    const v = pkceVerifier('app-secret', 'state-1')
    expect(v).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(pkceVerifier('app-secret', 'state-1')).toBe(v)
    expect(pkceVerifier('app-secret', 'state-2')).not.toBe(v)
    expect(pkceVerifier('other-secret', 'state-1')).not.toBe(v)
  })

  it('sends the S256 challenge, the scope and the callback on the consent URL', () => {
    const p = new GitLabProvider({ app: APP })
    const u = p.authorizationUrl('state-1')
    expect(`${u.origin}${u.pathname}`).toBe('https://gitlab.com/oauth/authorize')
    expect(Object.fromEntries(u.searchParams)).toEqual({
      client_id: 'app-id',
      redirect_uri: 'https://j.example/cb',
      response_type: 'code',
      state: 'state-1',
      scope: 'api',
      code_challenge: pkceChallenge(pkceVerifier('app-secret', 'state-1')),
      code_challenge_method: 'S256',
    })
    expect(() => new GitLabProvider({}).authorizationUrl('s')).toThrow(ProviderRequestFailed)
  })
})

describe('token endpoint', () => {
  let server: Server
  let web: string
  const challenges = new Map<string, string>()
  const refresh = new Map<string, number>()
  let issued = 0
  const forms: Record<string, string>[] = []

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()))
        forms.push(form)
        const answer = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
        if (req.url !== '/oauth/token' || req.method !== 'POST') return answer(404, {})
        if (form['client_id'] !== 'app-id' || form['client_secret'] !== 'app-secret')
          return answer(401, { error: 'invalid_client' })
        const grant = () => {
          const n = ++issued
          refresh.set(`refresh-${n}`, n)
          return answer(200, {
            access_token: `access-${n}`,
            token_type: 'Bearer',
            expires_in: 7200,
            refresh_token: `refresh-${n}`,
            scope: 'api',
            created_at: Math.floor(Date.now() / 1000),
          })
        }
        if (form['grant_type'] === 'authorization_code') {
          const challenge = challenges.get(form['code'] ?? '')
          challenges.delete(form['code'] ?? '')
          const verifier = form['code_verifier'] ?? ''
          const s256 = createHash('sha256').update(verifier).digest('base64url')
          if (!challenge || s256 !== challenge || form['redirect_uri'] !== APP.callbackUrl)
            return answer(400, {
              error: 'invalid_grant',
              error_description: 'The provided authorization grant is invalid',
            })
          return grant()
        }
        if (form['grant_type'] === 'refresh_token') {
          // Rotation: each refresh token works once.
          if (!refresh.delete(form['refresh_token'] ?? ''))
            return answer(400, { error: 'invalid_grant', error_description: 'revoked' })
          return grant()
        }
        return answer(400, { error: 'unsupported_grant_type' })
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    web = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  const provider = () =>
    new GitLabProvider({ endpoints: { webUrl: web, apiUrl: `${web}/api/v4` }, app: APP })

  /** What GitLab remembers when the user consents: the code's challenge. */
  const consent = (state: string, code: string) => {
    const u = provider().authorizationUrl(state)
    challenges.set(code, u.searchParams.get('code_challenge')!)
  }

  it('exchanges a code with the verifier derived from the callback state', async () => {
    consent('state-a', 'code-a')
    const before = Date.now()
    const c = await provider().exchangeCode('code-a', { state: 'state-a' })
    expect(c).toMatchObject({ kind: 'oauth', accessToken: `access-${issued}` })
    expect(c.refreshToken).toBe(`refresh-${issued}`)
    expect(c.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 7_200_000)
    expect(c.expiresAt).toBeLessThanOrEqual(Date.now() + 7_200_000)
  })

  it('fails with another state (another verifier), or none', async () => {
    consent('state-b', 'code-b')
    const err = await provider()
      .exchangeCode('code-b', { state: 'state-x' })
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      )
    expect(err).toBeInstanceOf(ProviderAuthFailed)
    expect(err.message).toMatch(/invalid_grant/)
    expect(err.message).not.toContain('code-b')
    await expect(provider().exchangeCode('code-b')).rejects.toBeInstanceOf(ProviderRequestFailed)
  })

  it('refreshes into a new access and refresh token; the old refresh token is then refused', async () => {
    consent('state-c', 'code-c')
    const first = await provider().exchangeCode('code-c', { state: 'state-c' })
    first.reach = { repository: 'tools/api' }
    const next = await provider().refreshCredentials(first)
    expect(next.accessToken).not.toBe(first.accessToken)
    expect(next.refreshToken).not.toBe(first.refreshToken)
    expect(next.reach).toEqual({ repository: 'tools/api' })
    expect(forms.at(-1)).toMatchObject({
      grant_type: 'refresh_token',
      redirect_uri: APP.callbackUrl,
    })
    const err = await provider()
      .refreshCredentials(first)
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      )
    expect(err).toBeInstanceOf(ProviderAuthFailed)
    expect(err.message).toMatch(/invalid_grant/)
    expect(err.message).not.toContain(first.refreshToken!)
    await expect(
      provider().refreshCredentials({ kind: 'access-token', accessToken: 't' }),
    ).rejects.toBeInstanceOf(ProviderAuthFailed)
  })
})
