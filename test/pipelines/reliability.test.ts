/**
 * Never lose or double a change: a node killed with SIGKILL after accepting a webhook and before
 * starting the execution starts it exactly once after restart; a node that died after starting
 * executions but before marking the event processed causes no second execution; a burst of 1,000
 * pushes (some delivered twice) starts every matching execution once and nothing else.
 */
import { randomBytes } from 'node:crypto'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreatePipelineCommand, type CodePipelineClient } from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MasterKey } from '../../src/crypto/master-key.js'
import type { PushEvent } from '../../src/providers/provider.js'
import { type ConnectFixture } from '../helpers/connect.js'
import { seedWorld, startSandbox, type Sandbox, type World } from '../helpers/bitbucket.js'
import { testEngines } from '../helpers/engines.js'
import { spawnServe, type ServeProcess } from '../helpers/process.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { iamClient } from '../helpers/iam.js'
import {
  declaration,
  startPipelineFixture,
  stopPipelineFixture,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  waitFor,
} from '../helpers/pipelines.js'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'

const ACCOUNT = '000000000000'
const FIXTURE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'fixtures',
  'webhooks',
  'bitbucket',
  'repo-push.json',
)

async function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolvePort(port))
    })
  })
}

describe('SIGKILL between accepting a webhook and starting the execution', () => {
  let sb: Sandbox
  let world: World
  let node: ServeProcess | undefined
  const dataDir = mkdtempSync(join(tmpdir(), 'junction-kill-'))
  const env = {
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIAKILLKILLKILLKILL',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
  }
  const credentials = {
    accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
    secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
  }
  let port: number
  const start = (extra: string[] = []) =>
    spawnServe(
      [
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--bitbucket-url',
        sb.url,
        '--work-lease',
        '2',
        ...extra,
      ],
      env,
    )
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    port = await freePort()
  })
  afterAll(async () => {
    node?.child.kill('SIGKILL')
    await sb?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('starts the execution exactly once after restart', async () => {
    node = await start()
    const raw = new RawClient(node.url, credentials)
    const sdk = sdkClient(node.url, credentials)
    const iam = iamClient(node.url, credentials)
    const cp = pipelineClient(node.url, credentials)
    const { ConnectionArn: arn } = await sdk.send(
      new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'kill' }),
    )
    const done = await raw.call({
      target: 'JunctionConnections_20261128.CompleteConnection',
      service: 'codestar-connections',
      body: { ConnectionArn: arn, Workspace: 'acme', AccessToken: world.acmeToken },
    })
    expect(done.status, done.text).toBe(200)
    const role = await pipelineRole(iam, 'pipeline-role')
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({ name: 'kill', roleArn: role, connectionArn: arn! }),
      }),
    )
    await waitFor('the webhook', async () =>
      (await sb.admin<{ hooks: unknown[] }>('hooks')).hooks.length === 1 ? true : undefined,
    )
    // Restart as an API-only node: it accepts deliveries but starts nothing.
    node.child.kill('SIGTERM')
    await node.exited
    node = await start(['--api-only'])
    const pushed = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'main',
      message: 'pushed while the node dies',
      author: 'alice',
      files: { 'kill.txt': 'x\n' },
    })
    const delivery = await waitFor('the accepted delivery', async () => {
      const d = (await sb.admin<{ deliveries: { status: number }[] }>('deliveries')).deliveries
      return d.at(-1)?.status === 202 ? d.at(-1) : undefined
    })
    expect(delivery.status).toBe(202)
    node.child.kill('SIGKILL')
    await node.exited
    node = await start()
    const cp2 = pipelineClient(node.url, credentials)
    const started = await waitFor('the execution', async () => {
      const e = (await executions(cp2, 'kill')).filter((x) => x.trigger?.triggerType === 'Webhook')
      return e.length > 0 ? e : undefined
    })
    const run = await finished(cp2, 'kill', started[0]!.pipelineExecutionId!)
    expect(run.artifactRevisions![0]!.revisionId).toBe(pushed.commit)
    // A later push is the barrier: events are processed in order, so once its execution exists
    // the first delivery (and any second processing of it) is over.
    const marker = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'main',
      message: 'marker',
      author: 'alice',
      files: { 'marker.txt': 'm\n' },
    })
    await waitFor('the marker execution', async () =>
      (await executions(cp2, 'kill')).some(
        (e) => e.sourceRevisions?.[0]?.revisionId === marker.commit,
      )
        ? true
        : undefined,
    )
    const all = (await executions(cp2, 'kill')).filter(
      (x) =>
        x.trigger?.triggerType === 'Webhook' &&
        x.sourceRevisions?.[0]?.revisionId === pushed.commit,
    )
    expect(all).toHaveLength(1)
    for (const c of [raw, sdk, iam, cp, cp2]) (c as { destroy?: () => void }).destroy?.()
  }, 90_000)
})

