/**
 * The watched-source index and the trigger cache (issue 16 item 4), through the real engine and
 * store: an event considers only the pipelines whose sources watch its ref (a named branch, any
 * branch, a tag, pull requests into a branch) and starts the matching ones; an update's new
 * triggers apply to the next event and its old ones no longer (though the node had the old
 * declaration compiled); a deleted pipeline starts nothing; and with two nodes on one PostgreSQL
 * database, a pipeline created, updated or deleted on one node is what the other node's next
 * event sees (the index is read from the database per event: the bound is the commit).
 *
 * Events are recorded in the store as the engine receives them (a webhook's parsed delivery, as
 * the poller records its findings) so any ref kind can be sent; each names a real commit.
 */
import {
  CreatePipelineCommand,
  DeletePipelineCommand,
  GetPipelineCommand,
  UpdatePipelineCommand,
  type CodePipelineClient,
  type PipelineDeclaration,
} from '@aws-sdk/client-codepipeline'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProviderEvent } from '../../src/providers/provider.js'
import { startSandbox, seedWorld, startWiredJunction, type Sandbox } from '../helpers/bitbucket.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { completeWithToken, newConnection, type ConnectFixture } from '../helpers/connect.js'
import { freshPgSchema, pgUrl, testEngines } from '../helpers/engines.js'
import { iamClient } from '../helpers/iam.js'
import { describeWith, needs } from '../helpers/requirements.js'
import type { TestServer } from '../helpers/server.js'
import {
  declaration,
  pipelineClient,
  pipelineRole,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const ACCOUNT = '000000000000'
type Trigger = NonNullable<PipelineDeclaration['triggers']>[number]['gitConfiguration']
interface Outcome {
  pipeline: string
  started?: string
  reason: string
}

/** Records events on `server` and reads back what the engine made of them. */
function eventsOn(server: () => TestServer, arn: string, sb: () => Sandbox) {
  let n = 0
  let head: string | undefined
  const installation = async () =>
    (await server().store.connections.get(ACCOUNT, arn))!.installationId!
  /** A real commit of acme/app (pull requests resolve theirs through the provider). */
  const commit = async () =>
    (head ??= (
      await sb().admin<{ commit: string }>('repositories/acme/app/commits', {
        branch: 'main',
        message: 'index',
        author: 'alice',
        files: { 'index.txt': 'i\n' },
      })
    ).commit)
  /** Records `event` (on `via`, default `server`) and waits until a node processed it. */
  const send = async (event: ProviderEvent, via = server()): Promise<Outcome[]> => {
    const deliveryId = `index-${randomBytes(6).toString('hex')}-${n++}`
    const r = await via.store.webhooks.recordDelivery({
      webhookId: 'index-test',
      deliveryId,
      eventKind: event.kind,
      event: JSON.stringify({ ...event, deliveryId }),
      receivedAt: Date.now(),
      accountId: ACCOUNT,
      installationId: await installation(),
      repository: 'acme/app',
      triggerSource: 'Webhook',
    })
    expect(r).toBe('recorded')
    via.pipelines.wake()
    return waitFor(`event ${deliveryId}`, async () => {
      const e = (await via.store.pipelines.events.recent(ACCOUNT, 'acme/app', 50)).find(
        (x) => x.deliveryId === deliveryId && x.processedAt !== null,
      )
      return e ? (JSON.parse(e.result!) as Outcome[]) : undefined
    })
  }
  const push = async (kind: 'branch' | 'tag', name: string, via?: TestServer) =>
    send(
      {
        kind: 'push',
        deliveryId: '',
        repository: { fullName: 'acme/app', id: '' },
        changes: [
          {
            kind,
            name,
            after: await commit(),
            created: true,
            deleted: false,
            forced: false,
            commits: [],
          },
        ],
      },
      via,
    )
  const pull = async (destinationBranch: string) =>
    send({
      kind: 'pull_request',
      deliveryId: '',
      repository: { fullName: 'acme/app', id: '' },
      action: 'OPEN',
      merged: false,
      number: 1,
      title: 'index',
      sourceBranch: 'feature/pr',
      destinationBranch,
      sourceCommit: await commit(),
      destinationCommit: await commit(),
    })
  return { push, pull }
}

const considered = (o: Outcome[], prefix: string) =>
  o
    .map((x) => x.pipeline)
    .filter((p) => p.startsWith(prefix))
    .sort()
const started = (o: Outcome[], prefix: string) =>
  o
    .filter((x) => x.started)
    .map((x) => x.pipeline)
    .filter((p) => p.startsWith(prefix))
    .sort()

async function create(
  cp: CodePipelineClient,
  name: string,
  role: string,
  arn: string,
  o: { branch?: string; trigger?: Omit<Trigger, 'sourceActionName'>; detectChanges?: boolean },
) {
  await cp.send(
    new CreatePipelineCommand({
      pipeline: declaration({
        name,
        roleArn: role,
        connectionArn: arn,
        ...(o.branch ? { branch: o.branch } : {}),
        ...(o.detectChanges === false ? { detectChanges: false } : {}),
        ...(o.trigger
          ? {
              triggers: [
                {
                  providerType: 'CodeStarSourceConnection',
                  gitConfiguration: { sourceActionName: 'Source', ...o.trigger },
                },
              ],
            }
          : {}),
      }),
    }),
  )
}

async function retrigger(cp: CodePipelineClient, name: string, branches: string[]) {
  const current = (await cp.send(new GetPipelineCommand({ name }))).pipeline!
  await cp.send(
    new UpdatePipelineCommand({
      pipeline: {
        ...current,
        triggers: [
          {
            providerType: 'CodeStarSourceConnection',
            gitConfiguration: {
              sourceActionName: 'Source',
              push: [{ branches: { includes: branches } }],
            },
          },
        ],
      },
    }),
  )
}

for (const engine of testEngines()) {
  describe(`trigger index [${engine}]`, () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    let ev: ReturnType<typeof eventsOn>
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture(engine))
      ev = eventsOn(
        () => f.server,
        arn,
        () => f.sb,
      )
    })
    afterAll(() => stopPipelineFixture({ f, cp }))

    it('considers only the pipelines watching the event: named branch, any branch, tag, pull request', async () => {
      await create(cp, 'ix-main', role, arn, { branch: 'main' })
      await create(cp, 'ix-other', role, arn, { branch: 'other' })
      await create(cp, 'ix-nodetect', role, arn, { branch: 'main', detectChanges: false })
      await create(cp, 'ix-glob', role, arn, {
        trigger: { push: [{ branches: { includes: ['feat/*'] } }] },
      })
      await create(cp, 'ix-lit', role, arn, {
        trigger: { push: [{ branches: { includes: ['feat/a'], excludes: ['feat/a-*'] } }] },
      })
      await create(cp, 'ix-paths', role, arn, {
        trigger: {
          push: [{ branches: { excludes: ['wip/*'] }, filePaths: { includes: ['nothing/**'] } }],
        },
      })
      await create(cp, 'ix-tag', role, arn, {
        trigger: { push: [{ tags: { includes: ['v1.2'] } }] },
      })
      await create(cp, 'ix-anytag', role, arn, {
        trigger: { push: [{ tags: { excludes: ['x'] } }] },
      })
      await create(cp, 'ix-pr', role, arn, {
        trigger: { pullRequest: [{ events: ['OPEN'], branches: { includes: ['main'] } }] },
      })

      // A named branch: its BranchName and literal watchers, and every any-branch one.
      let o = await ev.push('branch', 'feat/a')
      expect(considered(o, 'ix-')).toEqual(['ix-glob', 'ix-lit', 'ix-paths'])
      expect(started(o, 'ix-')).toEqual(['ix-glob', 'ix-lit'])
      expect(o.find((x) => x.pipeline === 'ix-paths')?.reason).toMatch(/not included by/)

      o = await ev.push('branch', 'main')
      expect(considered(o, 'ix-')).toEqual(['ix-glob', 'ix-main', 'ix-nodetect', 'ix-paths'])
      expect(started(o, 'ix-')).toEqual(['ix-main'])
      expect(o.find((x) => x.pipeline === 'ix-nodetect')?.reason).toMatch(/DetectChanges is false/)
      expect(o.find((x) => x.pipeline === 'ix-glob')?.reason).toMatch(
        /branch 'main' is not included/,
      )

      // A branch nobody names: only the any-branch watchers are looked at.
      o = await ev.push('branch', 'quiet')
      expect(considered(o, 'ix-')).toEqual(['ix-glob', 'ix-paths'])
      expect(started(o, 'ix-')).toEqual([])

      // Tags: the literal and the any-tag watchers, no branch watcher.
      o = await ev.push('tag', 'v1.2')
      expect(considered(o, 'ix-')).toEqual(['ix-anytag', 'ix-tag'])
      expect(started(o, 'ix-')).toEqual(['ix-anytag', 'ix-tag'])
      o = await ev.push('tag', 'v2.0')
      expect(considered(o, 'ix-')).toEqual(['ix-anytag'])
      expect(started(o, 'ix-')).toEqual(['ix-anytag'])

      // Pull requests: the watchers of their destination only.
      o = await ev.pull('main')
      expect(considered(o, 'ix-')).toEqual(['ix-pr'])
      expect(started(o, 'ix-')).toEqual(['ix-pr'])
      o = await ev.pull('develop')
      expect(considered(o, 'ix-')).toEqual([])
    }, 120_000)

    it("applies an update's new triggers to the next event and no longer the old ones; a deleted pipeline starts nothing", async () => {
      await create(cp, 'up-1', role, arn, {
        trigger: { push: [{ branches: { includes: ['one'] } }] },
      })
      // Compiled and cached by this event.
      expect(started(await ev.push('branch', 'one'), 'up-')).toEqual(['up-1'])
      await retrigger(cp, 'up-1', ['two'])
      let o = await ev.push('branch', 'one')
      expect(considered(o, 'up-')).toEqual([])
      o = await ev.push('branch', 'two')
      expect(started(o, 'up-')).toEqual(['up-1'])
      // A glob now: any branch, and the old literal no longer.
      await retrigger(cp, 'up-1', ['t*'])
      expect(started(await ev.push('branch', 'three'), 'up-')).toEqual(['up-1'])
      expect(considered(await ev.push('branch', 'one'), 'up-')).toEqual(['up-1'])
      expect(started(await ev.push('branch', 'one'), 'up-')).toEqual([])

      await cp.send(new DeletePipelineCommand({ name: 'up-1' }))
      o = await ev.push('branch', 'three')
      expect(considered(o, 'up-')).toEqual([])
    }, 120_000)
  })
}

