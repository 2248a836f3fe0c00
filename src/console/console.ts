/**
 * @module console/console
 * The web console under `/console`: sign-in with an access key, connections (list, filter, search,
 * create → handshake wizard, detail, tags, delete), hosts, and settings. Server-rendered HTML,
 * post/redirect/get after every change. Every action runs the same operations through the same
 * IAM checks as the API (`invokeAs`), as the signed-in principal: the console has no other path
 * to the store. A denial shows the evaluator's explanation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Caller, ConnectService } from '../connect/service.js'
import type { Signer } from '../connect/signed.js'
import { AwsError } from '../errors/aws-error.js'
import type { OperationName } from '../generated/operations.js'
import type { Principal } from '../iam/principal.js'
import { descriptorOf, SUPPORTED_PROVIDERS } from '../providers/registry.js'
import { invokeAs, type ApiDeps } from '../server/api.js'
import { readBody } from '../server/read-body.js'
import type { ProviderApps } from '../connect/apps.js'
import { AccessDeniedException, InvalidInputException } from '../generated/errors.js'
import { APP_JS, badge, copyable, esc, hidden, page, type Shell } from './html.js'
import { pipelineRoutes } from './pipelines.js'
import type { PipelineApiDeps } from '../pipelines/api.js'
import { ConsoleSessions, safeNext } from './sessions.js'
import type { AuthThrottle } from '../server/throttle.js'

export interface ProviderAppInfo {
  providerType: string
  label: string
  /** What the provider calls the application's id (`OAuth consumer key`). */
  idLabel: string
  clientId?: string
  secretSet: boolean
  source: 'console' | 'flags' | 'none'
  callbackUrl: string
  endpoint: string
}

export interface ConsoleDeps {
  api: ApiDeps
  connect: ConnectService
  /** The principal and secret of an access key (the SigV4 key lookup). */
  lookupKey(
    accessKeyId: string,
  ): Promise<{ secret: string; record: Principal; sessionToken?: string } | undefined>
  signer: Signer
  csrfKey: Buffer
  secure: boolean
  /** Junction's public URL (`--public-url`): a sign-in may come from its origin too. */
  publicUrl?: () => string
  sessionTtlMs: number
  apps: ProviderApps
  providerApps(): ProviderAppInfo[]
  /** The CodePipeline subset (the pipeline pages). */
  pipelines?: PipelineApiDeps
  /** Throttles failed sign-ins per source address and per access key. */
  throttle?: AuthThrottle
}

const COOKIE = 'junction_console'
const SERVICE = 'codestar-connections'
const PAGE_SIZE = 20

/**
 * The AWS API's provider types, in the console's order: those with an adapter take their label
 * from their descriptor (providers/registry.ts); the others are listed as not available yet.
 */
const PROVIDERS: { type: string; label: string }[] = [
  { type: 'Bitbucket', label: 'Bitbucket Cloud' },
  { type: 'GitHub', label: 'GitHub' },
  { type: 'GitHubEnterpriseServer', label: 'GitHub Enterprise Server' },
  { type: 'GitLab', label: 'GitLab' },
  { type: 'GitLabSelfManaged', label: 'GitLab self-managed' },
].map((p) => ({ type: p.type, label: descriptorOf(p.type)?.label ?? p.label }))
const HOST_PROVIDERS = ['GitHubEnterpriseServer', 'GitLabSelfManaged']
const label = (type: string) => PROVIDERS.find((p) => p.type === type)?.label ?? type

/**
 * Why a sign-in POST is refused as cross-site, or undefined: `Sec-Fetch-Site` other than
 * same-origin/none, an `Origin` of another host, or a body that is not url-encoded (another site
 * can send text/plain or multipart without asking).
 */
function crossSiteSignin(req: IncomingMessage, publicUrl: string | undefined): string | undefined {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return 'The sign-in form was sent from another site.'
  const origin = req.headers.origin
  if (origin !== undefined) {
    let host: string | undefined
    try {
      host = origin === 'null' ? undefined : new URL(origin).host
    } catch {
      host = undefined
    }
    let publicHost: string | undefined
    try {
      publicHost = publicUrl ? new URL(publicUrl).host : undefined
    } catch {
      publicHost = undefined
    }
    if (host === undefined || (host !== req.headers.host && host !== publicHost))
      return 'The sign-in form was sent from another site.'
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded')
    return 'The sign-in form must be sent url-encoded.'
  return undefined
}

interface Session {
  principal: Principal
  cookie: string
  csrf: string
  /** The store's key for the session (sign-out deletes it). */
  idHash: string
}

class Redirect {
  constructor(readonly location: string) {}
}

function send(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self' http: https:; base-uri 'none'",
    ...headers,
  })
  res.end(html)
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}) {
  res.writeHead(303, {
    Location: location,
    'Content-Length': 0,
    'Cache-Control': 'no-store',
    ...headers,
  })
  res.end()
}

function cookieOf(req: IncomingMessage): string {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === COOKIE) return v.join('=')
  }
  return ''
}

const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  s: Session
  u: URL
  form: URLSearchParams
  path: string
}

export class ConsoleApp {
  readonly #sessions: ConsoleSessions

