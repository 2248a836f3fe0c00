/**
 * @module connect/github-manifest
 * Registering Junction's GitHub App in one click, with GitHub's App Manifest flow ("Registering a
 * GitHub App from a manifest"): for github.com (the provider-wide app) or for one GitHub
 * Enterprise Server host (that host's own app; setting it up moves the host PENDING → AVAILABLE).
 *
 * 1. The account root asks (console settings button, `junction github app create`, the host's
 *    "Set up host" page or `junction hosts setup`): {@link GitHubManifestFlow.start} answers a
 *    one-time link to `/console/github-app/start`, valid 10 minutes.
 * 2. The link, opened once, binds that browser (a cookie whose hash goes into `state`) and shows a
 *    form that POSTs the manifest to `<github-web>/settings/apps/new?state=…` (or the
 *    organization's page). The manifest asks for the least Junction needs: contents, metadata and
 *    pull requests read; events push and pull_request; an active webhook to
 *    `<public-url>/webhooks/github`; callback and setup URL `<public-url>/oauth/github/callback`.
 * 3. GitHub sends the browser back to `/console/github-app/created?code&state`. The state must be
 *    genuine, unexpired (1 hour, as GitHub's code), unused (single use, in the store) and from the
 *    browser that opened the link; then `POST <api>/app-manifests/{code}/conversions` gives the
 *    app id, slug, client id and secret, webhook secret and private key, stored sealed under the
 *    master key (connect/apps). Nothing secret is ever shown, logged or put in an error.
 *
 * Both pages need no console session (GitHub's redirect is a cross-site navigation, which the
 * console's SameSite=Strict cookie does not follow): the signed, single-use link and state carry
 * the root's authority instead.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { effectiveHostStatus, isVpcStatus } from '../domain/host-status.js'
import { AwsError } from '../errors/aws-error.js'
import {
  AccessDeniedException,
  InvalidInputException,
  ResourceNotFoundException,
  ResourceUnavailableException,
} from '../generated/errors.js'
import type { Principal } from '../iam/principal.js'
import { HttpClient } from '../providers/http-client.js'
import { hostSetupOf } from '../providers/registry.js'
import type { ProviderEndpoints } from '../providers/provider.js'
import type { HostRecord, Store } from '../store/store.js'
import { esc, page } from '../console/html.js'
import { send } from '../console/kit.js'
import { hostIdOf, type GitHubAppSecrets, type ProviderApps } from './apps.js'
import { fetchTrusting } from './host-fetch.js'
import type { Signer } from './signed.js'

export const START_PATH = '/console/github-app/start'
export const CREATED_PATH = '/console/github-app/created'
const LINK_TTL_MS = 10 * 60_000
/** GitHub's manifest code lives an hour; the state as long. */
const STATE_TTL_MS = 60 * 60_000
const COOKIE = 'junction_ghapp'
const GITHUB = 'GitHub'
const GHES = 'GitHubEnterpriseServer'
/** github.com's own addresses, when the GitHub provider is not configured otherwise. */
export const GITHUB_COM: ProviderEndpoints = {
  webUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
}

/** What the link and then the state carry (signed; never a secret). */
interface Ticket {
  /** Single-use nonce. */
  n: string
  /** The root that asked, and its account. */
  by: string
  acct: string
  name: string
  org?: string
  /** A host's ARN, or absent for github.com. */
  host?: string
  /** Where the manifest goes and where the code is converted. */
  web: string
  api: string
  /** The state also binds the browser that opened the link (SHA-256 of its cookie). */
  b?: string
}

export interface GitHubManifestDeps {
  apps: ProviderApps
  store: Store
  /** Signs the link and the state (a key derived from the master key for this purpose). */
  signer: Signer
  publicUrl: () => string
  /** github.com's web and API addresses (the GitHub provider's configured endpoints). */
  githubEndpoints: () => ProviderEndpoints
  now: () => number
  logger: Logger
  /** Cookies marked Secure (the public URL is https). */
  secure: boolean
}

export interface StartOptions {
  /** Register the app for this organization instead of the signed-in GitHub user. */
  organization?: string
  /** The app's name on GitHub (unique there; at most 34 characters). */
  name?: string
  /** Register it on this GitHub Enterprise Server host instead of github.com. */
  hostArn?: string
}

const ORG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/
const NAME = /^[\x20-\x7e]{1,34}$/
const CODE = /^[A-Za-z0-9_-]{1,256}$/

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url')

