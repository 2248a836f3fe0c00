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
import { invokeAs, type ApiDeps } from '../server/api.js'
import { readBody } from '../server/read-body.js'
import type { ProviderApps } from '../connect/apps.js'
import type { GitHubManifestFlow } from '../connect/github-manifest.js'
import type { HostSetup } from '../connect/host-setup.js'
import { APP_JS, esc, hidden, page, type Shell } from './html.js'
import { pipelineRoutes } from './pipelines.js'
import { ConnectionPages } from './connections.js'
import { HostPages } from './hosts.js'
import { redirect, send, type ConsoleKit, type Session } from './kit.js'
import { SettingsPages } from './settings.js'
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
  /** GitHub's manifest flow: its two browser pages under /console/github-app/ (no session). */
  githubApps?: GitHubManifestFlow
  /** Hosts set up with an administrator's token (GitLab self-managed). */
  hostSetup?: HostSetup
  /** The CodePipeline subset (the pipeline pages). */
  pipelines?: PipelineApiDeps
  /** Throttles failed sign-ins per source address and per access key. */
  throttle?: AuthThrottle
}

const COOKIE = 'junction_console'
const SERVICE = 'codestar-connections'

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

class Redirect {
  constructor(readonly location: string) {}
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
  readonly #connections: ConnectionPages
  readonly #hosts: HostPages
  readonly #settings: SettingsPages

  constructor(private readonly d: ConsoleDeps) {
    const kit: ConsoleKit = {
      d,
      caller: (s, req) => this.#caller(s, req),
      invoke: (req, s, op, input) => this.#invoke(req, s, op, input),
      shell: (s, title, nav, flash) => this.#shell(s, title, nav, flash),
      flashParam: (kind, text) => this.#flashParam(kind, text),
      flashOf: (u) => this.#flashOf(u),
    }
    this.#connections = new ConnectionPages(kit)
    this.#hosts = new HostPages(kit)
    this.#settings = new SettingsPages(kit)
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
      run: (c) => this.#connections.connections(c.req, c.res, c.s, c.u),
    },
    'GET /console/connections/new': {
      name: 'console-create',
      run: (c) =>
        this.#connections.newConnection(c.req, c.res, c.s, {
          provider: c.u.searchParams.get('provider') ?? undefined,
          hostArn: c.u.searchParams.get('host') ?? undefined,
        }),
    },
    'POST /console/connections/new': {
      name: 'console-create',
      run: (c) => this.#connections.createConnection(c.req, c.res, c.s, c.form),
    },
    'GET /console/connection': {
      name: 'console-connection',
      run: (c) => this.#connections.connection(c.req, c.res, c.s, c.u),
    },
    ...Object.fromEntries(
      ['tag', 'untag', 'authorize', 'delete'].map((a) => [
        `POST /console/connection/${a}`,
        {
          name: 'console-connection',
          run: (c: RouteContext) =>
            this.#connections.connectionAction(c.req, c.res, c.s, a, c.form),
        },
      ]),
    ),
    'GET /console/hosts': {
      name: 'console-hosts',
      run: (c) => this.#hosts.hosts(c.req, c.res, c.s, c.u),
    },
    'GET /console/hosts/new': {
      name: 'console-hosts',
      run: (c) => this.#hosts.newHost(c.res, c.s, {}),
    },
    'POST /console/hosts/new': {
      name: 'console-hosts',
      run: (c) => this.#hosts.createHost(c.req, c.res, c.s, c.form),
    },
    'GET /console/host': {
      name: 'console-host',
      run: (c) => this.#hosts.host(c.req, c.res, c.s, c.u),
    },
    ...Object.fromEntries(
      ['update', 'delete'].map((a) => [
        `POST /console/host/${a}`,
        {
          name: 'console-host',
          run: (c: RouteContext) => this.#hosts.hostAction(c.req, c.res, c.s, a, c.form),
        },
      ]),
    ),
    'GET /console/settings': {
      name: 'console-settings',
      run: (c) => this.#settings.settings(c.res, c.s, c.u),
    },
    'POST /console/settings/app': {
      name: 'console-settings',
      run: (c) => this.#settings.saveApp(c.res, c.s, c.form),
    },
    'POST /console/settings/github-app': {
      name: 'console-settings',
      run: (c) => this.#settings.createGitHubApp(c.res, c.s, c.form),
    },
    'POST /console/host/setup': {
      name: 'console-host',
      run: (c) => this.#hosts.setupHost(c.res, c.s, c.form),
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
    // GitHub's manifest flow comes back cross-site: its signed, single-use link and state stand
    // in for the session (connect/github-manifest).
    const manifest = await this.d.githubApps?.handle(req, res, path)
    if (manifest) return manifest
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
}
