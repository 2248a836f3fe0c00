/**
 * The sandbox GitLab's OAuth 2.0 provider and tokens as GitLab (Doorkeeper) answers them: the
 * consent page, single-use codes that expire with the sandbox clock, PKCE (S256 and plain; the
 * verifier required when a challenge was sent), refresh tokens that rotate, access tokens that
 * expire and can be revoked, personal access tokens' expiry and revocation, both token headers,
 * scopes; and the Applications API: self-managed administrators only (admin_mode scope in admin
 * mode), refused on gitlab.com.
 */
import { createHash } from 'node:crypto'
import { banner } from '../../src/cli/sandbox-gitlab.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  authorize,
  oauthTokens,
  startGlSandbox,
  tokenCall,
  type GlSandbox,
} from '../helpers/gitlab-sandbox.js'

const VERIFIER = 'ks02i3jdikdo2k0dkfodf3m39rjfjsdk0wk349rj3jrhf'
const S256 = createHash('sha256').update(VERIFIER).digest('base64url')

describe('sandbox GitLab OAuth 2.0 and tokens (self-managed)', { timeout: 90_000 }, () => {
  let sb: GlSandbox
  beforeAll(async () => {
    sb = await startGlSandbox({ selfManaged: true })
  })
  afterAll(async () => {
    await sb?.stop()
  })
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    tokenCall(sb, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: sb.world.app.redirectUri,
      client_id: sb.world.app.clientId,
      client_secret: sb.world.app.secret,
      ...extra,
    })
  const refresh = (token: string) =>
    tokenCall(sb, {
      grant_type: 'refresh_token',
      refresh_token: token,
      client_id: sb.world.app.clientId,
      client_secret: sb.world.app.secret,
    })

  it('derives the S256 challenge of the reference example', () => {
    expect(S256).toBe('2i0WFA-0AerkjQm4X4oDEhqA17QIAKNjXpagHBXmO_U')
  })

  it('shows the consent page, refuses a foreign redirect_uri, and redirects a denial', async () => {
    const q = new URLSearchParams({
      client_id: sb.world.app.clientId,
      redirect_uri: sb.world.app.redirectUri,
      response_type: 'code',
      state: 'x',
      scope: 'api',
    })
    const page = await fetch(`${sb.url}/oauth/authorize?${q}`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Junction')
    q.set('redirect_uri', 'http://evil.example/cb')
    expect((await fetch(`${sb.url}/oauth/authorize?${q}`)).status).toBe(400)
    q.set('redirect_uri', sb.world.app.redirectUri)
    q.set('scope', 'sudo')
    expect((await fetch(`${sb.url}/oauth/authorize?${q}`)).status).toBe(400)
    const deny = await fetch(`${sb.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({
        client_id: sb.world.app.clientId,
        redirect_uri: sb.world.app.redirectUri,
        state: 'x',
        decision: 'deny',
      }),
    })
    expect(new URL(deny.headers.get('location')!).searchParams.get('error')).toBe('access_denied')
  })

  it('issues tokens for a code once, with GitLab fields, and refuses a reused or foreign code', async () => {
    const code = await authorize(sb, { scope: 'api read_repository' })
    const t = await exchange(code)
    expect(t.status).toBe(200)
    expect(t.json).toMatchObject({
      token_type: 'Bearer',
      expires_in: 7200,
      scope: 'api read_repository',
    })
    expect(t.json['access_token']).toMatch(/^[0-9a-f]{64}$/)
    expect(await exchange(code)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    const other = await authorize(sb)
    expect(await exchange(other, { redirect_uri: 'http://127.0.0.1:4599/other' })).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    })
    const third = await authorize(sb)
    expect(await exchange(third, { client_secret: 'wrong' })).toMatchObject({
      status: 401,
      json: { error: 'invalid_client' },
    })
    const me = await sb.get('/user', String(t.json['access_token']), { bearer: true })
    expect(((await me.json()) as { username: string }).username).toBe('alice')
  })

  it('checks PKCE: verifier required with a challenge, wrong one invalid_grant, S256 and plain pass', async () => {
    const s256 = { challenge: { value: S256, method: 'S256' as const } }
    expect(await exchange(await authorize(sb, s256))).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    })
    expect(
      await exchange(await authorize(sb, s256), { code_verifier: `${VERIFIER}x` }),
    ).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    expect((await exchange(await authorize(sb, s256), { code_verifier: VERIFIER })).status).toBe(
      200,
    )
    const plain = { challenge: { value: VERIFIER, method: 'plain' as const } }
    expect((await exchange(await authorize(sb, plain), { code_verifier: VERIFIER })).status).toBe(
      200,
    )
  })

  it('rotates refresh tokens: the old refresh and access tokens die, the new ones work', async () => {
    const first = await oauthTokens(sb)
    const next = await refresh(first.refresh_token)
    expect(next.status).toBe(200)
    expect(next.json['refresh_token']).not.toBe(first.refresh_token)
    expect(await refresh(first.refresh_token)).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    })
    const old = await sb.get('/user', first.access_token, { bearer: true })
    expect(old.status).toBe(401)
    expect(await old.json()).toMatchObject({ error: 'invalid_token' })
    expect(
      (await sb.get('/user', String(next.json['access_token']), { bearer: true })).status,
    ).toBe(200)
  })

  it('expires codes and access tokens with the sandbox clock; a refresh still works; revoke kills', async () => {
    const code = await authorize(sb)
    const t = await oauthTokens(sb)
    await sb.admin('clock', { advanceSeconds: 7201 })
    expect(await exchange(code)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } })
    const expired = await sb.get('/user', t.access_token, { bearer: true })
    expect(expired.status).toBe(401)
    expect(await expired.json()).toMatchObject({
      error: 'invalid_token',
      error_description: expect.stringContaining('expired'),
    })
    const next = await refresh(t.refresh_token)
    expect(next.status).toBe(200)
    const access = String(next.json['access_token'])
    const info = await fetch(`${sb.url}/oauth/token/info?access_token=${access}`)
    const got = (await info.json()) as { scope: string[]; expires_in: number }
    expect(got.scope).toEqual(['api', 'read_repository'])
    expect(got.expires_in).toBeLessThanOrEqual(7200)
    const revoked = await fetch(`${sb.url}/oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({
        token: access,
        client_id: sb.world.app.clientId,
        client_secret: sb.world.app.secret,
      }),
    })
    expect(revoked.status).toBe(200)
    expect((await sb.get('/user', access, { bearer: true })).status).toBe(401)
  })

  it('takes personal access tokens in PRIVATE-TOKEN or Bearer; expired or revoked ones 401', async () => {
    const made = await sb.admin<{ token: string }>('tokens', {
      kind: 'personal',
      username: 'bob',
      scopes: ['read_api'],
      expiresInSeconds: 60,
    })
    expect(made.token).toMatch(/^glpat-/)
    expect((await sb.get('/user', made.token)).status).toBe(200)
    expect((await sb.get('/user', made.token, { bearer: true })).status).toBe(200)
    await sb.admin('clock', { advanceSeconds: 61 })
    const r = await sb.get('/user', made.token)
    expect(r.status).toBe(401)
    expect(await r.json()).toEqual({ message: '401 Unauthorized' })
    const bob = sb.token('bob-read')
    await sb.admin('tokens/revoke', { token: bob })
    expect((await sb.get('/personal_access_tokens/self', bob)).status).toBe(401)
  })

  it('refuses a token without the scope: 403 insufficient_scope', async () => {
    const t = await oauthTokens(sb, { scope: 'read_user' })
    expect((await sb.get('/user', t.access_token, { bearer: true })).status).toBe(200)
    const r = await sb.get('/projects', t.access_token, { bearer: true })
    expect(r.status).toBe(403)
    expect(await r.json()).toMatchObject({ error: 'insufficient_scope', scope: 'api read_api' })
  })

  it('lets only an administrator use the Applications API; admin mode wants the admin_mode scope', async () => {
    const body = { name: 'Other', redirect_uri: 'http://127.0.0.1:9/cb', scopes: 'api' }
    const root = sb.token('root-admin')
    const made = await sb.get('/applications', root, { method: 'POST', body })
    expect(made.status).toBe(201)
    const app = (await made.json()) as { id: number; application_id: string; secret: string }
    expect(app.secret).toMatch(/^gloas-/)
    const alice = await sb.get('/applications', sb.token('alice-api'), { method: 'POST', body })
    expect(alice.status).toBe(403)
    expect(await alice.json()).toEqual({ message: '403 Forbidden' })
    const { token: apiOnly } = await sb.admin<{ token: string }>('tokens', {
      kind: 'personal',
      username: 'root',
      scopes: ['api'],
    })
    expect((await sb.get('/applications', apiOnly)).status).toBe(200)
    await sb.admin('settings', { adminMode: true }, 'PUT')
    const r = await sb.get('/applications', apiOnly, { method: 'POST', body })
    expect(r.status).toBe(403)
    expect(await r.json()).toEqual({ message: '403 Forbidden' })
    expect((await sb.get(`/applications/${app.id}`, root, { method: 'DELETE' })).status).toBe(204)
    await sb.admin('settings', { adminMode: null }, 'PUT')
    const list = (await (await sb.get('/applications', root)).json()) as { id: number }[]
    expect(list.map((a) => a.id)).not.toContain(app.id)
  })
})

