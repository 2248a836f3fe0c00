/**
 * A sandbox GitHub on random loopback ports with a small world in it (users, an organization,
 * repositories, a GitHub App installed on the organization), a webhook receiver that records what
 * it gets, and app JWTs signed with any claims (for the refusal cases).
 */
import { createSign } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGitHubSandbox, type GitHubSandbox } from '../../src/sandbox/github/server.js'

export interface GhSandbox extends GitHubSandbox {
  dataDir: string
  admin<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T>
  stop(): Promise<void>
}

export async function startGhSandbox(o: { enterprise?: boolean } = {}): Promise<GhSandbox> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-ghs-'))
  const sb = await startGitHubSandbox({ port: 0, dataDir, enterprise: o.enterprise ?? false })
  return Object.assign(sb, {
    dataDir,
    async admin<T>(path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') {
      const r = await fetch(`${sb.url}/_sandbox/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const json = (await r.json()) as T
      if (!r.ok) throw new Error(`sandbox ${path}: ${r.status} ${JSON.stringify(json)}`)
      return json
    },
    async stop() {
      await sb.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  })
}

export interface Received {
  headers: IncomingHttpHeaders
  body: Buffer
}

/** An HTTP server that records every POST and answers `status` (default 200). */
export async function hookReceiver() {
  const got: Received[] = []
  let status = 200
  const waiters: { n: number; resolve: () => void }[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) })
      res.writeHead(status).end()
      for (const w of waiters.filter((x) => got.length >= x.n)) w.resolve()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  return {
    url,
    got,
    setStatus: (s: number) => void (status = s),
    /** Resolves once `n` deliveries have arrived. */
    waitFor: (n: number) =>
      got.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    events: (name: string) =>
      got
        .filter((g) => g.headers['x-github-event'] === name)
        .map((g) => JSON.parse(g.body.toString('utf8')) as Record<string, unknown>),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      }),
  }
}

export interface GhApp {
  id: number
  slug: string
  clientId: string
  clientSecret: string
  webhookSecret: string | null
  privateKey: string
}

export interface GhWorld {
  alice: { username: string; password: string }
  bob: { username: string; password: string }
  app: GhApp
  /** The app's installation on acme, reaching acme/app and acme/lib (not acme/secret). */
  installationId: number
  commits: { first: string; second: string }
}

/**
 * alice (admin of acme), bob (member of acme); acme/app (two commits on main, a feature branch),
 * acme/lib, acme/secret, alice/own; the app "Junction CI" owned by alice, installed on acme with
 * app and lib selected.
 */
export async function seedGhWorld(
  sb: GhSandbox,
  o: { webhookUrl?: string } = {},
): Promise<GhWorld> {
  await sb.admin('users', {
    username: 'alice',
    password: 'alice-pw',
    name: 'Alice A',
    email: 'alice@example.com',
  })
  await sb.admin('users', { username: 'bob', password: 'bob-pw' })
  await sb.admin('orgs', { login: 'acme', admins: ['alice'], members: ['bob'] })
  const first = await sb.admin<{ head: string }>('repositories', {
    owner: 'acme',
    name: 'app',
    files: { 'README.md': '# app\n', 'src/main.sh': 'echo hi\n' },
  })
  const second = await sb.admin<{ sha: string }>('repositories/acme/app/commits', {
    message: 'Second',
    files: { 'src/main.sh': 'echo hello\n', 'docs/a.md': 'a\n' },
    author: 'alice',
  })
  await sb.admin('repositories/acme/app/commits', {
    branch: 'feature/x',
    message: 'Feature',
    files: { 'f.txt': 'f\n' },
  })
  await sb.admin('repositories', { owner: 'acme', name: 'lib', files: { 'lib.txt': 'lib\n' } })
  await sb.admin('repositories', { owner: 'acme', name: 'secret', files: { 's.txt': 's\n' } })
  await sb.admin('repositories', { owner: 'alice', name: 'own', files: { 'o.txt': 'o\n' } })
  const app = await sb.admin<GhApp>('apps', {
    name: 'Junction CI',
    owner: 'alice',
    webhookUrl: o.webhookUrl ?? 'http://127.0.0.1:9/none',
    webhookSecret: 'hook-secret',
    setupUrl: 'http://127.0.0.1:9/setup',
    callbackUrls: ['http://127.0.0.1:9/callback'],
  })
  const inst = await sb.admin<{ id: number }>('installations', {
    app: app.slug,
    account: 'acme',
    repositories: ['app', 'lib'],
  })
  return {
    alice: { username: 'alice', password: 'alice-pw' },
    bob: { username: 'bob', password: 'bob-pw' },
    app,
    installationId: inst.id,
    commits: { first: first.head, second: second.sha },
  }
}

/** An RS256 JWT with exactly these claims, signed with `privateKey`. */
export function signJwt(privateKey: string, claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`
}

/** A JWT GitHub accepts (iat a minute back, 9 minutes left), iss the app id. */
export function appJwt(app: GhApp, iss: string | number = app.id): string {
  const now = Math.floor(Date.now() / 1000)
  return signJwt(app.privateKey, { iat: now - 60, exp: now + 540, iss })
}

/** Mints an installation token through the API (JWT), with an optional body. */
export async function mintToken(
  sb: GhSandbox,
  app: GhApp,
  installationId: number,
  body: unknown = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${sb.apiUrl}/app/installations/${installationId}/access_tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${appJwt(app)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}

/** A browser of sorts: keeps the session cookie, never follows redirects, posts forms. */
export function browser(base: string) {
  let cookie = ''
  return async (path: string, form?: Record<string, string | string[]>) => {
    const body = new URLSearchParams()
    for (const [k, v] of Object.entries(form ?? {}))
      for (const x of Array.isArray(v) ? v : [v]) body.append(k, x)
    const res = await fetch(path.startsWith('http') ? path : `${base}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body } : {}),
    })
    const set = res.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]!
    return { status: res.status, location: res.headers.get('location'), html: await res.text() }
  }
}

/** A hidden field's value in a page. */
export const field = (html: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`)
    .exec(html)?.[1]
    ?.replace(/&#34;/g, '"')
    .replace(/&#38;/g, '&')
    .replace(/&#39;/g, "'")

/** A user-to-server token (`ghu_…`) of the app for a user, through the authorization page. */
export async function userToken(
  sb: GhSandbox,
  app: GhApp,
  user: { username: string; password: string },
): Promise<{ access_token: string; refresh_token: string }> {
  const go = browser(sb.url)
  const q = `client_id=${app.clientId}&state=u1`
  await go(`/login/oauth/authorize?${q}`)
  const page = await go(`/login/oauth/authorize?${q}`, {
    sign_in: '1',
    login: user.username,
    password: user.password,
  })
  const done = await go(`/login/oauth/authorize?${q}`, {
    authorize: '1',
    authenticity_token: field(page.html, 'authenticity_token')!,
  })
  const code = new URL(done.location!).searchParams.get('code')!
  const res = await fetch(`${sb.url}/login/oauth/access_token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: app.clientId, client_secret: app.clientSecret, code }),
  })
  return (await res.json()) as { access_token: string; refresh_token: string }
}
