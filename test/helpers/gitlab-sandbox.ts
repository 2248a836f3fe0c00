/**
 * A sandbox GitLab on a random loopback port with the seeded world in it (src/sandbox/gitlab/
 * world.ts: root, alice, bob, carol, dave; acme, acme/platform, acme/platform/tools; projects and
 * tokens; the "Junction" OAuth application), plus helpers: the admin API, REST calls with a token,
 * the OAuth dance through the consent page (with or without PKCE), and the hook deliveries a
 * receiver got, by `X-Gitlab-Event`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGitLabSandbox, type GitLabSandbox } from '../../src/sandbox/gitlab/server.js'
import { seedWorld, type SeededWorld } from '../../src/sandbox/gitlab/world.js'
import { hookReceiver } from './github-sandbox.js'

export interface GlSandbox extends GitLabSandbox {
  dataDir: string
  world: SeededWorld
  /** A seeded token by name (`alice-api`, `bob-read`, `root-admin`, …). */
  token(name: string): string
  admin<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T>
  /** A REST call below /api/v4 with a token (PRIVATE-TOKEN, or Bearer with `bearer`). */
  get(
    path: string,
    token?: string,
    o?: { bearer?: boolean; method?: string; body?: unknown },
  ): Promise<Response>
  stop(): Promise<void>
}

export const JUNCTION_URL = 'http://127.0.0.1:4599'

export async function startGlSandbox(o: { selfManaged?: boolean } = {}): Promise<GlSandbox> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-gls-'))
  const sb = await startGitLabSandbox({ port: 0, dataDir, selfManaged: o.selfManaged ?? false })
  const world = await seedWorld(sb.gl, JUNCTION_URL)
  return Object.assign(sb, {
    dataDir,
    world,
    token(name: string) {
      const t = world.tokens.find((x) => x.name === name)
      if (!t) throw new Error(`no seeded token ${name}`)
      return t.token
    },
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
    get(
      path: string,
      token?: string,
      x: { bearer?: boolean; method?: string; body?: unknown } = {},
    ) {
      const headers: Record<string, string> = {}
      if (token) {
        if (x.bearer) headers['authorization'] = `Bearer ${token}`
        else headers['private-token'] = token
      }
      if (x.body !== undefined) headers['content-type'] = 'application/json'
      return fetch(`${sb.apiUrl}${path}`, {
        method: x.method ?? 'GET',
        headers,
        ...(x.body === undefined ? {} : { body: JSON.stringify(x.body) }),
      })
    },
    async stop() {
      await sb.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  })
}

export interface OAuthOptions {
  username?: string
  password?: string
  scope?: string
  /** PKCE: the challenge sent to /oauth/authorize. */
  challenge?: { value: string; method: 'S256' | 'plain' }
}

/** Signs in on the consent page and grants: the authorization code from the redirect. */
export async function authorize(sb: GlSandbox, o: OAuthOptions = {}): Promise<string> {
  const app = sb.world.app
  const form = new URLSearchParams({
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    response_type: 'code',
    state: 'st-1',
    scope: o.scope ?? 'api read_repository',
    username: o.username ?? 'alice',
    password: o.password ?? 'alice-password',
    decision: 'grant',
  })
  if (o.challenge) {
    form.set('code_challenge', o.challenge.value)
    form.set('code_challenge_method', o.challenge.method)
  }
  const r = await fetch(`${sb.url}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  })
  if (r.status !== 302) throw new Error(`consent answered ${r.status}: ${await r.text()}`)
  const back = new URL(r.headers.get('location')!)
  if (back.searchParams.get('state') !== 'st-1') throw new Error('state not carried')
  return back.searchParams.get('code')!
}

/** `POST /oauth/token` with a form; the status and JSON answer. */
export async function tokenCall(sb: GlSandbox, fields: Record<string, string>) {
  const r = await fetch(`${sb.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}

/** An OAuth token pair for alice (or `o.username`) through consent and the code grant. */
export async function oauthTokens(sb: GlSandbox, o: OAuthOptions = {}) {
  const code = await authorize(sb, o)
  const app = sb.world.app
  const out = await tokenCall(sb, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: app.redirectUri,
    client_id: app.clientId,
    client_secret: app.secret,
  })
  if (out.status !== 200) throw new Error(`token: ${JSON.stringify(out.json)}`)
  return out.json as { access_token: string; refresh_token: string; scope: string }
}

/** A webhook receiver (the GitHub helper's) with GitLab's event header as the filter. */
export async function glReceiver() {
  const r = await hookReceiver()
  return Object.assign(r, {
    gitlab(event: string) {
      return r.got
        .filter((g) => g.headers['x-gitlab-event'] === event)
        .map((g) => ({
          headers: g.headers,
          body: JSON.parse(g.body.toString('utf8')) as Record<string, unknown>,
        }))
    },
  })
}
