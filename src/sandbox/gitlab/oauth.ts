/**
 * @module sandbox/gitlab/oauth
 * GitLab's OAuth 2.0 provider (oauth2.md; Doorkeeper's answers): `/oauth/authorize` (the core's
 * consent page: redirect_uri must be the application's, scopes a subset of its scopes, PKCE
 * `S256` or `plain`), `/oauth/token` (authorization_code, single use and 10 minutes of the
 * sandbox clock, `code_verifier` required when the code has a challenge; refresh_token, which
 * rotates: the old refresh and access tokens die), `/oauth/revoke` and `/oauth/token/info`.
 * Access tokens last `accessTokenLifetimeSeconds` (7200).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { ConsentOptions } from '../core/consent.js'
import { basicAuth, bearer, readBody, safeEqual, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { iso, type Gl } from './context.js'
import type { GlApp, Scope } from './state.js'

const FIELDS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
]

const requested = (app: GlApp, scope: string | null): Scope[] | undefined => {
  const asked = (scope ?? '').split(/[\s+]+/).filter((s) => s !== '')
  if (asked.length === 0) return app.scopes
  return asked.every((s) => app.scopes.includes(s as Scope)) ? (asked as Scope[]) : undefined
}

export function consentOptions(gl: Gl): ConsentOptions {
  const app = (id: string) => gl.state.data.apps.find((a) => a.uid === id)
  return {
    service: gl.selfManaged ? 'GitLab sandbox (self-managed)' : 'GitLab sandbox',
    description: 'the scopes it asks for on your projects and groups.',
    action: '/oauth/authorize',
    fields: FIELDS,
    client: (id) => {
      const a = app(id)
      return a && { name: a.name, callbackUrl: a.redirectUri }
    },
    check(q) {
      const a = app(q.get('client_id') ?? '')!
      if (q.get('redirect_uri') !== a.redirectUri)
        return {
          title: 'An error has occurred',
          message: 'The redirect URI included is not valid.',
        }
      if (q.get('response_type') !== 'code')
        return {
          title: 'An error has occurred',
          message: 'The authorization server does not support this response type.',
        }
      if (!requested(a, q.get('scope')))
        return {
          title: 'An error has occurred',
          message: 'The requested scope is invalid, unknown, or malformed.',
        }
      const m = q.get('code_challenge_method')
      if (q.get('code_challenge') && m && m !== 'S256' && m !== 'plain')
        return {
          title: 'An error has occurred',
          message: 'The code challenge method must be plain or S256.',
        }
      return undefined
    },
    signIn: (username, password) => {
      const u = gl.state.checkPassword(username, password)
      return u && !u.bot ? u : undefined
    },
    issueCode(clientId, username, f) {
      const a = app(clientId)!
      const code = randomBytes(32).toString('hex')
      const challenge = f.get('code_challenge') || undefined
      gl.codes.set(code, {
        appId: a.id,
        username,
        redirectUri: f.get('redirect_uri') ?? '',
        scopes: requested(a, f.get('scope')) ?? a.scopes,
        ...(challenge
          ? { challenge, method: f.get('code_challenge_method') === 'S256' ? 'S256' : 'plain' }
          : {}),
        expiresAt: gl.now() + 10 * 60_000,
      })
      return code
    },
  }
}

const INVALID_GRANT = {
  error: 'invalid_grant',
  error_description:
    'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
}
const INVALID_CLIENT = {
  error: 'invalid_client',
  error_description:
    'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
}

async function formOf(r: SandboxRequest): Promise<URLSearchParams> {
  const raw = (await readBody(r.req, 64 * 1024)).toString('utf8')
  if ((r.req.headers['content-type'] ?? '').includes('json')) {
    try {
      const o = JSON.parse(raw) as Record<string, unknown>
      return new URLSearchParams(
        Object.entries(o).map(([k, v]): [string, string] => [k, String(v)]),
      )
    } catch {
      return new URLSearchParams()
    }
  }
  return new URLSearchParams(raw)
}

/** The client from the form or Basic; `needSecret` false lets a public (PKCE) client in. */
function clientOf(gl: Gl, r: SandboxRequest, f: URLSearchParams): GlApp | undefined {
  const basic = basicAuth(r.req)
  const id = basic?.user ?? f.get('client_id') ?? ''
  const secret = basic?.password ?? f.get('client_secret')
  const app = gl.state.data.apps.find((a) => a.uid === id)
  if (!app) return undefined
  if (secret === null || secret === undefined) return app.confidential ? undefined : app
  return safeEqual(app.secret, secret) ? app : undefined
}