/** The manifest Junction registers (GitHub's manifest parameters). */
export function appManifest(
  publicUrl: string,
  name: string,
  /** A GitHub Enterprise Server host's ARN: its app's webhook goes to `/webhooks/github/<host-id>`. */
  hostArn?: string,
): Record<string, unknown> {
  const base = publicUrl.replace(/\/+$/, '')
  const hook = hostArn ? `${base}/webhooks/github/${hostIdOf(hostArn)}` : `${base}/webhooks/github`
  return {
    name,
    url: base,
    hook_attributes: { url: hook, active: true },
    redirect_url: `${base}${CREATED_PATH}`,
    callback_urls: [`${base}/oauth/github/callback`],
    setup_url: `${base}/oauth/github/callback`,
    setup_on_update: true,
    // The handshake needs the installing user's authorization code to check that the
    // installation is theirs (GET /user/installations): never trust installation_id alone.
    request_oauth_on_install: true,
    public: false,
    default_permissions: { contents: 'read', metadata: 'read', pull_requests: 'read' },
    default_events: ['push', 'pull_request'],
  }
}

export class GitHubManifestFlow {
  constructor(private readonly d: GitHubManifestDeps) {}

  /**
   * A one-time link that starts the flow in the caller's browser. Only the account root registers
   * apps; a host must be a GitHub Enterprise Server one that has settled (not in a VPC state).
   */
  async start(
    principal: Principal,
    o: StartOptions = {},
  ): Promise<{ Url: string; ExpiresAt: number }> {
    if (!principal.isRoot)
      throw new AccessDeniedException(
        `User: ${principal.arn} is not authorized to register GitHub Apps: only the account root (the operator) manages provider applications`,
      )
    if (o.organization !== undefined && !ORG.test(o.organization))
      throw new InvalidInputException(
        `Organization must be a GitHub organization name (letters, digits and hyphens, at most 39): '${o.organization.slice(0, 64)}'`,
      )
    if (o.name !== undefined && !NAME.test(o.name))
      throw new InvalidInputException(
        'Name must be 1–34 printable characters (GitHub caps an app name at 34)',
      )
    let web: string
    let api: string
    if (o.hostArn !== undefined) {
      const host = await this.#settledHost(principal.accountId, o.hostArn)
      ;({ web, api } = hostEndpoints(host))
    } else {
      const e = this.d.githubEndpoints()
      web = e.webUrl.replace(/\/+$/, '')
      api = e.apiUrl.replace(/\/+$/, '')
    }
    const ticket: Ticket = {
      n: randomBytes(16).toString('base64url'),
      by: principal.arn,
      acct: principal.accountId,
      name: o.name ?? defaultName(this.d.publicUrl()),
      web,
      api,
      ...(o.organization ? { org: o.organization } : {}),
      ...(o.hostArn !== undefined ? { host: o.hostArn } : {}),
    }
    const token = this.d.signer.sign('github-app-link', ticket, LINK_TTL_MS)
    return {
      Url: `${this.d.publicUrl()}${START_PATH}?t=${encodeURIComponent(token)}`,
      ExpiresAt: Math.floor((this.d.now() + LINK_TTL_MS) / 1000),
    }
  }

