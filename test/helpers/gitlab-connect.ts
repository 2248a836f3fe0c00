/**
 * Junction wired to a seeded sandbox GitLab (gitlab.com mode, or self-managed for hosts): the
 * sandbox's OAuth application "Junction" registered with Junction's own callback (Junction is
 * started on a port chosen beforehand, so the application's redirect URI names it), clients for
 * the AWS API and Junction's own operations, and the browser half of the OAuth handshake.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import {
  CreateConnectionCommand,
  type CodeStarConnectionsClient,
} from '@aws-sdk/client-codestar-connections'
import pg from 'pg'
import { expect } from 'vitest'
import type { Logger } from 'pino'
import type { ServeFlags } from '../../src/config.js'
import { Browser, type Page } from './browser.js'
import { RawClient, sdkClient, type Credentials, type RawResponse } from './client.js'
import type { Engine } from './engines.js'
import { startGlSandbox, type GlSandbox } from './gitlab-sandbox.js'
import { BIN } from './process.js'
import { startTestServer, type TestServer } from './server.js'

export const run = promisify(execFile)

export interface GlConnectFixture {
  gl: GlSandbox
  server: TestServer
  sdk: CodeStarConnectionsClient
  raw: RawClient
  /** The OAuth application Junction was configured with (redirect: Junction's callback). */
  app: { clientId: string; secret: string }
}

/** A loopback port free right now (Junction listens on it next). */
export async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((ok) => s.close(() => ok()))
  return port
}

/** Registers an OAuth application on the sandbox whose callback is Junction's at `junctionUrl`. */
export async function registerApp(
  gl: GlSandbox,
  junctionUrl: string,
): Promise<{ clientId: string; secret: string }> {
  const a = await gl.admin<{ application_id: string; secret: string }>('applications', {
    name: `Junction ${junctionUrl}`,
    redirectUri: `${junctionUrl}/oauth/gitlab/callback`,
    scopes: ['api', 'read_user', 'read_repository', 'write_repository'],
  })
  return { clientId: a.application_id, secret: a.secret }
}

export async function startGlConnect(
  engine: Engine,
  o: {
    selfManaged?: boolean
    flags?: ServeFlags
    /** Configure the gitlab.com OAuth application by flags (default true). */
    withApp?: boolean
    logger?: Logger
    database?: string
  } = {},
): Promise<GlConnectFixture> {
  const gl = await startGlSandbox({ selfManaged: o.selfManaged ?? false })
  const port = await freePort()
  const app = await registerApp(gl, `http://127.0.0.1:${port}`)
  const server = await startTestServer(
    engine,
    {
      port: String(port),
      'gitlab-url': gl.url,
      'gitlab-api-url': gl.apiUrl,
      ...(o.withApp === false
        ? {}
        : { 'gitlab-client-id': app.clientId, 'gitlab-client-secret': app.secret }),
      ...(o.database ? { database: o.database } : {}),
      ...o.flags,
    },
    {},
    o.logger ? { logger: o.logger } : {},
  )
  return {
    gl,
    server,
    app,
    sdk: sdkClient(server.url, server.credentials),
    raw: new RawClient(server.url, server.credentials),
  }
}

export async function stopGlConnect(f: GlConnectFixture | undefined): Promise<void> {
  f?.sdk.destroy()
  await f?.server.stop()
  await f?.gl.stop()
}

/** One of Junction's own operations. */
export function glExt(
  f: { raw: RawClient },
  operation: string,
  body: Record<string, unknown>,
  credentials?: Credentials,
): Promise<RawResponse> {
  return f.raw.call({
    target: `JunctionConnections_20261128.${operation}`,
    service: 'codestar-connections',
    body,
    ...(credentials ? { credentials } : {}),
  })
}

let n = 0
export async function newGlConnection(
  f: { sdk: CodeStarConnectionsClient },
  o: { name?: string; hostArn?: string } = {},
): Promise<string> {
  const r = await f.sdk.send(
    new CreateConnectionCommand({
      ProviderType: o.hostArn ? 'GitLabSelfManaged' : 'GitLab',
      ConnectionName: o.name ?? `gl-${++n}-${Date.now() % 100000}`,
      ...(o.hostArn ? { HostArn: o.hostArn } : {}),
    }),
  )
  return r.ConnectionArn!
}

/**
 * The browser half: StartOAuthHandshake's link → Junction's begin → the sandbox's consent page
 * (signed in as `user`, granted) → Junction's callback and its choice page.
 */
export async function glHandshakeToChoice(
  f: GlConnectFixture,
  arn: string,
  user: { username: string; password: string },
  browser = new Browser(),
): Promise<{ choice: Page; b: Browser; consentUrl: URL }> {
  const start = await glExt(f, 'StartOAuthHandshake', { ConnectionArn: arn })
  expect(start.status, start.text).toBe(200)
  const consent = await browser.request(String(start.json['AuthorizationUrl']))
  expect(consent.status, consent.html).toBe(200)
  const consentUrl = new URL(consent.url)
  const form = consent.forms.find((x) => x.options.get('decision'))!
  expect(form.options.get('decision')).toContain('grant')
  const choice = await browser.submit(form, {
    username: user.username,
    password: user.password,
    decision: 'grant',
  })
  return { choice, b: browser, consentUrl }
}

/** Completes a connection without a browser (CompleteConnection with a GitLab token). */
export function completeGl(
  f: { raw: RawClient },
  arn: string,
  body: Record<string, unknown>,
): Promise<RawResponse> {
  return glExt(f, 'CompleteConnection', { ConnectionArn: arn, ...body })
}

/** The names of ListRepositories' answer, sorted. */
export function repoNames(r: RawResponse): string[] {
  expect(r.status, r.text).toBe(200)
  return (r.json['Repositories'] as { FullRepositoryId: string }[])
    .map((x) => x.FullRepositoryId)
    .sort()
}

/** Clones through GetCloneCredentials' answer; the cloned HEAD's commit. */
export async function cloneWith(r: RawResponse, dir: string): Promise<string> {
  expect(r.status, r.text).toBe(200)
  const u = new URL(String(r.json['CloneUrl']))
  u.username = String(r.json['Username'])
  u.password = String(r.json['Password'])
  await run('git', ['clone', '-q', u.toString(), dir], {
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
  })
  return (await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim()
}

/** Every byte of the store as text: the SQLite file (and WAL), or every row of the schema. */
export async function databaseText(server: TestServer): Promise<string> {
  if (server.engine === 'sqlite')
    return [server.database, `${server.database}-wal`]
      .filter(existsSync)
      .map((p) => readFileSync(p).toString('latin1'))
      .join('\n')
  const url = new URL(server.database)
  const schema = url.searchParams.get('schema')!
  url.searchParams.delete('schema')
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    const tables = await client.query<{ table_name: string }>(
      'select table_name from information_schema.tables where table_schema = $1',
      [schema],
    )
    let text = ''
    for (const t of tables.rows) {
      const rows = await client.query(`select t::text as row from "${schema}"."${t.table_name}" t`)
      text += rows.rows.map((r: { row: string }) => r.row).join('\n')
    }
    return text
  } finally {
    await client.end()
  }
}

/** The built `junction` bin with the server's root credentials in the environment. */
export function junctionCli(
  server: TestServer,
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--endpoint-url', server.url], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
        AWS_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin)
  })
}