function issue(gl: Gl, app: GlApp, username: string, scopes: Scope[]) {
  const now = gl.now()
  const lifetime = gl.state.data.settings.accessTokenLifetimeSeconds
  const base = { name: app.name, username, scopes, createdAt: iso(now), lastUsedAt: null }
  const refresh = gl.state.newOAuthToken({
    ...base,
    kind: 'refresh',
    id: gl.state.newId(),
    appId: app.id,
    revoked: false,
  })
  const access = gl.state.newOAuthToken({
    ...base,
    kind: 'oauth',
    id: gl.state.newId(),
    appId: app.id,
    grant: refresh,
    expiresAt: now + lifetime * 1000,
    revoked: false,
  })
  gl.state.stats.tokensIssued++
  gl.state.save()
  return {
    access_token: access,
    token_type: 'Bearer',
    expires_in: lifetime,
    refresh_token: refresh,
    scope: scopes.join(' '),
    created_at: Math.floor(now / 1000),
  }
}

function verifierMatches(challenge: string, method: string | undefined, verifier: string) {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return false
  const want =
    method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier
  return safeEqual(want, challenge)
}

/** `POST /oauth/token`. */
export async function tokenEndpoint(gl: Gl, r: SandboxRequest): Promise<void> {
  if (r.method !== 'POST') return sendJson(r.res, 404, { error: '404 Not Found' })
  const f = await formOf(r)
  const app = clientOf(gl, r, f)
  const grant = f.get('grant_type')
  if (grant !== 'authorization_code' && grant !== 'refresh_token')
    return sendJson(r.res, 400, {
      error: 'unsupported_grant_type',
      error_description:
        'The authorization grant type is not supported by the authorization server.',
    })
  if (!app) return sendJson(r.res, 401, INVALID_CLIENT)
  if (grant === 'authorization_code') {
    const key = f.get('code') ?? ''
    const code = gl.codes.get(key)
    gl.codes.delete(key)
    const verifier = f.get('code_verifier')
    if (
      !code ||
      code.expiresAt <= gl.now() ||
      code.appId !== app.id ||
      code.redirectUri !== (f.get('redirect_uri') ?? '') ||
      (code.challenge !== undefined &&
        (!verifier || !verifierMatches(code.challenge, code.method, verifier)))
    )
      return sendJson(r.res, 400, INVALID_GRANT)
    return sendJson(r.res, 200, issue(gl, app, code.username, code.scopes))
  }
  const delay = gl.state.data.settings.tokenDelayMs
  if (delay) await new Promise((res) => setTimeout(res, delay))
  const old = f.get('refresh_token') ?? ''
  const t = gl.state.token(old)
  if (!t || t.kind !== 'refresh' || t.revoked || t.appId !== app.id)
    return sendJson(r.res, 400, INVALID_GRANT)
  // Rotation: the old refresh token (and every access token issued with it) is revoked.
  t.revoked = true
  return sendJson(r.res, 200, issue(gl, app, t.username, t.scopes))
}

/** `POST /oauth/revoke`: revokes an access or refresh token of the client (200 `{}`). */
export async function revokeEndpoint(gl: Gl, r: SandboxRequest): Promise<void> {
  const f = await formOf(r)
  const app = clientOf(gl, r, f)
  if (!app) return sendJson(r.res, 401, INVALID_CLIENT)
  const t = gl.state.token(f.get('token') ?? '')
  if (t && t.appId === app.id) {
    t.revoked = true
    gl.state.save()
  }
  sendJson(r.res, 200, {})
}

/** `GET /oauth/token/info`. */
export function tokenInfoEndpoint(gl: Gl, r: SandboxRequest): void {
  const secret = bearer(r.req) ?? r.url.searchParams.get('access_token') ?? ''
  const t = gl.state.token(secret)
  const app = t?.appId === undefined ? undefined : gl.state.data.apps.find((a) => a.id === t.appId)
  const live =
    t?.kind === 'oauth' &&
    !t.revoked &&
    !gl.state.token(t.grant ?? '')?.revoked &&
    (t.expiresAt ?? Infinity) > gl.now()
  if (!t || !live || !app)
    return sendJson(r.res, 401, {
      error: 'invalid_token',
      error_description: 'The access token is invalid',
    })
  const expiresIn = Math.max(0, Math.floor(((t.expiresAt ?? gl.now()) - gl.now()) / 1000))
  sendJson(r.res, 200, {
    resource_owner_id: gl.state.user(t.username)?.id ?? null,
    scope: t.scopes,
    expires_in: expiresIn,
    application: { uid: app.uid },
    created_at: Math.floor(Date.parse(t.createdAt) / 1000),
    scopes: t.scopes,
    expires_in_seconds: expiresIn,
  })
}