  /** The host, if it is a GitHub Enterprise Server host that can be set up now. */
  async #settledHost(accountId: string, arn: string): Promise<HostRecord> {
    const host = await this.d.store.hosts.get(accountId, arn)
    if (!host) throw new ResourceNotFoundException(`Host ${arn} does not exist`)
    if (host.providerType !== GHES)
      throw new InvalidInputException(
        hostSetupOf(host.providerType)
          ? `Host ${arn} is a ${host.providerType} host, set up with an administrator's token instead: junction hosts setup --host-arn <arn> --token-file <file> (or SetUpHost)`
          : `Host ${arn} is a ${host.providerType} host: only GitHub Enterprise Server hosts register a GitHub App`,
      )
    const status = effectiveHostStatus(host, this.d.now())
    if (isVpcStatus(status))
      throw new ResourceUnavailableException(
        `Host ${arn} is ${status}; set it up once its VPC configuration has settled`,
      )
    return host
  }

  /** Serves the two browser pages; undefined when the path is neither. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<string | undefined> {
    if (path !== START_PATH && path !== CREATED_PATH) return undefined
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET' }).end()
      return 'github-app'
    }
    const u = new URL(req.url ?? '/', 'http://junction')
    try {
      if (path === START_PATH) await this.#startPage(req, res, u)
      else await this.#created(req, res, u)
    } catch (err) {
      // Never a provider's words that might echo a secret: the class of failure and its status.
      const status = err instanceof AwsError ? err.statusCode : 502
      const text =
        err instanceof AwsError
          ? err.message
          : `GitHub did not convert the manifest code: ${(err as Error).message}`
      this.d.logger.warn({ reason: text }, 'GitHub App registration failed')
      this.#problem(res, status, 'The GitHub App was not registered', `${text} Nothing was stored.`)
    }
    return 'github-app'
  }

  #problem(res: ServerResponse, status: number, title: string, text: string) {
    send(
      res,
      status,
      page(
        { title },
        `<h1>${esc(title)}</h1><p class="error" role="alert">${esc(text)}</p><p><a href="/console/settings">Back to the console</a></p>`,
      ),
      { 'Set-Cookie': this.#cookie('', 0) },
    )
  }

  #cookie(value: string, maxAgeSeconds: number): string {
    return `${COOKIE}=${value}; Path=/console/github-app/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${this.d.secure ? '; Secure' : ''}`
  }

  async #startPage(req: IncomingMessage, res: ServerResponse, u: URL) {
    const t = this.d.signer.open<Ticket>('github-app-link', u.searchParams.get('t') ?? '')
    if (!t)
      return this.#problem(
        res,
        400,
        'This link does not work',
        'The link is not genuine or has expired (it lasts 10 minutes). Start again from the console or with junction github app create.',
      )
    if (req.method === 'HEAD') return send(res, 200, '')
    if (!(await this.d.store.reserveId(`github-app-link:${t.n}`)))
      return this.#problem(
        res,
        400,
        'This link was used already',
        'Each link opens once. Start again from the console or with junction github app create.',
      )
    // This browser, and only it, may bring GitHub's code back.
    const browser = randomBytes(24).toString('base64url')
    const state = this.d.signer.sign(
      'github-app-state',
      { ...t, n: randomBytes(16).toString('base64url'), b: sha256(browser) },
      STATE_TTL_MS,
    )
    const target = new URL(
      t.org ? `${t.web}/organizations/${t.org}/settings/apps/new` : `${t.web}/settings/apps/new`,
    )
    target.searchParams.set('state', state)
    const manifest = appManifest(this.d.publicUrl(), t.name, t.host)
    const where = t.host ? `the GitHub Enterprise Server at ${t.web}` : `GitHub (${t.web})`
    send(
      res,
      200,
      page(
        { title: 'Create the GitHub App' },
        `<h1>Create Junction's GitHub App</h1><div class="card">
<p>Junction registers a GitHub App named <strong>${esc(t.name)}</strong> on ${esc(where)}, owned by ${t.org ? `the organization <strong>${esc(t.org)}</strong>` : 'the GitHub account you sign in with there'}. GitHub asks you to confirm, then sends you back here and Junction stores the app (its private key and secrets sealed, never shown).</p>
<dl><dt>Permissions</dt><dd>Contents: read, Metadata: read, Pull requests: read</dd>
<dt>Events</dt><dd>push, pull_request</dd>
<dt>Webhook</dt><dd><code>${esc(String((manifest['hook_attributes'] as { url: string }).url))}</code></dd>
<dt>Callback and setup URL</dt><dd><code>${esc(String(manifest['setup_url']))}</code></dd></dl>
<form method="post" action="${esc(target.toString())}"><input type="hidden" name="manifest" value="${esc(JSON.stringify(manifest))}">
<div class="actions"><button type="submit" id="create-github-app">Create on GitHub</button></div></form></div>`,
      ),
      { 'Set-Cookie': this.#cookie(browser, Math.floor(STATE_TTL_MS / 1000)) },
    )
  }

  async #created(req: IncomingMessage, res: ServerResponse, u: URL) {
    const s = this.d.signer.open<Ticket>('github-app-state', u.searchParams.get('state') ?? '')
    if (!s || !s.b)
      return this.#problem(
        res,
        400,
        'The GitHub App was not registered',
        'The state GitHub sent back is not genuine or has expired (it lasts an hour). Nothing was stored; start again.',
      )
    const cookie = cookieOf(req)
    const given = Buffer.from(sha256(cookie))
    const expected = Buffer.from(s.b)
    if (!cookie || given.length !== expected.length || !timingSafeEqual(given, expected))
      return this.#problem(
        res,
        403,
        'The GitHub App was not registered',
        'This is not the browser that started the registration. Nothing was stored; finish it in the browser that opened the link, or start again.',
      )
    const code = u.searchParams.get('code') ?? ''
    if (!CODE.test(code))
      return this.#problem(
        res,
        400,
        'The GitHub App was not registered',
        'GitHub sent no usable code. Nothing was stored; start again.',
      )
    if (req.method === 'HEAD') return send(res, 200, '')
    if (!(await this.d.store.reserveId(`github-app-state:${s.n}`)))
      return this.#problem(
        res,
        400,
        'The GitHub App was not registered',
        'This state was used already: each registration finishes once. Nothing more was stored.',
      )
    let host: HostRecord | undefined
    if (s.host) {
      host = await this.#settledHost(s.acct, s.host)
      if (hostEndpoints(host).web !== s.web)
        throw new InvalidInputException(
          `Host ${s.host} moved to another endpoint while its app was being registered; set it up again`,
        )
    }
    const app = await convert(s, code, host?.vpcConfiguration?.TlsCertificate)
    await this.d.apps.setGitHubApp(
      host ? host.providerType : GITHUB,
      s.host ?? '',
      app,
      s.by,
      this.d.now(),
    )
    if (host) {
      const ok = await this.d.store.hosts.update(s.acct, host.arn, {
        status: 'AVAILABLE',
        statusMessage: null,
      })
      if (!ok) throw new ResourceNotFoundException(`Host ${host.arn} does not exist`)
    }
    this.d.logger.info(
      { appId: app.appId, slug: app.slug, host: s.host, by: s.by },
      'GitHub App registered from a manifest',
    )
    const back = s.host ? `/console/host?arn=${encodeURIComponent(s.host)}` : '/console/settings'
    send(
      res,
      200,
      page(
        { title: 'GitHub App registered' },
        `<h1>GitHub App registered</h1><div class="card"><p role="status">The GitHub App <strong>${esc(app.slug)}</strong> (app id ${esc(app.appId)}) was created on ${esc(s.web)} and stored: its private key, client secret and webhook secret are sealed and never shown.${s.host ? ' The host is now AVAILABLE.' : ''}</p>
<p><a class="button" href="${esc(back)}">Back to the console</a></p></div>`,
      ),
      { 'Set-Cookie': this.#cookie('', 0) },
    )
  }
}

/** A GitHub Enterprise Server host's web address and its REST API (`/api/v3`, GHES's fixed path). */
export function hostEndpoints(host: HostRecord): { web: string; api: string } {
  const web = host.providerEndpoint.replace(/\/+$/, '')
  return { web, api: `${web}/api/v3` }
}

