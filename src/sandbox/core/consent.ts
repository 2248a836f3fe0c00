/**
 * @module sandbox/core/consent
 * The OAuth 2.0 authorization endpoint of a provider's sandbox (RFC 6749 §4.1): a consent page
 * where a sandbox user signs in with name and password and grants or denies the client, then a
 * redirect to the client's registered callback with `code` and `state`, or with
 * `error=access_denied`. The provider supplies its names, the query fields it carries through the
 * form, its own checks of the query, and how it issues codes.
 */
import { HttpError, readForm, redirect, sendHtml } from './http.js'
import type { SandboxRequest } from './server.js'

export interface ConsentClient {
  /** Shown on the page as the application asking for access. */
  name: string
  callbackUrl: string
}

export interface ConsentOptions {
  /** The heading and title suffix ("Bitbucket sandbox"). */
  service: string
  /** What granting allows, after "is requesting access to your account: ". */
  description: string
  /** The authorization endpoint's path (the form posts back to it). */
  action: string
  /** Query fields carried through the form as hidden inputs (client_id first). */
  fields: string[]
  client(id: string): ConsentClient | undefined
  /** A provider's own check of the query (an error text answered 400), e.g. response_type. */
  check?(q: URLSearchParams): { title: string; message: string } | undefined
  /** The user, when the name and password are right. */
  signIn(username: string, password: string): { username: string } | undefined
  /** Issues a code for the user's grant to the client (fields: the posted form). */
  issueCode(clientId: string, username: string, fields: URLSearchParams): string
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function errorPage(title: string, message: string): string {
  return `<!doctype html><title>${title}</title><p>${message}</p>`
}

/** The consent page for the request's fields, with a problem shown when sign-in failed. */
export function consentPage(o: ConsentOptions, q: URLSearchParams, problem?: string): string {
  const clientId = o.fields[0] ?? 'client_id'
  const name = escapeHtml(o.client(q.get(clientId) ?? '')?.name ?? '')
  const hidden = o.fields
    .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q.get(k) ?? '')}">`)
    .join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Authorize ${name} – ${escapeHtml(o.service)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem}.problem{color:#b00}</style></head>
<body><h1>${escapeHtml(o.service)}</h1>
<p><strong>${name}</strong> is requesting access to your account: ${escapeHtml(o.description)}</p>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${escapeHtml(o.action)}">${hidden}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" name="decision" value="grant">Grant access</button>
<button type="submit" name="decision" value="deny" formnovalidate>Cancel</button>
</form></body></html>`
}

/** Answers the authorization endpoint: the page on GET, the decision on POST. */
export async function handleAuthorize(r: SandboxRequest, o: ConsentOptions): Promise<void> {
  const { req, res } = r
  const clientId = o.fields[0] ?? 'client_id'
  const invalid = () => sendHtml(res, 400, errorPage('Invalid client', `Invalid ${clientId}.`))
  if (r.method === 'GET') {
    const q = r.url.searchParams
    if (!o.client(q.get(clientId) ?? '')) return invalid()
    const problem = o.check?.(q)
    if (problem) return sendHtml(res, 400, errorPage(problem.title, problem.message))
    return sendHtml(res, 200, consentPage(o, q))
  }
  if (r.method !== 'POST') throw new HttpError(405, 'Method not allowed', { Allow: 'GET, POST' })
  const form = await readForm(req)
  const id = form.get(clientId) ?? ''
  const c = o.client(id)
  if (!c) return invalid()
  const back = new URL(c.callbackUrl)
  const st = form.get('state')
  if (st) back.searchParams.set('state', st)
  if (form.get('decision') === 'deny') {
    back.searchParams.set('error', 'access_denied')
    back.searchParams.set('error_description', 'The user denied access')
    return redirect(res, back.toString())
  }
  const user = o.signIn(form.get('username') ?? '', form.get('password') ?? '')
  if (!user) return sendHtml(res, 401, consentPage(o, form, 'Incorrect username or password.'))
  back.searchParams.set('code', o.issueCode(id, user.username, form))
  return redirect(res, back.toString())
}