describe('sandbox GitLab in gitlab.com mode', { timeout: 60_000 }, () => {
  let sb: GlSandbox
  beforeAll(async () => {
    sb = await startGlSandbox()
  })
  afterAll(async () => {
    await sb?.stop()
  })

  it('refuses the Applications API (no instance administrator) and names gitlab.com as instance', async () => {
    const r = await sb.get('/applications', sb.token('root-admin'), {
      method: 'POST',
      body: { name: 'X', redirect_uri: 'http://127.0.0.1:9/cb', scopes: 'api' },
    })
    expect(r.status).toBe(403)
    const about = await sb.admin<{ instance: string; selfManaged: boolean }>('')
    expect(about).toMatchObject({ instance: 'https://gitlab.com', selfManaged: false })
    const t = await oauthTokens(sb)
    expect(
      (await sb.get('/projects/acme%2Fplatform%2Fapi', t.access_token, { bearer: true })).status,
    ).toBe(200)
  })

  it("prints the seeded users, tokens and the application's client id at start", () => {
    const text = banner(sb)
    expect(text).toContain('GitLab sandbox (gitlab.com mode)')
    for (const u of ['root', 'alice', 'bob', 'carol', 'dave'])
      expect(text).toMatch(new RegExp(`^  ${u} `, 'm'))
    expect(text).toContain(sb.token('alice-api'))
    expect(text).toContain(`client id ${sb.world.app.clientId}`)
    expect(text).toContain(`--gitlab-client-id ${sb.world.app.clientId}`)
  })
})
