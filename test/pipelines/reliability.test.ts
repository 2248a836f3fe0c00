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
import { openStore } from '../../src/store/index.js'
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
  const start = (extra: string[] = [], extraEnv: NodeJS.ProcessEnv = {}) =>
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
      { ...env, ...extraEnv },
    )
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
    port = await freePort()
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
    for (const c of [raw, sdk, iam, cp]) (c as { destroy?: () => void }).destroy?.()
  }, 60_000)
  afterAll(async () => {
    node?.child.kill('SIGKILL')
    await sb?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  /** The webhook executions of pipeline `kill` of a commit. */
  const runsOf = async (cp: CodePipelineClient, commit: string) =>
    (await executions(cp, 'kill')).filter(
      (x) =>
        ['Webhook', 'WebhookV2'].includes(x.trigger?.triggerType ?? '') &&
        x.sourceRevisions?.[0]?.revisionId === commit,
    )

  it('starts the execution exactly once after restart', async () => {
    // Restart as an API-only node: it accepts deliveries but starts nothing.
    node!.child.kill('SIGTERM')
    await node!.exited
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
    cp2.destroy()
  }, 90_000)

  it('a node killed after starting an event’s execution, before marking it processed, causes no second start', async () => {
    // A node armed to die by SIGKILL right after an event started its executions and before the
    // event is marked processed (the test-only crash point of src/test-hooks.ts).
    node!.child.kill('SIGTERM')
    await node!.exited
    const dying = await start([], {
      NODE_ENV: 'test',
      JUNCTION_TEST_CRASH_AT: 'event-started-before-done',
    })
    node = dying
    const pushed = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'main',
      message: 'started, then the node dies',
      author: 'alice',
      files: { 'crash.txt': 'x\n' },
    })
    expect(await dying.exited).toBeNull() // a signal, not an exit
    expect(dying.stderr()).toContain('crashing at event-started-before-done')
    const crashedAt = Date.now()
    // The dead node left its event unprocessed (taken, its lease running out).
    const events = async () => {
      const store = await openStore(join(dataDir, 'junction.db'))
      try {
        return await store.pipelines.events.recent(ACCOUNT, 'acme/app', 10)
      } finally {
        await store.close()
      }
    }
    const pending = (await events()).filter((e) => e.processedAt === null)
    expect(pending).toHaveLength(1)
    const seq = pending[0]!.seq
    node = await start()
    const cp = pipelineClient(node.url, credentials)
    // The barrier: a later push, once the dead node's lease (2 s) has run out. One node takes
    // events oldest first, one at a time, so once the marker's execution exists the dead node's
    // event has been processed again.
    await new Promise((r) => setTimeout(r, Math.max(0, crashedAt + 3_000 - Date.now())))
    const marker = await sb.admin<{ commit: string }>('repositories/acme/app/commits', {
      branch: 'main',
      message: 'marker after the crash',
      author: 'alice',
      files: { 'marker.txt': 'after the crash\n' },
    })
    await waitFor('the marker execution', async () =>
      (await runsOf(cp, marker.commit)).length ? true : undefined,
    )
    // One execution of the commit: the dead node's, taken over and finished by the live one.
    const runs = await runsOf(cp, pushed.commit)
    expect(runs).toHaveLength(1)
    const run = await finished(cp, 'kill', runs[0]!.pipelineExecutionId!)
    // (Its Build fails: this node runs no Commands builds; the source is what matters.)
    expect(run.artifactRevisions![0]!.revisionId).toBe(pushed.commit)
    expect(await runsOf(cp, pushed.commit)).toHaveLength(1)
    cp.destroy()
    // The event is processed now, its outcome naming that one execution.
    node.child.kill('SIGTERM')
    await node.exited
    const event = (await events()).find((e) => e.seq === seq)!
    expect(event.processedAt).not.toBeNull()
    const outcome = JSON.parse(event.result!) as { pipeline: string; started?: string }[]
    expect(outcome.find((o) => o.pipeline === 'kill')?.started).toBe(runs[0]!.pipelineExecutionId)
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
