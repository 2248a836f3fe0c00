/**
 * @module providers/gitlab/oauth
 * GitLab's OAuth 2.0 authorization-code flow (shared/spec/gitlab/oauth2.md) for a confidential
 * application that also sends PKCE (S256). Nothing extra is stored for PKCE: the verifier is
 * derived from the handshake's `state` with the client secret,
 * `base64url(HMAC-SHA256(clientSecret, "junction-pkce\n" + state))` (43 characters, within RFC
 * 7636's 43–128), so the callback, which brings the same state back, derives it again. Access
 * tokens last two hours; refresh tokens rotate (each refresh answers a new one and the old one
 * stops working), and a refresh GitLab answers `invalid_grant` is ProviderAuthFailed.
 */
import { createHash, createHmac } from 'node:crypto'
import { ProviderAuthFailed, ProviderRequestFailed } from '../errors.js'
import type { ProviderCredentials } from '../provider.js'
import type { GitLabClient } from './client.js'

/**
 * The scopes asked for: `api` alone covers the REST API (webhooks included) and Git over HTTPS
 * (GitLab grants `api` the abilities of `read_repository` and `write_repository`).
 */
export const OAUTH_SCOPES = 'api'

/** The PKCE verifier of a handshake, derived from its state (see the module comment). */
export function pkceVerifier(clientSecret: string, state: string): string {
  return createHmac('sha256', clientSecret).update(`junction-pkce\n${state}`).digest('base64url')
}

/** The S256 challenge of a verifier: `base64url(sha256(verifier))`. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

export function authorizationUrl(gl: GitLabClient, state: string): URL {
  const app = gl.requireApp()
  const u = new URL(`${gl.webUrl}/oauth/authorize`)
  u.searchParams.set('client_id', app.clientId)
  u.searchParams.set('redirect_uri', app.callbackUrl)
  u.searchParams.set('response_type', 'code')
  u.searchParams.set('state', state)
  u.searchParams.set('scope', OAUTH_SCOPES)
  u.searchParams.set('code_challenge', pkceChallenge(pkceVerifier(app.clientSecret, state)))
  u.searchParams.set('code_challenge_method', 'S256')
  return u
}

interface TokenAnswer {
  access_token?: string
  refresh_token?: string
  expires_in?: number
  created_at?: number
  token_type?: string
  scope?: string
  error?: string
  error_description?: string
}

async function token(gl: GitLabClient, form: Record<string, string>): Promise<ProviderCredentials> {
  const app = gl.requireApp()
  const res = await gl.http.request(`${gl.webUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({
      ...form,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      redirect_uri: app.callbackUrl,
    }),
    accept: [400, 401, 403],
  })
  const body = (await res.json().catch(() => ({}))) as TokenAnswer
  if (!res.ok || typeof body.access_token !== 'string' || body.access_token === '') {
    // Only GitLab's error code and description: never a token or the code.
    const why = [body.error, body.error_description].filter((x) => typeof x === 'string')
    throw new ProviderAuthFailed(
      `GitLab refused the token request (${res.status}${why.length ? `: ${why.join(': ').slice(0, 200)}` : ''})`,
      res.status,
    )
  }
  const c: ProviderCredentials = { kind: 'oauth', accessToken: body.access_token }
  if (body.refresh_token) c.refreshToken = body.refresh_token
  if (typeof body.expires_in === 'number') {
    const issued = typeof body.created_at === 'number' ? body.created_at * 1000 : Date.now()
    c.expiresAt = issued + body.expires_in * 1000
  }
  return c
}

/**
 * The callback's code for the user's tokens; `callback.state` (the handshake's state) gives the
 * PKCE verifier back.
 */
export async function exchangeCode(
  gl: GitLabClient,
  code: string,
  callback: Record<string, string> | undefined,
): Promise<ProviderCredentials> {
  const state = callback?.['state']
  if (!state)
    throw new ProviderRequestFailed(
      "GitLab's callback needs the handshake's state (the PKCE verifier is derived from it)",
    )
  const verifier = pkceVerifier(gl.requireApp().clientSecret, state)
  return token(gl, { grant_type: 'authorization_code', code, code_verifier: verifier })
}

/** A new access token and the new (rotated) refresh token; the reach is kept. */
export async function refreshCredentials(
  gl: GitLabClient,
  c: ProviderCredentials,
): Promise<ProviderCredentials> {
  if (c.kind !== 'oauth' || !c.refreshToken)
    throw new ProviderAuthFailed('This GitLab credential cannot be refreshed')
  const next = await token(gl, { grant_type: 'refresh_token', refresh_token: c.refreshToken })
  // GitLab always answers a new one; should an instance not, the old one is all there is.
  next.refreshToken ??= c.refreshToken
  if (c.reach) next.reach = c.reach
  return next
}
