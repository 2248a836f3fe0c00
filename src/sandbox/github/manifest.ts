/**
 * @module sandbox/github/manifest
 * The GitHub App manifest flow's web side: `GET|POST /settings/apps/new` (an app of the signed-in
 * user) and `/organizations/{org}/settings/apps/new` (an app of an organization they
 * administer) take a `manifest` (JSON) and `state`; a signed-in user confirms; the app is made
 * (its key pair generated, a webhook secret when it has a webhook) and the browser goes to the
 * manifest's `redirect_url` with `code` and `state`. The code is converted, once and within an
 * hour, by `POST /app-manifests/{code}/conversions` (apps-api.ts).
 */
import { randomBytes } from 'node:crypto'
import { escapeHtml } from '../core/consent.js'
import { HttpError, redirect, sendHtml } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { createApp, type AppInput } from './apps.js'
import type { Gh } from './context.js'
import { carried, hidden, page, pageRequest, signInPage } from './session.js'

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)

/** The app a manifest describes, owned by `owner`. @throws 422 for a bad manifest */
export function manifestInput(gh: Gh, m: Record<string, unknown>, owner: string): AppInput {
  const name = str(m['name'])
  const url = str(m['url'])
  if (!name) throw new HttpError(422, 'The manifest needs a name')
  if (!url) throw new HttpError(422, 'The manifest needs a url (the app homepage)')
  const hook = m['hook_attributes']
  const hookUrl =
    hook && typeof hook === 'object' ? str((hook as Record<string, unknown>)['url']) : undefined
  const hookActive =
    hook && typeof hook === 'object' ? (hook as Record<string, unknown>)['active'] !== false : false
  const callbacks = m['callback_urls']
  if (callbacks !== undefined && !Array.isArray(callbacks))
    throw new HttpError(422, 'callback_urls must be an array')
  const perms = m['default_permissions']
  if (perms !== undefined && (typeof perms !== 'object' || perms === null || Array.isArray(perms)))
    throw new HttpError(422, 'default_permissions must be an object')
  const events = m['default_events']
  if (events !== undefined && !Array.isArray(events))
    throw new HttpError(422, 'default_events must be an array')
  const input: AppInput = {
    name,
    owner,
    url,
    description: str(m['description']) ?? '',
    public: m['public'] === true,
    callbackUrls: ((callbacks as unknown[] | undefined) ?? []).map(String),
    setupUrl: str(m['setup_url']) ?? null,
    setupOnUpdate: m['setup_on_update'] === true,
    requestOAuthOnInstall: m['request_oauth_on_install'] === true,
    permissions: (perms as Record<string, unknown> | undefined) ?? { metadata: 'read' },
    events: (events as unknown[] | undefined) ?? [],
  }
  if (hookUrl) {
    input.webhookUrl = hookUrl
    input.webhookActive = hookActive
    input.webhookSecret = randomBytes(20).toString('hex')
  }
  return input
}

function parseManifest(text: string | null): Record<string, unknown> | undefined {
  if (!text) return undefined
  try {
    const v = JSON.parse(text) as unknown
    return v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** `/settings/apps/new` (org undefined) or `/organizations/{org}/settings/apps/new`. */
export async function manifestPage(gh: Gh, r: SandboxRequest, org?: string): Promise<void> {
  if (r.method !== 'GET' && r.method !== 'POST')
    throw new HttpError(405, 'Method not allowed', { Allow: 'GET, POST' })
  const p = await pageRequest(gh, r.req, r.url, r.method)
  const action = r.url.pathname
  if (!p.user)
    return sendHtml(r.res, p.problem ? 401 : 200, signInPage(action, carried(p.q), p.problem))
  const owner = org ?? p.user
  if (org && !gh.state.org(org))
    return sendHtml(r.res, 404, page('Not found', '<p>No such organization.</p>'), p.headers)
  if (org && !gh.state.administers(p.user, org))
    return sendHtml(
      r.res,
      403,
      page(
        'Forbidden',
        `<p>You must be an owner of ${escapeHtml(org)} to register an app for it.</p>`,
      ),
      p.headers,
    )
  const manifest = parseManifest(p.q.get('manifest'))
  if (!manifest)
    return sendHtml(
      r.res,
      422,
      page('Invalid manifest', '<p>The manifest is not a JSON object.</p>'),
      p.headers,
    )
  let input: AppInput
  try {
    input = manifestInput(gh, manifest, owner)
  } catch (e) {
    return sendHtml(
      r.res,
      422,
      page('Invalid manifest', `<p>${escapeHtml((e as Error).message)}</p>`),
      p.headers,
    )
  }
  const redirectUrl = str(manifest['redirect_url'])
  if (redirectUrl !== undefined && !/^https?:\/\//.test(redirectUrl))
    return sendHtml(
      r.res,
      422,
      page('Invalid manifest', '<p>redirect_url must be an http(s) URL.</p>'),
      p.headers,
    )
  if (!p.confirmed || p.q.get('confirm') !== '1') {
    const fields: Record<string, string> = {
      manifest: p.q.get('manifest') ?? '',
      authenticity_token: p.csrf,
    }
    const state = p.q.get('state')
    if (state !== null) fields['state'] = state
    const perms = Object.entries(input.permissions ?? {})
      .map(([k, v]) => `<li>${escapeHtml(k)}: ${escapeHtml(String(v))}</li>`)
      .join('')
    return sendHtml(
      r.res,
      200,
      page(
        `Create GitHub App for ${owner}`,
        `<p>Signed in as <strong>${escapeHtml(p.user)}</strong>.</p>
<p>App name: <strong id="app-name">${escapeHtml(input.name)}</strong></p>
<p>Webhook: ${escapeHtml(input.webhookUrl ?? 'none')}</p><ul>${perms}</ul>
<form method="post" action="${escapeHtml(action)}">${hidden(fields)}
<button type="submit" name="confirm" value="1">Create GitHub App for ${escapeHtml(owner)}</button></form>`,
      ),
      p.headers,
    )
  }
  let made
  try {
    made = createApp(gh, input)
  } catch (e) {
    const status = e instanceof HttpError ? e.status : 422
    return sendHtml(
      r.res,
      status,
      page('Could not create the app', `<p>${escapeHtml((e as Error).message)}</p>`),
      p.headers,
    )
  }
  const code = randomBytes(20).toString('hex')
  gh.manifestCodes.set(code, {
    appId: made.app.id,
    pem: made.pem ?? '',
    expiresAt: gh.now() + 3600_000,
  })
  if (!redirectUrl)
    return sendHtml(
      r.res,
      201,
      page('App created', `<p>Code: <code id="code">${code}</code></p>`),
      p.headers,
    )
  const back = new URL(redirectUrl)
  back.searchParams.set('code', code)
  const state = p.q.get('state')
  if (state !== null) back.searchParams.set('state', state)
  return redirect(r.res, back.toString(), p.headers)
}
