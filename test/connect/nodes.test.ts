/**
 * Two Junction nodes on one PostgreSQL schema share an installation: when the provider refuses
 * its token, concurrent requests on both nodes cause one refresh between them (the refresh lease),
 * and both nodes go on with the refreshed credential.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import {
  seedWorld,
  startSandbox,
  startWiredJunction,
  type Sandbox,
  type World,
} from '../helpers/bitbucket.js'
import { Browser } from '../helpers/browser.js'
import { RawClient } from '../helpers/client.js'
import { freshPgSchema, pgUrl } from '../helpers/engines.js'
import type { TestServer } from '../helpers/server.js'

describeWith(needs.postgres)('two nodes, one installation [postgres]', () => {
  let sb: Sandbox
  let world: World
  const nodes: TestServer[] = []
  const schema = pgUrl ? freshPgSchema() : undefined
  const env = {
    JUNCTION_MASTER_KEY: randomBytes(32).toString('hex'),
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIANODESNODESNODES0',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
  }
  const credentials = {
    accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
    secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
  }
  let arn: string

  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    for (let i = 0; i < 2; i++)
      nodes.push(await startWiredJunction('postgres', sb, { database: schema!.url }, { env }))
    const a = new RawClient(nodes[0]!.url, credentials)
    const created = await a.call({
      service: 'codestar-connections',
      operation: 'CreateConnection',
      body: { ProviderType: 'Bitbucket', ConnectionName: 'shared' },
    })
    arn = String(created.json['ConnectionArn'])
    // Completed through node 0's pages; the callback goes to node 1's consumer URL, which is fine:
    // both nodes share the handshake in the database.
    const start = await a.call({
      target: 'JunctionConnections_20261128.StartOAuthHandshake',
      service: 'codestar-connections',
      body: { ConnectionArn: arn },
    })
    const b = new Browser()
    const consent = await b.request(String(start.json['AuthorizationUrl']))
    // The start link bound this browser on node 0; a real browser sends the cookie to node 1 too
    // (cookies ignore the port, and real nodes share one public URL), the test browser by host.
    const host = (n: TestServer) => new URL(n.url).host
    b.cookies.set(host(nodes[1]!), new Map(b.cookies.get(host(nodes[0]!))))
    const choice = await b.submit(consent.forms[0]!, {
      username: world.alice.username,
      password: world.alice.password,
      decision: 'grant',
    })
    const done = await b.submit(choice.forms[0]!, { choice: 'target:acme' })
    expect(done.status).toBe(200)
  })
  afterAll(async () => {
    for (const n of nodes) await n.stop()
    await schema?.drop()
    await sb?.stop()
  })

  it('refreshes once across both nodes and serves on both', async () => {
    const stats = async () =>
      (await sb.admin<{ tokenGrants: { refresh_token: number } }>('stats')).tokenGrants
        .refresh_token
    const before = await stats()
    // A slow token endpoint: without the lease both nodes would refresh side by side.
    await sb.admin('settings', { tokenDelayMs: 300 }, 'PUT')
    for (const t of Object.values(sb.state.data.tokens))
      if (t.kind === 'access' && t.username === 'alice') t.expiresAt = Date.now() - 1
    const calls = Array.from({ length: 16 }, (_, i) =>
      new RawClient(nodes[i % 2]!.url, credentials).call({
        target: 'JunctionConnections_20261128.GetBranch',
        service: 'codestar-connections',
        body: { ConnectionArn: arn, FullRepositoryId: 'acme/app', BranchName: 'main' },
      }),
    )
    const results = await Promise.all(calls)
    expect(results.map((r) => r.status)).toEqual(Array(16).fill(200))
    expect((await stats()) - before).toBe(1)
  })
})