for (const engine of testEngines()) {
  describe(`exactly once [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine, { 'work-lease': '1' }))
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    it('a node that died after starting, before marking the event done, causes no second start', async () => {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'once',
            roleArn: role,
            connectionArn: arn,
            executionMode: 'PARALLEL',
          }),
        }),
      )
      await waitFor('the webhook', async () =>
        (await f.server.store.webhooks.all()).length === 1 ? true : undefined,
      )
      const conn = await f.server.store.connections.get(ACCOUNT, arn)
      // Stop this node's worker and play the dead node by hand, on the real store.
      await f.server.pipelines.stop()
      const event: PushEvent = {
        kind: 'push',
        deliveryId: 'dead-node-1',
        repository: { fullName: 'acme/app', id: '' },
        changes: [
          {
            kind: 'branch',
            name: 'main',
            before: f.world.commits.first,
            after: f.world.commits.second,
            created: false,
            deleted: false,
            forced: false,
            commits: [],
          },
        ],
      }
      await f.server.store.webhooks.recordDelivery({
        webhookId: (await f.server.store.webhooks.all())[0]!.id,
        deliveryId: event.deliveryId,
        eventKind: 'push',
        event: JSON.stringify(event),
        receivedAt: Date.now(),
        accountId: ACCOUNT,
        installationId: conn!.installationId!,
        repository: 'acme/app',
        triggerSource: 'Webhook',
      })
      const [taken] = await f.server.store.pipelines.events.claim(
        'dead',
        Date.now(),
        Date.now() + 500,
        5,
      )
      expect(taken).toBeDefined()
      const pipeline = (await f.server.store.pipelines.get(ACCOUNT, 'once'))!
      const first = await f.server.pipelines.startExecution({
        accountId: ACCOUNT,
        pipeline,
        triggerType: 'Webhook',
        triggerDetail: 'the dead node',
        sourceRevisions: {
          Source: { revisionType: 'COMMIT_ID', revisionValue: f.world.commits.second, ref: 'main' },
        },
        variables: {},
        dedupeKey: `event:${taken!.seq}:once`,
      })
      expect(first.created).toBe(true)
      // The "dead" node never marks the event done; a live worker takes it after the lease.
      f.server.pipelines.run()
      const processed = await waitFor('the event to be processed', async () => {
        const e = (await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 5)).find(
          (x) => x.seq === taken!.seq,
        )
        return e?.processedAt ? e : undefined
      })
      const outcome = JSON.parse(processed.result!) as { pipeline: string; started?: string }[]
      expect(outcome.find((o) => o.pipeline === 'once')!.started).toBe(first.id)
      const runs = (await executions(cp, 'once')).filter(
        (x) => x.trigger?.triggerType === 'Webhook',
      )
      expect(runs.map((r) => r.pipelineExecutionId)).toEqual([first.id])
    })

    it('closes an event that keeps failing (the provider down) with the reason, after five tries', async () => {
      await cp.send(
        new CreatePipelineCommand({
          pipeline: declaration({
            name: 'paths',
            roleArn: role,
            connectionArn: arn,
            triggers: [
              {
                providerType: 'CodeStarSourceConnection',
                gitConfiguration: {
                  sourceActionName: 'Source',
                  push: [{ branches: { includes: ['main'] }, filePaths: { includes: ['src/**'] } }],
                },
              },
            ],
          }),
        }),
      )
      await waitFor('the first run', async () =>
        (await executions(cp, 'paths')).length ? true : undefined,
      )
      const pushed = await f.sb.admin<{ commit: string }>('repositories/acme/app/commits', {
        branch: 'main',
        message: 'while Bitbucket is down',
        author: 'alice',
        files: { 'src/down.c': 'x\n' },
      })
      // Every diff request now fails: the event cannot be decided.
      await f.sb.admin('failures', { count: 100_000, status: 503 })
      try {
        const closed = await waitFor(
          'the event to be given up',
          async () => {
            const e = (await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', 5)).find(
              (x) => x.event.includes(pushed.commit),
            )
            return e?.processedAt ? e : undefined
          },
          60_000,
        )
        expect(closed.result).toMatch(/not processed after 5 attempts: .*503/)
      } finally {
        await f.sb.admin('failures', { count: 0, status: 503 })
      }
    }, 90_000)

    it('a burst of 1,000 pushes, 100 of them delivered twice: every match started once, nothing else', async () => {
      const mk = (name: string, branches: string) =>
        cp.send(
          new CreatePipelineCommand({
            pipeline: declaration({
              name,
              roleArn: role,
              connectionArn: arn,
              triggers: [
                {
                  providerType: 'CodeStarSourceConnection',
                  gitConfiguration: {
                    sourceActionName: 'Source',
                    push: [{ branches: { includes: [branches] } }],
                  },
                },
              ],
              executionMode: 'SUPERSEDED',
            }),
          }),
        )
      await mk('burst', 'burst/**')
      await mk('other', 'other/**')
      const w = (await f.server.store.webhooks.all())[0]!
      const key = MasterKey.load(f.server.dataDir, {})
      const secret = (JSON.parse(key.decrypt(w.secretCiphertext)) as { accessToken: string })
        .accessToken
      const template = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
        repository: { full_name: string }
        push: {
          changes: {
            new: { name: string; target: { hash: string } }
            old: unknown
            created: boolean
          }[]
        }
      }
      template.repository.full_name = 'acme/app'
      const send = async (i: number, uuid: string) => {
        const p = structuredClone(template)
        const c = p.push.changes[0]!
        c.new.name = `burst/${i}`
        c.new.target.hash = createHmac('sha1', 'burst').update(String(i)).digest('hex')
        c.old = null
        c.created = true
        p.push.changes = [c]
        const body = Buffer.from(JSON.stringify(p))
        const r = await fetch(`${f.server.url}/webhooks/${w.id}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-event-key': 'repo:push',
            'x-request-uuid': uuid,
            'x-hub-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          },
          body,
        })
        await r.body?.cancel()
        return r.status
      }
      const N = 1000
      const statuses: number[] = []
      const jobs = Array.from({ length: N }, (_, i) => i)
      // The first 100 again (a provider retry): acknowledged, not recorded.
      jobs.push(...Array.from({ length: 100 }, (_, i) => i))
      let next = 0
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < jobs.length) {
            const i = jobs[next++]!
            statuses.push(await send(i, `burst-${i}`))
          }
        }),
      )
      expect(statuses.filter((s) => s === 202)).toHaveLength(N)
      expect(statuses.filter((s) => s === 200)).toHaveLength(100)
      const seen = await waitFor(
        'every burst event to be processed',
        async () => {
          const recent = await f.server.store.pipelines.events.recent(ACCOUNT, 'acme/app', N + 50)
          const burst = recent.filter((r) => r.deliveryId.startsWith('burst-'))
          return burst.length === N && burst.every((r) => r.processedAt !== null)
            ? burst
            : undefined
        },
        120_000,
      )
      const startedByEvent = seen.map(
        (e) => JSON.parse(e.result!) as { pipeline: string; started?: string }[],
      )
      expect(startedByEvent.every((o) => o.filter((x) => x.started).length === 1)).toBe(true)
      expect(
        startedByEvent.every((o) => o.find((x) => x.pipeline === 'other')?.started === undefined),
      ).toBe(true)
      const all: { triggerDetail: string }[] = []
      let before = Number.MAX_SAFE_INTEGER
      for (;;) {
        const page = await f.server.store.pipelines.executions.list(ACCOUNT, 'burst', before, 500)
        if (page.length === 0) break
        all.push(...page)
        before = (page.at(-1) as { seq: number }).seq
      }
      const fromBurst = all.filter((e) => e.triggerDetail.includes('burst/'))
      expect(fromBurst).toHaveLength(N)
      expect(new Set(fromBurst.map((e) => e.triggerDetail)).size).toBe(N)
      expect(
        (
          await f.server.store.pipelines.executions.list(
            ACCOUNT,
            'other',
            Number.MAX_SAFE_INTEGER,
            10,
          )
        ).filter((e) => e.triggerType !== 'CreatePipeline'),
      ).toHaveLength(0)
    }, 180_000)
  })
}