  constructor(private readonly d: ConsoleDeps) {
    this.#sessions = new ConsoleSessions({
      signer: d.signer,
      store: d.api.context.store.consoleSessions,
      lookupKey: d.lookupKey,
      ttlMs: d.sessionTtlMs,
      now: d.api.context.now,
    })
    if (d.pipelines)
      Object.assign(
        this.#routes,
        pipelineRoutes(d.pipelines, {
          send,
          redirect: (res, location) => redirect(res, location),
          page: (s, title, body, flash) =>
            page(this.#shell(s as Session, title, 'pipelines', flash), body),
          flashParam: (kind, text) => this.#flashParam(kind, text),
          flashOf: (u) => this.#flashOf(u),
        }),
      )
  }

  /** `METHOD path` → the log name and the handler (GET covers HEAD). */
  readonly #routes: Record<string, { name: string; run(c: RouteContext): void | Promise<void> }> = {
    'POST /console/signout': {
      name: 'console-signout',
      run: async ({ res, s }) => {
        // Ended in the store: the old cookie, replayed, opens nothing on any node.
        await this.#sessions.end(s.idHash)
        redirect(res, '/console/signin?m=out', {
          'Set-Cookie': `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.d.secure ? '; Secure' : ''}`,
        })
      },
    },
    'GET /console': {
      name: 'console-connections',
      run: (c) => this.#connections(c.req, c.res, c.s, c.u),
    },
    'GET /console/connections/new': {
      name: 'console-create',
      run: (c) => this.#newConnection(c.res, c.s, {}),
    },
    'POST /console/connections/new': {
      name: 'console-create',
      run: (c) => this.#createConnection(c.req, c.res, c.s, c.form),
    },
    'GET /console/connection': {
      name: 'console-connection',
      run: (c) => this.#connection(c.req, c.res, c.s, c.u),
    },
    ...Object.fromEntries(
      ['tag', 'untag', 'authorize', 'delete'].map((a) => [
        `POST /console/connection/${a}`,
        {
          name: 'console-connection',
          run: (c: RouteContext) => this.#connectionAction(c.req, c.res, c.s, a, c.form),
        },
      ]),
    ),
    'GET /console/hosts': {
      name: 'console-hosts',
      run: (c) => this.#hosts(c.req, c.res, c.s, c.u),
    },
    'GET /console/hosts/new': { name: 'console-hosts', run: (c) => this.#newHost(c.res, c.s, {}) },
    'POST /console/hosts/new': {
      name: 'console-hosts',
      run: (c) => this.#createHost(c.req, c.res, c.s, c.form),
    },
    'GET /console/host': { name: 'console-host', run: (c) => this.#host(c.req, c.res, c.s, c.u) },
    ...Object.fromEntries(
      ['update', 'delete'].map((a) => [
        `POST /console/host/${a}`,
        {
          name: 'console-host',
          run: (c: RouteContext) => this.#hostAction(c.req, c.res, c.s, a, c.form),
        },
      ]),
    ),
    'GET /console/settings': {
      name: 'console-settings',
      run: (c) => this.#settings(c.res, c.s, c.u),
    },
    'POST /console/settings/app': {
      name: 'console-settings',
      run: (c) => this.#saveApp(c.res, c.s, c.form),
    },
  }

  #csrf(cookie: string): string {
    return createHmac('sha256', this.d.csrfKey).update(`console\n${cookie}`).digest('base64url')
  }

  /**
   * The signed-in session, or undefined when the cookie is missing, forged or expired, was signed
   * out, or its access key was deactivated or deleted (see `console/sessions`).
   */
  async #session(req: IncomingMessage): Promise<Session | undefined> {
    const cookie = cookieOf(req)
    if (!cookie) return undefined
    const open = await this.#sessions.resume(cookie)
    if (!open) return undefined
    return { principal: open.principal, cookie, csrf: this.#csrf(cookie), idHash: open.idHash }
  }

  #caller(s: Session, req: IncomingMessage): Caller {
    const c: Caller = { principal: s.principal, service: SERVICE }
    if (req.socket.remoteAddress) c.sourceIp = req.socket.remoteAddress
    return c
  }

  #invoke<T>(
    req: IncomingMessage,
    s: Session,
    op: OperationName,
    input: Record<string, unknown>,
  ): Promise<T> {
    return invokeAs(this.d.api, req, s.principal, SERVICE, op, input) as Promise<T>
  }

  #shell(s: Session, title: string, nav?: Shell['nav'], flash?: Shell['flash']): Shell {
    const shell: Shell = { title, user: { arn: s.principal.arn, csrf: s.csrf } }
    if (nav) shell.nav = nav
    if (flash) shell.flash = flash
    return shell
  }

  /** A one-line message carried across a redirect, signed so a link cannot put words in our mouth. */
  #flashParam(kind: 'ok' | 'bad', text: string): string {
    return `m=${encodeURIComponent(this.d.signer.sign('flash', { k: kind, t: text }, 60_000))}`
  }

  #flashOf(u: URL): Shell['flash'] {
    if (u.searchParams.get('done') === 'connected')
      return { kind: 'ok', text: 'Connected: the connection is complete.' }
    const m = u.searchParams.get('m')
    const v = m ? this.d.signer.open<{ k: 'ok' | 'bad'; t: string }>('flash', m) : undefined
    return v ? { kind: v.k, text: v.t } : undefined
  }

  /** Handles `/` and `/console…`; undefined when the path is not the console's. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<string | undefined> {
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      redirect(res, '/console')
      return 'console'
    }
    if (path !== '/console' && !path.startsWith('/console/')) return undefined
    const u = new URL(req.url ?? '/', 'http://console')
    if (path === '/console/app.js') {
      res.writeHead(200, {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'max-age=300',
      })
      res.end(APP_JS)
      return 'console'
    }
    if (path === '/console/signin') {
      await this.#signin(req, res, u)
      return 'console-signin'
    }
    const method = req.method ?? 'GET'
    const s = await this.#session(req)
    if (!s) {
      if (method === 'GET' || method === 'HEAD')
        redirect(res, `/console/signin?next=${encodeURIComponent(u.pathname + u.search)}`)
      else
        send(
          res,
          403,
          page(
            { title: 'Session expired' },
            `<h1>Your session has expired</h1><p>Sign in again to continue. Nothing was changed.</p><p><a class="button" href="/console/signin">Sign in</a></p>`,
          ),
        )
      return 'console-refused'
    }
    let form = new URLSearchParams()
    if (method === 'POST') {
      const body = await readBody(req, 256 * 1024)
      form = new URLSearchParams(body.tooLarge ? '' : body.data.toString('utf8'))
      if (!safeEqual(form.get('csrf') ?? '', s.csrf)) {
        send(
          res,
          403,
          page(
            this.#shell(s, 'Refused'),
            `<h1>Refused</h1><p class="error" role="alert">The form did not carry this session's CSRF token. Nothing was changed; go back, reload the page and try again.</p>`,
          ),
        )
        return 'console-refused'
      }
    } else if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, POST' }).end()
      return 'console'
    }
    try {
      const route = this.#routes[`${method === 'POST' ? 'POST' : 'GET'} ${path}`]
      if (!route) {
        send(
          res,
          404,
          page(
            this.#shell(s, 'Not found'),
            '<h1>Not found</h1><p><a href="/console">Back to connections</a></p>',
          ),
        )
        return 'console'
      }
      await route.run({ req, res, s, u, form, path })
      return route.name
    } catch (err) {
      if (err instanceof Redirect) {
        redirect(res, err.location)
        return 'console'
      }
      if (!(err instanceof AwsError)) throw err
      send(
        res,
        err.statusCode,
        page(
          this.#shell(s, 'Refused'),
          `<h1>${esc(err.code)}</h1><p class="error" role="alert">${esc(err.message)}</p><p><a href="/console">Back to connections</a></p>`,
        ),
      )
      return 'console-error'
    }
  }

  // ---- sign-in ---------------------------------------------------------------------------------

  async #signin(req: IncomingMessage, res: ServerResponse, u: URL) {
    // Only a same-origin path under /console (no CR/LF, backslash or `//`): never an open redirect.
    const nextOf = safeNext
    const form = (next: string, problem?: string, keyId = '') =>
      page(
        {
          title: 'Sign in',
          ...(u.searchParams.get('m') === 'out' && !problem
            ? { flash: { kind: 'ok' as const, text: 'Signed out.' } }
            : {}),
        },
        `<h1>Sign in to Junction</h1>
<div class="card"><form method="post" action="/console/signin" novalidate>
${hidden('next', next)}
<label for="accessKeyId">Access key ID</label>
<input type="text" id="accessKeyId" name="accessKeyId" value="${esc(keyId)}" autocomplete="username" required spellcheck="false"${problem ? ' aria-describedby="signin-error" aria-invalid="true"' : ''}>
<label for="secretAccessKey">Secret access key</label>
<input type="password" id="secretAccessKey" name="secretAccessKey" autocomplete="current-password" required${problem ? ' aria-describedby="signin-error" aria-invalid="true"' : ''}>
${problem ? `<p class="field-error" id="signin-error" role="alert">${esc(problem)}</p>` : ''}
<div class="actions"><button type="submit">Sign in</button></div>
</form></div>
<p class="muted">Use the account root's key (<code>&lt;data-dir&gt;/credentials</code>, written by <code>junction serve</code>) or an IAM user's access key.</p>`,
      )
    if (req.method !== 'POST') {
      send(res, 200, form(nextOf(u.searchParams.get('next'))))
      return
    }
    // Login CSRF: another site's page must not sign a visitor in (to the attacker's account, so
    // that what the visitor then connects lands there). The sign-in form is a same-origin,
    // url-encoded POST; the browser says where a POST comes from.
    const refusal = crossSiteSignin(req, this.d.publicUrl?.())
    if (refusal) {
      send(
        res,
        403,
        page(
          { title: 'Refused' },
          `<h1>Refused</h1><p class="error" role="alert">${esc(refusal)} Nothing was changed; open the console's sign-in page and sign in there.</p><p><a class="button" href="/console/signin">Sign in</a></p>`,
        ),
      )
      return
    }
    const body = await readBody(req, 16 * 1024)
    const f = new URLSearchParams(body.tooLarge ? '' : body.data.toString('utf8'))
    const keyId = (f.get('accessKeyId') ?? '').trim()
    const secret = f.get('secretAccessKey') ?? ''
    const next = nextOf(f.get('next'))
    const wellFormed = /^[A-Z0-9]{16,128}$/.test(keyId)
    const from = req.socket.remoteAddress
    // Too many failures from this address or for this key: refused before the secret is looked at.
    const wait = this.d.throttle?.signinWaitSeconds(from, wellFormed ? keyId : '') ?? 0
    if (wait > 0) {
      send(
        res,
        429,
        page(
          { title: 'Too many sign-in attempts' },
          `<h1>Too many failed sign-ins</h1><p role="alert">Sign-in is paused after too many wrong access keys or secrets. Wait ${wait} seconds, then try again.</p><p><a class="button" href="/console/signin?next=${esc(encodeURIComponent(next))}">Sign in</a></p>`,
        ),
        { 'Retry-After': String(wait) },
      )
      return
    }
    const key = wellFormed ? await this.d.lookupKey(keyId) : undefined
    if (!key || key.record.kind === 'session' || !safeEqual(key.secret, secret)) {
      this.d.throttle?.signinFailed(from, key ? keyId : undefined)
      send(
        res,
        401,
        form(
          next,
          'The access key ID or secret access key is not valid (or the key is inactive).',
          keyId,
        ),
      )
      return
    }
    const cookie = await this.#sessions.open(key.record, key.secret)
    if (!cookie) {
      send(
        res,
        401,
        form(
          next,
          'The access key ID or secret access key is not valid (or the key is inactive).',
          keyId,
        ),
      )
      return
    }
    redirect(res, next, {
      'Set-Cookie': `${COOKIE}=${cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.d.sessionTtlMs / 1000)}${this.d.secure ? '; Secure' : ''}`,
    })
  }

  // ---- connections -----------------------------------------------------------------------------

  async #connections(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    const provider = u.searchParams.get('provider') ?? ''
    const host = u.searchParams.get('host') ?? ''
    const q = (u.searchParams.get('q') ?? '').trim()
    const pageNo = Math.max(1, Number.parseInt(u.searchParams.get('page') ?? '1', 10) || 1)
    const filter: Record<string, unknown> = {}
    if (PROVIDERS.some((p) => p.type === provider)) filter['ProviderTypeFilter'] = provider
    if (host.startsWith('arn:')) filter['HostArnFilter'] = host
    type C = {
      ConnectionName: string
      ConnectionArn: string
      ProviderType: string
      ConnectionStatus: string
      OwnerAccountId: string
      HostArn?: string
    }
    const all: C[] = []
    let token: string | undefined
    for (let i = 0; i < 100; i++) {
      const r = await this.#invoke<{ Connections: C[]; NextToken?: string }>(
        req,
        s,
        'ListConnections',
        { ...filter, MaxResults: 100, ...(token ? { NextToken: token } : {}) },
      )
      all.push(...r.Connections)
      token = r.NextToken
      if (!token) break
    }
    let hosts: { HostArn: string; Name: string }[] = []
    try {
      hosts = (
        await this.#invoke<{ Hosts: { HostArn: string; Name: string }[] }>(req, s, 'ListHosts', {
          MaxResults: 100,
        })
      ).Hosts
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
    }
    const matching = q
      ? all.filter((c) => c.ConnectionName.toLowerCase().includes(q.toLowerCase()))
      : all
    const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE))
    const shown = matching.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE)
    const opt = (v: string, text: string, cur: string) =>
      `<option value="${esc(v)}"${v === cur ? ' selected' : ''}>${esc(text)}</option>`
    const filters = `<form class="filters" method="get" action="/console" role="search">
<div><label for="q">Search by name</label><input type="search" id="q" name="q" value="${esc(q)}"></div>
<div><label for="provider">Provider</label><select id="provider" name="provider">${opt('', 'All providers', provider)}${PROVIDERS.map((p) => opt(p.type, p.label, provider)).join('')}</select></div>
<div><label for="host">Host</label><select id="host" name="host">${opt('', 'Any host', host)}${hosts.map((h) => opt(h.HostArn, h.Name, host)).join('')}</select></div>
<div><button type="submit" class="secondary">Apply</button></div></form>`
    const link = (p: number) => {
      const x = new URLSearchParams(u.searchParams)
      x.set('page', String(p))
      x.delete('m')
      x.delete('done')
      return `/console?${x.toString()}`
    }
    let body: string
    if (all.length === 0 && !filter['ProviderTypeFilter'] && !filter['HostArnFilter']) {
      body = `<div class="card"><h2>No connections yet</h2><p>A <strong>connection</strong> holds the right to reach a Git provider — a Bitbucket workspace, a GitHub organization — so that pipelines can fetch source and be triggered by code changes. It starts <em>PENDING</em>; you complete it by authorizing the provider and choosing what it reaches, and it becomes <em>AVAILABLE</em>.</p><p><a class="button" href="/console/connections/new">Create a connection</a></p></div>`
    } else if (matching.length === 0) {
      body = `${filters}<p>No connection matches these filters.</p>`
    } else {
      body = `${filters}<table class="list"><caption class="muted" style="text-align:left">${matching.length} connection${matching.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">ARN</th><th scope="col">Account</th></tr></thead><tbody>
${shown
  .map(
    (c) =>
      `<tr><td data-label="Name"><a href="/console/connection?arn=${encodeURIComponent(c.ConnectionArn)}">${esc(c.ConnectionName)}</a></td><td data-label="Provider">${esc(label(c.ProviderType))}</td><td data-label="Status">${badge(c.ConnectionStatus)}</td><td data-label="ARN">${copyable(c.ConnectionArn)}</td><td data-label="Account">${esc(c.OwnerAccountId)}</td></tr>`,
  )
  .join('\n')}</tbody></table>
${pages > 1 ? `<nav class="pager" aria-label="Pages">${pageNo > 1 ? `<a href="${esc(link(pageNo - 1))}" rel="prev">Previous</a>` : ''}<span>Page ${pageNo} of ${pages}</span>${pageNo < pages ? `<a href="${esc(link(pageNo + 1))}" rel="next">Next</a>` : ''}</nav>` : ''}`
    }
    const flash = this.#flashOf(u)
    send(
      res,
      200,
      page(
        this.#shell(s, 'Connections', 'connections', flash),
        `<h1>Connections</h1><div class="actions"><a class="button" href="/console/connections/new">Create connection</a></div>${body}`,
      ),
    )
  }

  #newConnection(
    res: ServerResponse,
    s: Session,
    v: {
      provider?: string
      name?: string
      tags?: string
      errors?: Record<string, string>
      flash?: Shell['flash']
    },
    status = 200,
  ) {
    const err = (k: string) =>
      v.errors?.[k]
        ? `<p class="field-error" id="${k}-error" role="alert">${esc(v.errors[k])}</p>`
        : ''
    const invalid = (k: string) =>
      v.errors?.[k] ? ` aria-invalid="true" aria-describedby="${k}-error"` : ''
    const chosen = v.provider ?? SUPPORTED_PROVIDERS[0]
    const options = PROVIDERS.map((p) => {
      const available = SUPPORTED_PROVIDERS.includes(p.type)
      return `<label style="font-weight:400"><input type="radio" name="provider" value="${esc(p.type)}"${p.type === chosen && available ? ' checked' : ''}${available ? '' : ' disabled'}> ${esc(p.label)}${available ? '' : ' <span class="muted">(not available yet)</span>'}</label>`
    }).join('\n')
    send(
      res,
      status,
      page(
        this.#shell(s, 'Create connection', 'connections', v.flash),
        `<h1>Create a connection</h1><div class="card"><form method="post" action="/console/connections/new">${hidden('csrf', s.csrf)}
<fieldset><legend>Provider</legend>${options}${err('provider')}</fieldset>
<label for="name">Connection name</label><input type="text" id="name" name="name" value="${esc(v.name ?? '')}" maxlength="32" required${invalid('name')}>
<p class="muted">1–32 characters, unique in the account.</p>${err('name')}
<label for="tags">Tags <span class="muted">(optional, one <code>key=value</code> per line)</span></label><textarea id="tags" name="tags"${invalid('tags')}>${esc(v.tags ?? '')}</textarea>${err('tags')}
<div class="actions"><button type="submit">Create and connect</button><a href="/console">Cancel</a></div>
</form></div>`,
      ),
    )
  }

  async #createConnection(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    form: URLSearchParams,
  ) {
    const provider = form.get('provider') ?? ''
    const name = form.get('name') ?? ''
    const tagsText = form.get('tags') ?? ''
    const v = { provider, name, tags: tagsText }
    if (!SUPPORTED_PROVIDERS.includes(provider))
      return this.#newConnection(
        res,
        s,
        { ...v, errors: { provider: 'Choose a provider Junction can connect to.' } },
        400,
      )
    const tags = parseTags(tagsText)
    if (typeof tags === 'string')
      return this.#newConnection(res, s, { ...v, errors: { tags } }, 400)
    let arn: string
    try {
      arn = (
        await this.#invoke<{ ConnectionArn: string }>(req, s, 'CreateConnection', {
          ProviderType: provider,
          ConnectionName: name,
          ...(tags.length ? { Tags: tags } : {}),
        })
      ).ConnectionArn
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      const field =
        /tag/i.test(err.message) && !/TagResource/.test(err.message)
          ? 'tags'
          : err.code === 'AccessDeniedException'
            ? undefined
            : 'name'
      if (!field)
        return this.#newConnection(
          res,
          s,
          { ...v, flash: { kind: 'bad', text: err.message } },
          err.statusCode,
        )
      return this.#newConnection(res, s, { ...v, errors: { [field]: err.message } }, err.statusCode)
    }
    await this.#startHandshake(req, res, s, arn, 'Created. ')
  }

  /** Straight into the provider's consent, or back to the detail page with the reason. */
  async #startHandshake(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    arn: string,
    prefix = '',
  ) {
    const detail = `/console/connection?arn=${encodeURIComponent(arn)}`
    try {
      const r = await this.d.connect.startHandshake(this.#caller(s, req), arn, detail)
      redirect(res, r.AuthorizationUrl)
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      redirect(
        res,
        `${detail}&${this.#flashParam('bad', `${prefix}The handshake could not start: ${err.message}`)}`,
      )
    }
  }

  async #connection(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    const arn = u.searchParams.get('arn') ?? ''
    const caller = this.#caller(s, req)
    const d = await this.d.connect.describe(caller, arn)
    let tags: { Key: string; Value: string }[] | undefined
    let tagsError: string | undefined
    try {
      tags = (
        await this.#invoke<{ Tags: { Key: string; Value: string }[] }>(
          req,
          s,
          'ListTagsForResource',
          { ResourceArn: arn },
        )
      ).Tags
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      tagsError = err.message
    }
    const conn = d.connection
    const c = {
      ConnectionName: conn.name,
      ConnectionArn: conn.arn,
      ProviderType: conn.providerType,
      ConnectionStatus: conn.status,
      OwnerAccountId: conn.ownerAccountId,
      HostArn: conn.hostArn,
    }
    const reason = d.connection.statusReason
    const inst = d.installation
    const canAuthorize = c.ConnectionStatus === 'PENDING' || c.ConnectionStatus === 'ERROR'
    const action = (name: string, inner: string) =>
      `<form method="post" action="/console/connection/${name}">${hidden('csrf', s.csrf)}${hidden('arn', arn)}${inner}</form>`
    const tagRows = (tags ?? [])
      .map(
        (t) =>
          `<tr><td data-label="Key">${esc(t.Key)}</td><td data-label="Value">${esc(t.Value)}</td><td>${action('untag', `${hidden('key', t.Key)}<button type="submit" class="secondary" aria-label="Remove tag ${esc(t.Key)}">Remove</button>`)}</td></tr>`,
      )
      .join('')
    const body = `<h1>${esc(c.ConnectionName)} ${badge(c.ConnectionStatus)}</h1>
${c.ConnectionStatus === 'ERROR' ? `<p class="flash bad" role="alert">${esc(reason ?? 'The connection needs to be re-authorized.')}</p>` : ''}
${c.ConnectionStatus === 'PENDING' ? `<p class="muted">This connection is PENDING: authorize the provider and choose what it reaches to complete it.</p>` : ''}
<div class="card"><dl>
<dt>ARN</dt><dd>${copyable(c.ConnectionArn)}</dd>
<dt>Provider</dt><dd>${esc(label(c.ProviderType))}</dd>
<dt>Status</dt><dd>${badge(c.ConnectionStatus)}</dd>
<dt>Owner</dt><dd>${esc(c.OwnerAccountId)}</dd>
<dt>Installation</dt><dd>${inst ? `${esc(inst.targetName)} (<code>${esc(inst.id)}</code>)` : '<span class="muted">none yet</span>'}</dd>
<dt>Host</dt><dd>${c.HostArn ? `<a href="/console/host?arn=${encodeURIComponent(c.HostArn)}">${esc(c.HostArn)}</a>` : '<span class="muted">none</span>'}</dd>
</dl>
${canAuthorize ? `<div class="actions">${action('authorize', `<button type="submit">${c.ConnectionStatus === 'PENDING' ? 'Update pending connection' : 'Re-authorize connection'}</button>`)}</div>` : ''}
</div>
<h2>Tags</h2><div class="card">${tagsError ? `<p class="error" role="alert">${esc(tagsError)}</p>` : tags && tags.length ? `<table class="list"><thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${tagRows}</tbody></table>` : '<p class="muted">No tags.</p>'}
${action('tag', `<div class="filters"><div><label for="tag-key">Key</label><input type="text" id="tag-key" name="key" maxlength="128" required></div><div><label for="tag-value">Value</label><input type="text" id="tag-value" name="value" maxlength="256"></div><div><button type="submit" class="secondary">Add tag</button></div></div>`)}</div>
<h2>Delete</h2><div class="card">${action('delete', `<p>Deleting a connection cannot be undone; pipelines using it stop working. Type <strong>delete</strong> to confirm.</p><label for="confirm">Confirmation</label><input type="text" id="confirm" name="confirm" autocomplete="off" data-confirm="delete" aria-describedby="confirm-help"><p class="muted" id="confirm-help">Type the word delete.</p><div class="actions"><button type="submit" class="danger">Delete connection</button></div>`)}</div>`
    send(res, 200, page(this.#shell(s, c.ConnectionName, 'connections', this.#flashOf(u)), body))
  }

  async #connectionAction(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    action: string,
    form: URLSearchParams,
  ) {
    const arn = form.get('arn') ?? ''
    const back = (kind: 'ok' | 'bad', text: string) =>
      `/console/connection?arn=${encodeURIComponent(arn)}&${this.#flashParam(kind, text)}`
    try {
      if (action === 'authorize') return await this.#startHandshake(req, res, s, arn)
      if (action === 'tag') {
        await this.#invoke(req, s, 'TagResource', {
          ResourceArn: arn,
          Tags: [{ Key: form.get('key') ?? '', Value: form.get('value') ?? '' }],
        })
        return redirect(res, back('ok', `Tag ${form.get('key') ?? ''} saved.`))
      }
      if (action === 'untag') {
        await this.#invoke(req, s, 'UntagResource', {
          ResourceArn: arn,
          TagKeys: [form.get('key') ?? ''],
        })
        return redirect(res, back('ok', `Tag ${form.get('key') ?? ''} removed.`))
      }
      if (form.get('confirm') !== 'delete')
        return redirect(
          res,
          back('bad', 'Type delete to confirm the deletion. Nothing was deleted.'),
        )
      await this.#invoke(req, s, 'DeleteConnection', { ConnectionArn: arn })
      return redirect(res, `/console?${this.#flashParam('ok', 'Connection deleted.')}`)
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      return redirect(res, back('bad', err.message))
    }
  }

  // ---- hosts -----------------------------------------------------------------------------------

  async #hosts(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    type H = {
      HostArn: string
      Name: string
      ProviderType: string
      ProviderEndpoint: string
      Status: string
    }
    const all: H[] = []
    let token: string | undefined
    for (let i = 0; i < 50; i++) {
      const r = await this.#invoke<{ Hosts: H[]; NextToken?: string }>(req, s, 'ListHosts', {
        MaxResults: 100,
        ...(token ? { NextToken: token } : {}),
      })
      all.push(...r.Hosts)
      token = r.NextToken
      if (!token) break
    }
    const body = all.length
      ? `<table class="list"><thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Endpoint</th><th scope="col">Status</th></tr></thead><tbody>${all
          .map(
            (h) =>
              `<tr><td data-label="Name"><a href="/console/host?arn=${encodeURIComponent(h.HostArn)}">${esc(h.Name)}</a></td><td data-label="Provider">${esc(label(h.ProviderType))}</td><td data-label="Endpoint"><code>${esc(h.ProviderEndpoint)}</code></td><td data-label="Status">${badge(h.Status)}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : `<div class="card"><p>A <strong>host</strong> is a self-managed provider installation (GitHub Enterprise Server, GitLab self-managed) that connections reach through its endpoint, optionally inside a VPC.</p></div>`
    send(
      res,
      200,
      page(
        this.#shell(s, 'Hosts', 'hosts', this.#flashOf(u)),
        `<h1>Hosts</h1><div class="actions"><a class="button" href="/console/hosts/new">Create host</a></div>${body}`,
      ),
    )
  }

  #newHost(
    res: ServerResponse,
    s: Session,
    v: { values?: Record<string, string>; errors?: Record<string, string> },
    status = 200,
  ) {
    const err = (k: string) =>
      v.errors?.[k]
        ? `<p class="field-error" id="${k}-error" role="alert">${esc(v.errors[k])}</p>`
        : ''
    const invalid = (k: string) =>
      v.errors?.[k] ? ` aria-invalid="true" aria-describedby="${k}-error"` : ''
    const field = (k: string, text: string, type = 'text', extra = '') =>
      `<label for="${k}">${text}</label><input type="${type}" id="${k}" name="${k}" value="${esc(v.values?.[k] ?? '')}"${extra}${invalid(k)}>${err(k)}`
    send(
      res,
      status,
      page(
        this.#shell(s, 'Create host', 'hosts'),
        `<h1>Create a host</h1><div class="card"><form method="post" action="/console/hosts/new">${hidden('csrf', s.csrf)}
${field('name', 'Host name', 'text', ' maxlength="64" required')}
<label for="providerType">Provider</label><select id="providerType" name="providerType">${HOST_PROVIDERS.map((p) => `<option value="${p}"${v.values?.['providerType'] === p ? ' selected' : ''}>${esc(label(p))}</option>`).join('')}</select>
${field('endpoint', 'Provider endpoint (https URL)', 'url', ' required')}
<fieldset><legend>VPC (optional)</legend>
${field('vpcId', 'VPC ID')}${field('subnetIds', 'Subnet IDs (comma-separated)')}${field('securityGroupIds', 'Security group IDs (comma-separated)')}${field('tlsCertificate', 'TLS certificate (PEM, optional)')}
</fieldset>${err('form')}
<div class="actions"><button type="submit">Create host</button><a href="/console/hosts">Cancel</a></div></form></div>`,
      ),
    )
  }

  #vpc(form: URLSearchParams): Record<string, unknown> | undefined {
    const vpcId = (form.get('vpcId') ?? '').trim()
    if (!vpcId) return undefined
    const list = (k: string) =>
      (form.get(k) ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    const v: Record<string, unknown> = {
      VpcId: vpcId,
      SubnetIds: list('subnetIds'),
      SecurityGroupIds: list('securityGroupIds'),
    }
    const tls = (form.get('tlsCertificate') ?? '').trim()
    if (tls) v['TlsCertificate'] = tls
    return v
  }

  async #createHost(req: IncomingMessage, res: ServerResponse, s: Session, form: URLSearchParams) {
    const v = Object.fromEntries(
      [
        'name',
        'providerType',
        'endpoint',
        'vpcId',
        'subnetIds',
        'securityGroupIds',
        'tlsCertificate',
      ].map((k) => [k, form.get(k) ?? '']),
    )
    try {
      const vpc = this.#vpc(form)
      const r = await this.#invoke<{ HostArn: string }>(req, s, 'CreateHost', {
        Name: v['name'],
        ProviderType: v['providerType'],
        ProviderEndpoint: v['endpoint'],
        ...(vpc ? { VpcConfiguration: vpc } : {}),
      })
      redirect(
        res,
        `/console/host?arn=${encodeURIComponent(r.HostArn)}&${this.#flashParam('ok', 'Host created.')}`,
      )
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      const m = err.message
      const key = /name/i.test(m)
        ? 'name'
        : /endpoint/i.test(m)
          ? 'endpoint'
          : /vpc|subnet|security|tls/i.test(m)
            ? 'vpcId'
            : 'form'
      this.#newHost(res, s, { values: v, errors: { [key]: m } }, err.statusCode)
    }
  }

  async #host(req: IncomingMessage, res: ServerResponse, s: Session, u: URL) {
    const arn = u.searchParams.get('arn') ?? ''
    const h = await this.#invoke<{
      Name: string
      Status: string
      ProviderType: string
      ProviderEndpoint: string
      VpcConfiguration?: { VpcId: string; SubnetIds: string[]; SecurityGroupIds: string[] }
    }>(req, s, 'GetHost', { HostArn: arn })
    const action = (name: string, inner: string) =>
      `<form method="post" action="/console/host/${name}">${hidden('csrf', s.csrf)}${hidden('arn', arn)}${inner}</form>`
    const body = `<h1>${esc(h.Name)} ${badge(h.Status)}</h1><div class="card"><dl>
<dt>ARN</dt><dd>${copyable(arn)}</dd><dt>Provider</dt><dd>${esc(label(h.ProviderType))}</dd><dt>Endpoint</dt><dd><code>${esc(h.ProviderEndpoint)}</code></dd><dt>Status</dt><dd>${badge(h.Status)}</dd>
<dt>VPC</dt><dd>${h.VpcConfiguration ? `${esc(h.VpcConfiguration.VpcId)} <span class="muted">(subnets ${esc(h.VpcConfiguration.SubnetIds.join(', '))}; security groups ${esc(h.VpcConfiguration.SecurityGroupIds.join(', '))})</span>` : '<span class="muted">none</span>'}</dd></dl></div>
<h2>Update endpoint</h2><div class="card">${action('update', `<label for="endpoint">Provider endpoint</label><input type="url" id="endpoint" name="endpoint" value="${esc(h.ProviderEndpoint)}" required><div class="actions"><button type="submit" class="secondary">Update host</button></div>`)}</div>
<h2>Delete</h2><div class="card">${action('delete', `<p>A host cannot be deleted while connections use it. Type <strong>delete</strong> to confirm.</p><label for="confirm">Confirmation</label><input type="text" id="confirm" name="confirm" autocomplete="off" data-confirm="delete"><div class="actions"><button type="submit" class="danger">Delete host</button></div>`)}</div>`
    send(res, 200, page(this.#shell(s, h.Name, 'hosts', this.#flashOf(u)), body))
  }

  async #hostAction(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    action: string,
    form: URLSearchParams,
  ) {
    const arn = form.get('arn') ?? ''
    const back = (kind: 'ok' | 'bad', text: string) =>
      `/console/host?arn=${encodeURIComponent(arn)}&${this.#flashParam(kind, text)}`
    try {
      if (action === 'update') {
        await this.#invoke(req, s, 'UpdateHost', {
          HostArn: arn,
          ProviderEndpoint: form.get('endpoint') ?? '',
        })
        return redirect(res, back('ok', 'Host updated.'))
      }
      if (form.get('confirm') !== 'delete')
        return redirect(
          res,
          back('bad', 'Type delete to confirm the deletion. Nothing was deleted.'),
        )
      await this.#invoke(req, s, 'DeleteHost', { HostArn: arn })
      return redirect(res, `/console/hosts?${this.#flashParam('ok', 'Host deleted.')}`)
    } catch (err) {
      if (!(err instanceof AwsError)) throw err
      return redirect(res, back('bad', err.message))
    }
  }

  // ---- settings --------------------------------------------------------------------------------

  #settings(res: ServerResponse, s: Session, u: URL) {
    const rows = this.d
      .providerApps()
      .map(
        (a) => `<div class="card"><h2>${esc(a.label)}</h2><dl>
<dt>Status</dt><dd>${a.clientId && a.secretSet ? '<span class="badge AVAILABLE">Configured</span>' : '<span class="badge PENDING">Not configured</span>'} <span class="muted">${a.source === 'console' ? '(set here)' : a.source === 'flags' ? '(from junction serve flags or environment)' : ''}</span></dd>
<dt>Provider endpoint</dt><dd><code>${esc(a.endpoint)}</code></dd>
<dt>Callback URL</dt><dd>${copyable(a.callbackUrl)}<br><span class="muted">Paste it into the provider's OAuth consumer settings.</span></dd></dl>
<form method="post" action="/console/settings/app">${hidden('csrf', s.csrf)}${hidden('providerType', a.providerType)}
<label for="clientId-${esc(a.providerType)}">${esc(a.idLabel)}</label><input type="text" id="clientId-${esc(a.providerType)}" name="clientId" value="${esc(a.clientId ?? '')}" autocomplete="off" required>
<label for="clientSecret-${esc(a.providerType)}">Secret <span class="muted">(write-only: ${a.secretSet ? 'a secret is set and never shown; leave empty to keep it' : 'not set yet'})</span></label><input type="password" id="clientSecret-${esc(a.providerType)}" name="clientSecret" value="" autocomplete="new-password">
<div class="actions"><button type="submit" class="secondary">Save</button></div></form></div>`,
      )
      .join('')
    send(
      res,
      200,
      page(
        this.#shell(s, 'Settings', 'settings', this.#flashOf(u)),
        `<h1>Settings</h1><h2 class="muted" style="font-size:1rem">Provider applications</h2>${rows}`,
      ),
    )
  }

  async #saveApp(res: ServerResponse, s: Session, form: URLSearchParams) {
    const type = form.get('providerType') ?? ''
    const back = (kind: 'ok' | 'bad', text: string) =>
      redirect(res, `/console/settings?${this.#flashParam(kind, text)}`)
    if (!s.principal.isRoot)
      throw new AccessDeniedException(
        `User: ${s.principal.arn} is not authorized to change provider applications: only the account root (the operator) manages them`,
      )
    if (!SUPPORTED_PROVIDERS.includes(type))
      throw new InvalidInputException(`No provider application for ${type}`)
    const clientId = (form.get('clientId') ?? '').trim()
    if (!/^[\x21-\x7e]{1,256}$/.test(clientId))
      return back('bad', 'The consumer key must be 1–256 visible characters.')
    const secret = form.get('clientSecret') ?? ''
    if (secret.length > 1024) return back('bad', 'The secret is too long.')
    try {
      await this.d.apps.set(type, clientId, secret, s.principal.arn, this.d.api.context.now())
    } catch (err) {
      return back('bad', (err as Error).message)
    }
    return back('ok', `${label(type)} application saved.`)
  }
}

/** `key=value` lines → tags, or the reason they are not. */
function parseTags(text: string): { Key: string; Value: string }[] | string {
  const tags: { Key: string; Value: string }[] = []
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (!line) continue
    const eq = line.indexOf('=')
    if (eq <= 0) return `Line ${i + 1}: write tags as key=value.`
    tags.push({ Key: line.slice(0, eq).trim(), Value: line.slice(eq + 1).trim() })
  }
  return tags
}
