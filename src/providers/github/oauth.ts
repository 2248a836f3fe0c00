/**
 * @module providers/github/oauth
 * The GitHub App's user authorization (docs.github.com, "Generating a user access token for a
 * GitHub App"): the callback's `code`, or a refresh token, exchanged at
 * `POST {web}/login/oauth/access_token` with the app's client id and secret. User tokens
 * (`ghu_…`) expire after 8 hours when the app has expiring tokens on, with a refresh token
 * (`ghr_…`, 6 months); refreshing returns a new pair. GitHub answers refusals (a used or expired
 * code, `bad_refresh_token`) with 200 and an `error` member.
 */
import { ProviderAuthFailed } from '../errors.js'
import type { HttpClient } from '../http-client.js'
import type { OAuthApp, ProviderCredentials } from '../provider.js'

interface OAuthAnswer {
  access_token?: string
  refresh_token?: string
  expires_in?: number
  error?: string
  error_description?: string
}

/** @throws ProviderAuthFailed when GitHub refuses the code or refresh token */
export async function userToken(
  http: HttpClient,
  webUrl: string,
  app: OAuthApp,
  form: Record<string, string>,
): Promise<ProviderCredentials> {
  const res = await http.request(`${webUrl}/login/oauth/access_token`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: app.clientId,
      client_secret: app.clientSecret,
      ...form,
    }),
    accept: [400, 401],
  })
  const body = (await res.json().catch(() => ({}))) as OAuthAnswer
  if (!res.ok || !body.access_token) {
    const why = body.error_description ?? body.error ?? `status ${res.status}`
    throw new ProviderAuthFailed(
      `GitHub refused the token request: ${String(why).slice(0, 200)}`,
      res.status,
    )
  }
  const c: ProviderCredentials = { kind: 'oauth', accessToken: body.access_token }
  if (body.refresh_token) c.refreshToken = body.refresh_token
  if (typeof body.expires_in === 'number') c.expiresAt = Date.now() + body.expires_in * 1000
  return c
}
