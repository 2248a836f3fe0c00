/**
 * A minimal browser for the handshake tests: follows redirects by hand, keeps cookies per host,
 * reads HTML forms and submits them. It drives the real pages; nothing is stubbed.
 */
export interface Form {
  action: string
  method: string
  fields: Map<string, string>
  /** Radio and submit choices: name → values offered. */
  options: Map<string, string[]>
}

export interface Page {
  url: string
  status: number
  html: string
  forms: Form[]
}

const decode = (s: string) =>
  s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&')

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)
  return m ? decode(m[1]!) : undefined
}

export function parseForms(html: string, base: string): Form[] {
  const forms: Form[] = []
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const fields = new Map<string, string>()
    const options = new Map<string, string[]>()
    for (const t of m[2]!.matchAll(/<(input|button)\b[^>]*>/g)) {
      const tag = t[0]
      const name = attr(tag, 'name')
      if (!name) continue
      const type = attr(tag, 'type') ?? (t[1] === 'button' ? 'submit' : 'text')
      const value = attr(tag, 'value') ?? ''
      if (type === 'radio' || type === 'submit')
        options.set(name, [...(options.get(name) ?? []), value])
      else fields.set(name, value)
    }
    forms.push({
      action: new URL(attr(`<f ${m[1]}>`, 'action') ?? base, base).toString(),
      method: (attr(`<f ${m[1]}>`, 'method') ?? 'get').toUpperCase(),
      fields,
      options,
    })
  }
  return forms
}

export class Browser {
  readonly cookies = new Map<string, Map<string, string>>()
  /** Every URL visited, in order (redirects included). */
  readonly visited: string[] = []

  #cookieHeader(url: URL): string {
    return [...(this.cookies.get(url.host) ?? new Map<string, string>()).entries()]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ')
  }

  #store(url: URL, res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair!.indexOf('=')
      const jar = this.cookies.get(url.host) ?? new Map<string, string>()
      const value = pair!.slice(i + 1)
      if (/Max-Age=0/i.test(c)) jar.delete(pair!.slice(0, i))
      else jar.set(pair!.slice(0, i), value)
      this.cookies.set(url.host, jar)
    }
  }

  async request(
    url: string,
    init: { method?: string; body?: URLSearchParams } = {},
  ): Promise<Page> {
    let current = new URL(url)
    let method = init.method ?? 'GET'
    let body: URLSearchParams | undefined = init.body
    for (let hops = 0; hops < 10; hops++) {
      this.visited.push(current.toString())
      const headers: Record<string, string> = {}
      const cookie = this.#cookieHeader(current)
      if (cookie) headers['cookie'] = cookie
      if (body) headers['content-type'] = 'application/x-www-form-urlencoded'
      const res = await fetch(current, {
        method,
        headers,
        ...(body ? { body } : {}),
        redirect: 'manual',
      })
      this.#store(current, res)
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel()
        current = new URL(res.headers.get('location')!, current)
        method = 'GET'
        body = undefined
        continue
      }
      const html = await res.text()
      return {
        url: current.toString(),
        status: res.status,
        html,
        forms: parseForms(html, current.toString()),
      }
    }
    throw new Error('too many redirects')
  }

  /** Submits `form` with `values` overriding its fields (a radio choice or button included). */
  submit(form: Form, values: Record<string, string>): Promise<Page> {
    const body = new URLSearchParams()
    for (const [k, v] of form.fields) body.set(k, v)
    for (const [k, v] of Object.entries(values)) body.set(k, v)
    return this.request(form.action, { method: form.method, body })
  }
}