describeWith(needs.postgres)('trigger index on two nodes [postgres]', () => {
  let sb: Sandbox
  const schema = pgUrl ? freshPgSchema() : undefined
  const env = {
    JUNCTION_MASTER_KEY: randomBytes(32).toString('hex'),
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIAINDEXINDEXINDEX0',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
  }
  let a: TestServer
  let b: TestServer
  let cpA: CodePipelineClient
  let cpB: CodePipelineClient
  let arn: string
  let role: string
  let ev: ReturnType<typeof eventsOn>

  beforeAll(async () => {
    sb = await startSandbox()
    const world = await seedWorld(sb)
    // A processes every event; B only answers the API (its engine does not run).
    a = await startWiredJunction('postgres', sb, { database: schema!.url }, { env })
    b = await startWiredJunction(
      'postgres',
      sb,
      { database: schema!.url, 'api-only': true },
      { env },
    )
    cpA = pipelineClient(a.url, a.credentials)
    cpB = pipelineClient(b.url, b.credentials)
    const fa: ConnectFixture = {
      sb,
      world,
      server: a,
      sdk: sdkClient(a.url, a.credentials),
      raw: new RawClient(a.url, a.credentials),
      iam: iamClient(a.url, a.credentials),
    }
    arn = await newConnection(fa)
    await completeWithToken(fa, arn)
    role = await pipelineRole(fa.iam, 'index-role')
    fa.sdk.destroy()
    fa.iam.destroy()
    ev = eventsOn(
      () => a,
      arn,
      () => sb,
    )
  })
  afterAll(async () => {
    cpA?.destroy()
    cpB?.destroy()
    await a?.stop()
    await b?.stop()
    await sb?.stop()
    await schema?.drop()
  })

  it('a pipeline created, updated or deleted on node B is what node A sees at its next event', async () => {
    await create(cpA, 'nd-a', role, arn, {
      trigger: { push: [{ branches: { includes: ['shared'] } }] },
    })
    expect(started(await ev.push('branch', 'shared'), 'nd-')).toEqual(['nd-a'])
    // Created on B, triggered by an event A handles.
    await create(cpB, 'nd-b', role, arn, {
      trigger: { push: [{ branches: { includes: ['shared'] } }] },
    })
    expect(started(await ev.push('branch', 'shared'), 'nd-')).toEqual(['nd-a', 'nd-b'])
    // nd-a, compiled on A, updated on B: A applies the new trigger at once.
    await retrigger(cpB, 'nd-a', ['moved'])
    expect(started(await ev.push('branch', 'shared'), 'nd-')).toEqual(['nd-b'])
    expect(started(await ev.push('branch', 'moved'), 'nd-')).toEqual(['nd-a'])
    // Deleted on B: A starts it no more.
    await cpB.send(new DeletePipelineCommand({ name: 'nd-b' }))
    const o = await ev.push('branch', 'shared')
    expect(considered(o, 'nd-')).toEqual([])
    // And B's engine never ran: every event was A's.
    expect(b.pipelines.running).toBe(false)
  }, 120_000)

  it('considers a pipeline indexed before the index for every event, then indexes it by its triggers', async () => {
    await create(cpB, 'nd-old', role, arn, {
      trigger: { push: [{ branches: { includes: ['old'] } }] },
    })
    expect(considered(await ev.push('branch', 'quiet'), 'nd-old')).toEqual([])
    // Its rows as migration 0010 writes them for pipelines stored before it.
    const name = new URL(schema!.url).searchParams.get('schema')!
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    try {
      await client.query(`delete from ${name}.pipeline_watches where pipeline_name = 'nd-old'`)
      await client.query(
        `insert into ${name}.pipeline_watches (account_id, repository_key, watch_key, pipeline_name, action_name, connection_arn, repository, branch, declaration_digest) select account_id, repository_key, '*', pipeline_name, action_name, connection_arn, repository, branch, '' from ${name}.pipeline_sources where pipeline_name = 'nd-old'`,
      )
    } finally {
      await client.end()
    }
    const o = await ev.push('branch', 'quiet')
    expect(considered(o, 'nd-old')).toEqual(['nd-old'])
    expect(o.find((x) => x.pipeline === 'nd-old')?.reason).toMatch(/not included/)
    // Indexed by that event: the next one passes it by, a push to its branch starts it.
    expect(considered(await ev.push('branch', 'quiet'), 'nd-old')).toEqual([])
    expect(started(await ev.push('branch', 'old'), 'nd-old')).toEqual(['nd-old'])
  }, 120_000)
})
