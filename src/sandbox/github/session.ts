/**
 * @module sandbox/github/session
 * Sign-in for the sandbox GitHub's web pages (manifest flow, install page, user authorization):
 * a page that is not signed in shows a sign-in form that posts back to itself with the page's
 * own fields carried along; a right name and password start a session (an HttpOnly cookie) and
 * the page goes on. Forms that change something carry the session's authenticity token.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { escapeHtml } from '../core/consent.js'
import { readForm, safeEqual } from '../core/http.js'
import type { Gh } from './context.js'

const COOKIE = 'gh_sandbox_session'

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)} · GitHub sandbox</title>
<style>body{font:16px system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.6rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.problem{color:#b00}fieldset{margin:.8rem 0}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
}

export const hidden = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('')

function sessionId(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=')
    if (k === COOKIE && v) return v
  }
  return undefined
}

/** The signed-in user, if any. */
export function sessionUser(gh: Gh, req: IncomingMessage): string | undefined {
  const sid = sessionId(req)
  const user = sid ? gh.sessions.get(sid) : undefined
  return user && gh.state.user(user) ? user : undefined
}

/** The authenticity token of the request's session (empty without one). */
export function csrfToken(gh: Gh, req: IncomingMessage): string {
  const sid = sessionId(req)
  return sid ? createHmac('sha256', gh.codeloadKey).update(`csrf:${sid}`).digest('base64url') : ''
}

export function checkCsrf(gh: Gh, req: IncomingMessage, form: URLSearchParams): boolean {
  const want = csrfToken(gh, req)
  return want !== '' && safeEqual(want, form.get('authenticity_token') ?? '')
}

/** The sign-in form, posting to `action` with `fields` carried. */
export function signInPage(action: string, fields: Record<string, string>, problem?: string) {
  return page(
    'Sign in to GitHub sandbox',
    `${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">${hidden(fields)}
<label for="login">Username</label><input type="text" id="login" name="login" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" name="sign_in" value="1">Sign in</button></form>`,
  )
}

/**
 * Signs in from a posted sign-in form: the user and the cookie to set, or undefined when the
 * form is not a sign-in or the password is wrong.
 */
export function signIn(
  gh: Gh,
  form: URLSearchParams,
): { username: string; cookie: string; sid: string } | undefined {
  if (form.get('sign_in') !== '1') return undefined
  const u = gh.state.checkPassword(form.get('login') ?? '', form.get('password') ?? '')
  if (!u) return undefined
  const sid = randomBytes(24).toString('base64url')
  gh.sessions.set(sid, u.username)
  return { username: u.username, sid, cookie: `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax` }
}

/** The authenticity token for a session id just made (the request has no cookie yet). */
export function csrfFor(gh: Gh, sid: string): string {
  return createHmac('sha256', gh.codeloadKey).update(`csrf:${sid}`).digest('base64url')
}

export interface PageRequest {
  /** The query and the posted form together (the form wins). */
  q: URLSearchParams
  user?: string
  /** The session's authenticity token. */
  csrf: string
  /** Set-Cookie when the request signed in. */
  headers: Record<string, string>
  /** Whether the form is a confirmed, authentic change (POST, not a sign-in, token right). */
  confirmed: boolean
  /** A sign-in that failed. */
  problem?: string
}

const OWN_FIELDS = ['login', 'password', 'sign_in', 'authenticity_token']

/** Reads a web page request: query, form, session, sign-in. */
export async function pageRequest(
  gh: Gh,
  req: IncomingMessage,
  url: URL,
  method: string,
): Promise<PageRequest> {
  const q = new URLSearchParams(url.searchParams)
  let form: URLSearchParams | undefined
  if (method === 'POST') {
    form = await readForm(req)
    for (const k of new Set(form.keys())) q.delete(k)
    for (const [k, v] of form) q.append(k, v)
  }
  const out: PageRequest = { q, csrf: csrfToken(gh, req), headers: {}, confirmed: false }
  const signed = form && signIn(gh, form)
  if (signed) {
    out.user = signed.username
    out.csrf = csrfFor(gh, signed.sid)
    out.headers['Set-Cookie'] = signed.cookie
    return out
  }
  if (form?.get('sign_in') === '1') {
    out.problem = 'Incorrect username or password.'
    return out
  }
  const user = sessionUser(gh, req)
  if (user) out.user = user
  out.confirmed = !!form && !!user && checkCsrf(gh, req, form)
  return out
}

/** The page's own fields, to carry through a sign-in form. */
export function carried(q: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of q) if (!OWN_FIELDS.includes(k)) out[k] = v
  return out
}
