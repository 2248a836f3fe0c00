/**
 * @module sandbox/bitbucket/oauth
 * Bitbucket's OAuth 2.0 endpoints: `/site/oauth2/authorize` (the core's consent page, with
 * Bitbucket's names and `response_type=code` only) and `/site/oauth2/access_token` (consumer key
 * and secret as Basic; authorization_code and refresh_token grants; bearer access tokens that
 * expire, refresh tokens that stay).
 */
import type { ConsentOptions } from '../core/consent.js'
import { basicAuth, HttpError, readForm, safeEqual, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { DEFAULT_SCOPES, type SandboxState } from './state.js'

export function consentOptions(state: SandboxState): ConsentOptions {
  return {
    service: 'Bitbucket sandbox',
    description: 'read your workspaces, repositories and pull requests, and manage webhooks.',
    action: '/site/oauth2/authorize',
    fields: ['client_id', 'response_type', 'state'],
    client: (id) => {
      const c = state.consumer(id)
      return c && { name: c.key, callbackUrl: c.callbackUrl }
    },
    check: (q) =>
      q.get('response_type') !== 'code'
        ? { title: 'Unsupported', message: 'Only response_type=code is supported.' }
        : undefined,
    signIn: (username, password) => state.checkPassword(username, password),
    issueCode: (consumer, username) => state.newCode({ consumer, username }),
  }
}

function issueTokens(state: SandboxState, consumerKey: string, username: string, refresh?: string) {
  const lifetime = state.data.settings.accessTokenLifetimeSeconds
  const refreshToken =
    refresh ??
    state.newToken({
      kind: 'refresh',
      username,
      consumer: consumerKey,
      scopes: DEFAULT_SCOPES,
      revoked: false,
    })
  const access = state.newToken({
    kind: 'access',
    username,
    consumer: consumerKey,
    grant: refreshToken,
    scopes: DEFAULT_SCOPES,
    expiresAt: Date.now() + lifetime * 1000,
    revoked: false,
  })
  state.save()
  return {
    access_token: access,
    token_type: 'bearer',
    expires_in: lifetime,
    refresh_token: refreshToken,
    scopes: DEFAULT_SCOPES.join(' '),
    state: 'authorization_code',
  }
}

/** The token endpoint. */
export async function accessToken(state: SandboxState, { req, res }: SandboxRequest) {
  if (req.method !== 'POST') throw new HttpError(405, 'Method not allowed', { Allow: 'POST' })
  const auth = basicAuth(req)
  const c = auth && state.consumer(auth.user)
  if (!c || !auth || !safeEqual(c.secret, auth.password))
    return sendJson(res, 401, {
      error: 'invalid_client',
      error_description: 'Client credentials missing or wrong',
    })
  const form = await readForm(req)
  const grant = form.get('grant_type')
  if (grant === 'authorization_code') {
    const entry = state.takeCode(form.get('code') ?? '')
    if (!entry || entry.consumer !== c.key)
      return sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'The authorization code is invalid or expired',
      })
    state.stats.tokenGrants.authorization_code++
    return sendJson(res, 200, issueTokens(state, c.key, entry.username))
  }
  if (grant === 'refresh_token') {
    // A test knob: a slow token endpoint makes concurrent refreshes overlap.
    const delay = state.data.settings.tokenDelayMs
    if (delay) await new Promise((r) => setTimeout(r, delay))
    const refresh = form.get('refresh_token') ?? ''
    const t = state.liveToken(refresh)
    if (!t || t.kind !== 'refresh' || t.consumer !== c.key || !t.username)
      return sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: 'Invalid refresh_token',
      })
    state.stats.tokenGrants.refresh_token++
    return sendJson(res, 200, {
      ...issueTokens(state, c.key, t.username, refresh),
      state: 'refresh_token',
    })
  }
  return sendJson(res, 400, {
    error: 'unsupported_grant_type',
    error_description: `Unsupported grant type: ${grant ?? ''}`,
  })
}
