/**
 * The GitHub App manifest flow as a browser takes it, for tests: a cookie jar per origin without
 * following redirects, the console sign-in, and the trip through the sandbox GitHub's manifest
 * page (sign in, confirm) back to Junction.
 */
import { expect } from 'vitest'

/** A browser: one cookie jar per origin, redirects not followed. */
export class FormBrowser {
  readonly jar = new Map<string, Map<string, string>>()
  async go(
    url: string,
    o: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ) {
    const u = new URL(url)
    const cookies = this.jar.get(u.host) ?? new Map<string, string>()
    const headers: Record<string, string> = { ...o.headers }
    if (cookies.size) headers['cookie'] = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (o.form) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(url, {
      method: o.method ?? (o.form ? 'POST' : 'GET'),
      headers,
      ...(o.form ? { body: new URLSearchParams(o.form).toString() } : {}),
      redirect: 'manual',
    })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const [k, ...v] = pair!.split('=')
      const value = v.join('=')
      if (/max-age=0/i.test(c) || value === '') cookies.delete(k!.trim())
      else cookies.set(k!.trim(), value)
    }
    this.jar.set(u.host, cookies)
    return {
      status: res.status,
      location: res.headers.get('location') ?? '',
      text: await res.text(),
    }
  }
}

export const attr = (html: string, re: RegExp) => {
  const m = re.exec(html)
  if (!m) throw new Error(`not found: ${re} in ${html.slice(0, 400)}`)
  return m[1]!
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, n: string) => String.fromCharCode(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** Signs in to the console as `key` and answers the session's CSRF token. */
export async function consoleSignIn(
  b: FormBrowser,
  url: string,
  key: { accessKeyId: string; secretAccessKey: string },
) {
  const r = await b.go(`${url}/console/signin`, {
    form: {
      next: '/console/settings',
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
    },
  })
  expect(r.status).toBe(303)
  const page = await b.go(`${url}/console/settings`)
  return attr(page.text, /name="csrf" value="([^"]+)"/)
}

/** Follows the link's page to GitHub, signs in there, confirms; answers GitHub's redirect back. */
export async function throughGitHub(
  b: FormBrowser,
  link: string,
  sandbox: { login: string; password: string },
) {
  const start = await b.go(link)
  expect(start.status).toBe(200)
  const action = attr(start.text, /<form method="post" action="([^"]+)"/)
  const manifest = attr(start.text, /name="manifest" value="([^"]+)"/)
  const signIn = await b.go(action, {
    form: { manifest, sign_in: '1', login: sandbox.login, password: sandbox.password },
  })
  expect(signIn.status).toBe(200)
  const token = attr(signIn.text, /name="authenticity_token" value="([^"]+)"/)
  const done = await b.go(action, { form: { manifest, authenticity_token: token, confirm: '1' } })
  expect(done.status).toBe(302)
  return { start, manifest: JSON.parse(manifest) as Record<string, unknown>, back: done.location }
}