function defaultName(publicUrl: string): string {
  let host = 'junction'
  try {
    host = new URL(publicUrl).host
  } catch {
    // keep the default
  }
  return `Junction ${host}`.slice(0, 34)
}

function cookieOf(req: IncomingMessage): string {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === COOKIE) return v.join('=')
  }
  return ''
}

/** `POST <api>/app-manifests/{code}/conversions` (no authentication: the code is the proof). */
async function convert(
  s: Ticket,
  code: string,
  tlsCertificate: string | undefined,
): Promise<GitHubAppSecrets> {
  const http = new HttpClient(s.host ? 'GitHub Enterprise Server' : 'GitHub', {
    fetch: fetchTrusting(tlsCertificate),
    attempts: 2,
  })
  const r = await http.json<Record<string, unknown>>(
    `${s.api}/app-manifests/${encodeURIComponent(code)}/conversions`,
    {
      method: 'POST',
      headers: {
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': 'Junction',
      },
      accept: [201],
    },
  )
  const str = (k: string) => (typeof r[k] === 'string' && r[k] ? (r[k] as string) : undefined)
  const id = typeof r['id'] === 'number' ? String(r['id']) : str('id')
  const app = {
    appId: id,
    slug: str('slug'),
    clientId: str('client_id'),
    clientSecret: str('client_secret'),
    webhookSecret: str('webhook_secret'),
    privateKey: str('pem'),
  }
  const missing = Object.entries(app)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k)
  if (missing.length) throw new Error(`the conversion answer lacks ${missing.join(', ')}`)
  return app as GitHubAppSecrets
}
