/**
 * GitLab's rotating refresh tokens with two Junction nodes on one PostgreSQL schema: the sandbox
 * clock moves past the access token's lifetime, GitLab refuses it, and concurrent requests on both
 * nodes cause exactly one refresh at the sandbox (the refresh lease); both nodes serve with the
 * new token and the connection stays AVAILABLE. Then a refresh token used twice: node B's clock
 * runs past node A's lease (as when a lease lapses mid-refresh), so both nodes refresh with the
 * same refresh token; GitLab rotates it for one and refuses the other, whose node reads back what
 * the winner stored: both requests succeed and the connection stays AVAILABLE.
 */
import { randomBytes } from 'node:crypto'
import { GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import pg from 'pg'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { RawClient, sdkClient } from '../helpers/client.js'
import { freshPgSchema, pgUrl } from '../helpers/engines.js'
import { oauthTokens, startGlSandbox, type GlSandbox } from '../helpers/gitlab-sandbox.js'
import { describeWith, needs } from '../helpers/requirements.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

describeWith(needs.postgres)('GitLab refresh rotation on two nodes [postgres]', () => {
  let gl: GlSandbox
  const nodes: TestServer[] = []
  const schema = pgUrl ? freshPgSchema() : undefined
  const env = {
    JUNCTION_MASTER_KEY: randomBytes(32).toString('hex'),
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIAGITLABNODESNODE0',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
  }
  const credentials = {
    accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
    secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
  }
  let arn: string
  /** Node B's clock runs this far ahead (0 until the second case). */
  let skew = 0
  let installationId: string

  beforeAll(async () => {
    gl = await startGlSandbox()
    const flags = {
      database: schema!.url,
      'gitlab-url': gl.url,
      'gitlab-api-url': gl.apiUrl,
      'gitlab-client-id': gl.world.app.clientId,
      'gitlab-client-secret': gl.world.app.secret,
      metrics: true,
    }
    nodes.push(await startTestServer('postgres', flags, env))
    nodes.push(await startTestServer('postgres', flags, env, { clock: () => Date.now() + skew }))
    const a = new RawClient(nodes[0]!.url, credentials)
    const created = await a.call({
      service: 'codestar-connections',
      operation: 'CreateConnection',
      body: { ProviderType: 'GitLab', ConnectionName: 'shared-gl' },
    })
    arn = String(created.json['ConnectionArn'])
    // alice's OAuth tokens for the application Junction is configured with, handed over.
    const t = await oauthTokens(gl)
    const done = await a.call({
      target: 'JunctionConnections_20261128.CompleteConnection',
      service: 'codestar-connections',
      body: {
        ConnectionArn: arn,
        Workspace: 'acme/platform',
        TokenType: 'OAuth',
        AccessToken: t.access_token,
        RefreshToken: t.refresh_token,
        ExpiresIn: 7200,
      },
    })
    expect(done.status, done.text).toBe(200)
    installationId = String(
      (done.json['Installation'] as { InstallationId: string }).InstallationId,
    )
  }, 60_000)
  afterAll(async () => {
    for (const n of nodes) await n.stop()
    await schema?.drop()
    await gl?.stop()
  })

  /** Junction's refreshes at the provider on both nodes, by outcome (its own metrics). */
  const refreshes = async (outcome: string) => {
    let n = 0
    for (const node of nodes) {
      const m = await node
        .metrics!.registry.getSingleMetric('junction_credential_refreshes_total')!
        .get()
      for (const v of m.values) if (v.labels['outcome'] === outcome) n += v.value
    }
    return n
  }
  const issued = async () => (await gl.admin<{ tokensIssued: number }>('stats')).tokensIssued
  const branch = (node: TestServer) =>
    new RawClient(node.url, credentials).call({
      target: 'JunctionConnections_20261128.GetBranch',
      service: 'codestar-connections',
      body: { ConnectionArn: arn, FullRepositoryId: 'acme/platform/api', BranchName: 'main' },
    })
  const connectionStatus = async () => {
    const sdk = sdkClient(nodes[0]!.url, credentials)
    try {
      return (await sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!
        .ConnectionStatus
    } finally {
      sdk.destroy()
    }
  }
  const installationStatus = async () =>
    (await nodes[1]!.store.installations.get('000000000000', installationId))?.status

  it('refreshes once at the sandbox for concurrent requests on both nodes', async () => {
    expect((await branch(nodes[0]!)).status).toBe(200)
    const before = await issued()
    // The sandbox's clock moves past the token's 2 hours: GitLab refuses it (Junction's clock
    // still thinks it valid, so the refusal is what triggers the refresh).
    await gl.admin('clock', { advanceSeconds: 7300 })
    await gl.admin('settings', { tokenDelayMs: 300 }, 'PUT')
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => branch(nodes[i % 2]!)))
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200))
    expect(results.map((r) => r.json['CommitId'])).toEqual(Array(12).fill(gl.world.commits.second))
    expect((await issued()) - before).toBe(1)
    expect(await refreshes('success')).toBe(1)
    expect(await connectionStatus()).toBe('AVAILABLE')
    expect(await installationStatus()).toBe('AVAILABLE')
  })

  it('a refresh token used twice (a lapsed lease) leaves both nodes working', async () => {
    const before = await issued()
    const failedBefore = await refreshes('failure')
    await gl.admin('clock', { advanceSeconds: 7300 })
    // A slow token endpoint, and node B's clock past any lease node A takes now.
    await gl.admin('settings', { tokenDelayMs: 1500 }, 'PUT')
    skew = 31_000
    const client = new pg.Client({ connectionString: pgUrl! })
    await client.connect()
    try {
      const first = branch(nodes[0]!)
      // Barrier: node A holds the refresh lease (its refresh is at the sandbox).
      const table = `"${new URL(schema!.url).searchParams.get('schema')}".installations`
      await vi.waitFor(
        async () => {
          const r = await client.query<{ refresh_lease_until: unknown }>(
            `select refresh_lease_until from ${table} where id = $1`,
            [installationId],
          )
          expect(r.rows[0]?.refresh_lease_until).toBeTruthy()
        },
        { timeout: 10_000, interval: 20 },
      )
      const second = branch(nodes[1]!)
      const [a, b] = await Promise.all([first, second])
      expect([a.status, b.status], `${a.text} ${b.text}`).toEqual([200, 200])
    } finally {
      skew = 0
      await client.end()
      await gl.admin('settings', { tokenDelayMs: null }, 'PUT')
    }
    // One of the two refreshes won; the other's refresh token had been rotated away (GitLab
    // refused it: one failed refresh, read back instead of breaking the connection).
    expect((await issued()) - before).toBe(1)
    expect((await refreshes('failure')) - failedBefore).toBe(1)
    expect(await connectionStatus()).toBe('AVAILABLE')
    expect(await installationStatus()).toBe('AVAILABLE')
    expect((await branch(nodes[0]!)).status).toBe(200)
    expect((await branch(nodes[1]!)).status).toBe(200)
  })
})
