/**
 * @module sandbox/github/install
 * The app's web pages for users: the install page (`/apps/{slug}/installations/new`, GHES
 * `/github-apps/{slug}/…`): a signed-in user picks an account (themselves, or an organization they
 * administer) and all or selected repositories; the installation is made or changed and the
 * browser goes to the app's setup URL with `installation_id`, `setup_action` and `state` — or,
 * when the app requests user authorization on install, to its callback URL with a `code` too.
 * And the user authorization (`/login/oauth/authorize`, `POST /login/oauth/access_token`):
 * `ghu_` tokens (8 h) with `ghr_` refresh tokens, refusals answered 200 with `error`, as GitHub.
 */
import { escapeHtml } from '../core/consent.js'
import { HttpError, readBody, redirect, safeEqual, sendHtml, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { install } from './apps.js'
import type { Gh } from './context.js'
import { carried, hidden, page, pageRequest, signInPage } from './session.js'
import type { GhApp } from './state.js'

const USER_TOKEN_S = 8 * 3600
const REFRESH_S = 184 * 24 * 3600

function issueCode(gh: Gh, app: GhApp, username: string, redirectUri: string): string {
  return gh.state.newCode({ consumer: String(app.id), username, extra: { redirectUri } })
}

export async function installPage(gh: Gh, r: SandboxRequest, slug: string): Promise<void> {
  const app = gh.state.app(slug)
  if (!app || app.slug !== slug)
    return sendHtml(r.res, 404, page('Not found', '<p>No such app.</p>'))
  const p = await pageRequest(gh, r.req, r.url, r.method)
  const action = r.url.pathname
  if (!p.user)
    return sendHtml(r.res, p.problem ? 401 : 200, signInPage(action, carried(p.q), p.problem))
  const user = p.user
  const accounts = [
    user,
    ...gh.state.data.orgs.filter((o) => o.admins.includes(user)).map((o) => o.login),
  ]
  const target = p.q.get('target') ?? p.q.get('target_login')
  if (!p.confirmed || !target) {
    const state = p.q.get('state')
    const base: Record<string, string> = { authenticity_token: p.csrf }
    if (state !== null) base['state'] = state
    const choices = accounts
      .map((a) => {
        const repos = gh.state.data.repositories.filter((x) => x.owner === a)
        const existing = gh.state.installationOn(app.id, a)
        const boxes = repos
          .map(
            (x) =>
              `<label><input type="checkbox" name="repository_ids" value="${x.id}"${existing?.repositoryIds.includes(x.id) ? ' checked' : ''}> ${escapeHtml(x.name)}</label>`,
          )
          .join('')
        return `<form method="post" action="${escapeHtml(action)}" data-account="${escapeHtml(a)}"><fieldset><legend>${escapeHtml(a)}${existing ? ' (installed)' : ''}</legend>${hidden({ ...base, target: a })}
<label><input type="radio" name="repository_selection" value="all" checked> All repositories</label>
<label><input type="radio" name="repository_selection" value="selected"> Only select repositories</label>${boxes}
<button type="submit" name="install" value="1">${existing ? 'Save' : 'Install'} on ${escapeHtml(a)}</button></fieldset></form>`
      })
      .join('')
    return sendHtml(
      r.res,
      200,
      page(
        `Install ${app.name}`,
        `<p>Signed in as <strong>${escapeHtml(user)}</strong>. Where do you want to install ${escapeHtml(app.name)}?</p>${choices}`,
      ),
      p.headers,
    )
  }
  if (!accounts.some((a) => a.toLowerCase() === target.toLowerCase()))
    return sendHtml(
      r.res,
      403,
      page('Forbidden', '<p>You cannot install apps on that account.</p>'),
      p.headers,
    )
  const selected = p.q.get('repository_selection') === 'selected'
  const ids = selected ? [...new Set(p.q.getAll('repository_ids'))] : []
  if (selected && ids.length === 0)
    return sendHtml(
      r.res,
      422,
      page('Nothing selected', '<p>Select at least one repository.</p>'),
      p.headers,
    )
  let done
  try {
    done = install(gh, app, target, selected ? ids.map(Number) : null, user)
  } catch (e) {
    const status = e instanceof HttpError ? e.status : 422
    return sendHtml(
      r.res,
      status,
      page('Could not install', `<p>${escapeHtml((e as Error).message)}</p>`),
      p.headers,
    )
  }
  const state = p.q.get('state')
  const set = (u: URL) => {
    u.searchParams.set('installation_id', String(done.installation.id))
    u.searchParams.set('setup_action', done.action)
    if (state !== null) u.searchParams.set('state', state)
    return u
  }
  if (app.requestOAuthOnInstall && app.callbackUrls[0]) {
    const back = set(new URL(app.callbackUrls[0]))
    back.searchParams.set('code', issueCode(gh, app, user, app.callbackUrls[0]))
    return redirect(r.res, back.toString(), p.headers)
  }
  if (app.setupUrl && (done.action === 'install' || app.setupOnUpdate))
    return redirect(r.res, set(new URL(app.setupUrl)).toString(), p.headers)
  return sendHtml(
    r.res,
    200,
    page('Installed', `<p id="installation-id">${done.installation.id}</p>`),
    p.headers,
  )
}

/** `/login/oauth/authorize`: the user authorizes the app; back to a callback URL with `code`. */
export async function authorizePage(gh: Gh, r: SandboxRequest): Promise<void> {
  const p = await pageRequest(gh, r.req, r.url, r.method)
  const app = gh.state.app(p.q.get('client_id') ?? '')
  if (!app || app.clientId !== p.q.get('client_id'))
    return sendHtml(r.res, 404, page('Not found', '<p>Unknown client_id.</p>'))
  const wanted = p.q.get('redirect_uri')
  const callback = wanted ? app.callbackUrls.find((c) => wanted.startsWith(c)) : app.callbackUrls[0]
  if (!callback)
    return sendHtml(
      r.res,
      400,
      page('Redirect URI mismatch', '<p>The redirect_uri is not a callback URL of this app.</p>'),
    )
  if (!p.user)
    return sendHtml(
      r.res,
      p.problem ? 401 : 200,
      signInPage(r.url.pathname, carried(p.q), p.problem),
    )
  const back = new URL(wanted ?? callback)
  const state = p.q.get('state')
  if (state !== null) back.searchParams.set('state', state)
  if (!p.confirmed) {
    const fields = { ...carried(p.q), authenticity_token: p.csrf }
    return sendHtml(
      r.res,
      200,
      page(
        `Authorize ${app.name}`,
        `<form method="post" action="/login/oauth/authorize">${hidden(fields)}
<button type="submit" name="authorize" value="1">Authorize ${escapeHtml(app.name)}</button>
<button type="submit" name="authorize" value="0">Cancel</button></form>`,
      ),
      p.headers,
    )
  }
  if (p.q.get('authorize') !== '1') {
    back.searchParams.set('error', 'access_denied')
    back.searchParams.set('error_description', 'The user has denied your application access.')
    return redirect(r.res, back.toString(), p.headers)
  }
  back.searchParams.set('code', issueCode(gh, app, p.user, wanted ?? callback))
  return redirect(r.res, back.toString(), p.headers)
}

/** `POST /login/oauth/access_token`: a code or refresh token for a user token pair. */
export async function accessTokenEndpoint(gh: Gh, r: SandboxRequest): Promise<void> {
  if (r.method !== 'POST') throw new HttpError(404, 'Not Found')
  const raw = (await readBody(r.req, 64 * 1024)).toString('utf8')
  let f: URLSearchParams
  if ((r.req.headers['content-type'] ?? '').includes('json')) {
    try {
      const o = JSON.parse(raw) as Record<string, unknown>
      f = new URLSearchParams(Object.entries(o).map(([k, v]): [string, string] => [k, String(v)]))
    } catch {
      f = new URLSearchParams()
    }
  } else f = new URLSearchParams(raw)
  const json = (r.req.headers.accept ?? '').includes('json')
  const answer = (body: Record<string, unknown>): void => {
    if (json) return sendJson(r.res, 200, body)
    const text = new URLSearchParams(
      Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString()
    r.res.writeHead(200, { 'Content-Type': 'application/x-www-form-urlencoded' }).end(text)
  }
  const app = gh.state.app(f.get('client_id') ?? '')
  if (
    !app ||
    app.clientId !== f.get('client_id') ||
    !safeEqual(app.clientSecret, f.get('client_secret') ?? '')
  )
    return answer({
      error: 'incorrect_client_credentials',
      error_description: 'The client_id and/or client_secret passed are incorrect.',
    })
  let username: string | undefined
  if (f.get('grant_type') === 'refresh_token') {
    const old = f.get('refresh_token') ?? ''
    const t = gh.state.liveToken(old, gh.now())
    if (!t || t.kind !== 'refresh' || t.appId !== app.id)
      return answer({
        error: 'bad_refresh_token',
        error_description: 'The refresh token passed is incorrect or expired.',
      })
    t.revoked = true
    username = t.username
  } else {
    const code = gh.state.takeCode(f.get('code') ?? '')
    const redirectUri = f.get('redirect_uri')
    if (
      !code ||
      code.consumer !== String(app.id) ||
      (redirectUri && redirectUri !== code.extra?.['redirectUri'])
    )
      return answer({
        error: 'bad_verification_code',
        error_description: 'The code passed is incorrect or expired.',
      })
    username = code.username
  }
  const now = gh.now()
  const refresh = gh.state.newPrefixedToken('ghr', {
    kind: 'refresh',
    appId: app.id,
    username: username!,
    expiresAt: now + REFRESH_S * 1000,
    revoked: false,
  })
  const access = gh.state.newPrefixedToken('ghu', {
    kind: 'user',
    appId: app.id,
    username: username!,
    grant: refresh,
    expiresAt: now + USER_TOKEN_S * 1000,
    revoked: false,
  })
  gh.state.save()
  return answer({
    access_token: access,
    expires_in: USER_TOKEN_S,
    refresh_token: refresh,
    refresh_token_expires_in: REFRESH_S,
    token_type: 'bearer',
    scope: '',
  })
}
