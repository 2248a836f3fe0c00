/**
 * A sandbox Bitbucket on a random loopback port with a small world in it, and a Junction wired to
 * it (the consumer's callback points at the Junction once its port is known).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBitbucketSandbox, type BitbucketSandbox } from '../../src/sandbox/bitbucket/server.js'
import type { Logger } from 'pino'
import type { ServeFlags } from '../../src/config.js'
import { BitbucketProvider } from '../../src/providers/bitbucket/bitbucket-provider.js'
import type { ProviderCredentials } from '../../src/providers/provider.js'
import { expect } from 'vitest'
import type { Engine } from './engines.js'
import { startTestServer, type TestServer } from './server.js'

export interface Sandbox extends BitbucketSandbox {
  dataDir: string
  admin<T = Record<string, unknown>>(path: string, body?: unknown, method?: string): Promise<T>
  stop(): Promise<void>
}

export async function startSandbox(): Promise<Sandbox> {
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-sbx-'))
  const sb = await startBitbucketSandbox({
    port: 0,
    dataDir,
    consumer: { key: 'junction', callbackUrl: 'http://127.0.0.1:1/oauth/bitbucket/callback' },
  })
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

export interface World {
  /** Admin of acme and rival. */
  alice: { username: string; password: string }
  /** Member (not admin) of acme. */
  bob: { username: string; password: string }
  /** A workspace access token of acme. */
  acmeToken: string
  /** A workspace access token of rival. */
  rivalToken: string
  /** Commit ids on acme/app main: the initial commit and a second one. */
  commits: { first: string; second: string }
}

/** alice admins acme and rival; bob is a member of acme; acme/app has two commits. */
export async function seedWorld(sb: Sandbox): Promise<World> {
  await sb.admin('users', {
    username: 'alice',
    password: 'alice-pw',
    displayName: 'Alice A',
    email: 'alice@example.com',
  })
  await sb.admin('users', { username: 'bob', password: 'bob-pw' })
  await sb.admin('workspaces', {
    slug: 'acme',
    name: 'Acme Corp',
    admins: ['alice'],
    members: ['bob'],
  })
  await sb.admin('workspaces', { slug: 'rival', name: 'Rival Inc', admins: ['alice'] })
  const app = await sb.admin<{ head: string }>('repositories', {
    workspace: 'acme',
    slug: 'app',
    files: {
      'README.md': '# app\n',
      'src/main.c': 'int main(){return 0;}\n',
      'docs/old.md': 'old\n',
    },
  })
  await sb.admin('repositories', { workspace: 'acme', slug: 'lib', files: { 'lib.txt': 'lib\n' } })
  await sb.admin('repositories', { workspace: 'rival', slug: 'secret', files: { 'x.txt': 'x\n' } })
  const second = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
    branch: 'main',
    message: 'Second commit\n\nWith a body.',
    author: 'alice',
    files: {
      'src/main.c': 'int main(){return 1;}\n',
      'src/new.c': 'void f(){}\n',
      'docs/old.md': null,
    },
  })
  const acme = await sb.admin<{ token: string }>('access-tokens', { workspace: 'acme' })
  const rival = await sb.admin<{ token: string }>('access-tokens', { workspace: 'rival' })
  return {
    alice: { username: 'alice', password: 'alice-pw' },
    bob: { username: 'bob', password: 'bob-pw' },
    acmeToken: acme.token,
    rivalToken: rival.token,
    commits: { first: app.head, second: second.commit },
  }
}

/** Junction wired to the sandbox, with the sandbox's consumer calling back to it. */
export async function startWiredJunction(
  engine: Engine,
  sb: Sandbox,
  flags: ServeFlags = {},
  opts: { logger?: Logger; env?: NodeJS.ProcessEnv; clock?: () => number } = {},
): Promise<TestServer> {
  const server = await startTestServer(
    engine,
    {
      'bitbucket-url': sb.url,
      'bitbucket-client-id': sb.consumer!.key,
      'bitbucket-client-secret': sb.consumer!.secret,
      ...flags,
    },
    opts.env ?? {},
    {
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    },
  )
  await sb.admin('consumers', {
    key: sb.consumer!.key,
    secret: sb.consumer!.secret,
    callbackUrl: `${server.url}/oauth/bitbucket/callback`,
  })
  return server
}

/** Drives the sandbox's consent form for `user` and exchanges the code. */
export async function oauthCredentials(
  sb: Sandbox,
  provider: BitbucketProvider,
  user: { username: string; password: string },
): Promise<ProviderCredentials> {
  const consent = provider.authorizationUrl('st')
  const res = await fetch(`${sb.url}/site/oauth2/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: consent.searchParams.get('client_id')!,
      response_type: 'code',
      state: 'st',
      username: user.username,
      password: user.password,
      decision: 'grant',
    }),
  })
  const back = new URL(res.headers.get('location')!)
  expect(back.searchParams.get('state')).toBe('st')
  return provider.exchangeCode(back.searchParams.get('code')!)
}

/** The Bitbucket adapter aimed at the sandbox, with the sandbox's OAuth consumer (fast retries). */
export function sandboxProvider(sb: BitbucketSandbox): BitbucketProvider {
  return new BitbucketProvider({
    endpoints: { webUrl: sb.url, apiUrl: sb.apiUrl },
    app: {
      clientId: sb.consumer!.key,
      clientSecret: sb.consumer!.secret,
      callbackUrl: 'http://127.0.0.1:1/cb',
    },
    http: { baseDelayMs: 5 },
  })
}
