/**
 * The store's dedupe and lease logic on SQLite, called directly (no engine, no server): what the
 * pipelines engine relies on for "each delivery starts a pipeline once" and "each execution and
 * each queued delivery is worked on by one node at a time". Also the focused test set of the
 * mutation run over these queries (docs/mutation-testing.md).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ActionExecutionRecord, NewExecution } from '../../src/store/pipeline-store.js'
import type { SqlStore } from '../../src/store/sql/sql-store.js'
import { openSqliteStore } from '../../src/store/sqlite.js'

const A = '111122223333'
const HOOK = 'a'.repeat(32)

let store: SqlStore
beforeEach(async () => {
  store = await openSqliteStore(':memory:')
})
afterEach(() => store.close())

const execution = (id: string, over: Partial<NewExecution> = {}): NewExecution => ({
  id,
  accountId: A,
  pipelineName: 'app',
  pipelineVersion: 3,
  declaration: '{"name":"app"}',
  status: 'InProgress',
  statusSummary: null,
  executionMode: 'QUEUED',
  triggerType: 'Webhook',
  triggerDetail: 'push',
  sourceRevisions: '{}',
  variables: '{}',
  dedupeKey: null,
  state: '{"step":0}',
  currentStage: 'Source',
  stopMode: null,
  leaseOwner: null,
  leaseUntil: null,
  createdAt: 10,
  updatedAt: 10,
  ...over,
})

const action = (executionId: string, id = 'act-1'): ActionExecutionRecord => ({
  id,
  executionId,
  accountId: A,
  pipelineName: 'app',
  stageName: 'Build',
  actionName: 'Compile',
  status: 'InProgress',
  detail: '{}',
  startedAt: 20,
  updatedAt: 20,
})

const ids = (rows: { id: string }[]) => rows.map((r) => r.id)

describe('executions: dedupe', () => {
  it('starts once per dedupe key, and any number of times without one', async () => {
    const e = execution('e-1', { dedupeKey: 'delivery:1', sourceRevisions: '{"Src":"abc"}' })
    expect(await store.pipelines.executions.create(e)).toBe('created')
    expect(
      await store.pipelines.executions.create(execution('e-2', { dedupeKey: 'delivery:1' })),
    ).toBe('duplicate')
    expect(await store.pipelines.executions.get(A, 'e-2')).toBeUndefined()
    // The same id again is a duplicate too (the id is unique).
    expect(await store.pipelines.executions.create(execution('e-1'))).toBe('duplicate')
    expect(await store.pipelines.executions.create(execution('e-3'))).toBe('created')
    expect(await store.pipelines.executions.create(execution('e-4'))).toBe('created')
    const found = await store.pipelines.executions.byDedupeKey('delivery:1')
    expect(found).toEqual({ ...e, seq: expect.any(Number) })
    expect(await store.pipelines.executions.byDedupeKey('delivery:2')).toBeUndefined()
  })

  it("creates an event's executions together, skipping each whose dedupe key is taken", async () => {
    const x = store.pipelines.executions
    expect(await x.create(execution('m-0', { dedupeKey: 'event:7:b' }))).toBe('created')
    const created = await x.createMany([
      execution('m-1', { dedupeKey: 'event:7:a' }),
      execution('m-2', { dedupeKey: 'event:7:b' }),
      execution('m-3', { dedupeKey: 'event:7:c' }),
      execution('m-4'),
    ])
    expect([...created].sort()).toEqual(['m-1', 'm-3', 'm-4'])
    expect(await x.get(A, 'm-2')).toBeUndefined()
    expect((await x.byDedupeKey('event:7:b'))!.id).toBe('m-0')
    // Again (a node retrying the event): nothing new.
    expect(
      await x.createMany([
        execution('m-5', { dedupeKey: 'event:7:a' }),
        execution('m-6', { dedupeKey: 'event:7:c' }),
      ]),
    ).toEqual(new Set())
    expect(await x.createMany([])).toEqual(new Set())
  })

  it('decides a race for one key: exactly one start', async () => {
    const outcomes = await Promise.all(
      [1, 2, 3].map((i) =>
        store.pipelines.executions.create(execution(`race-${i}`, { dedupeKey: 'client:tok' })),
      ),
    )
    expect(outcomes.sort()).toEqual(['created', 'duplicate', 'duplicate'])
  })

  it('passes on errors that are not a duplicate', async () => {
    const broken = { ...execution('e-9'), declaration: null } as unknown as NewExecution
    await expect(store.pipelines.executions.create(broken)).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_NOTNULL',
    })
  })
})

describe('executions: leases', () => {
  const executions = new Proxy({} as SqlStore['pipelines']['executions'], {
    get: (_, k: keyof SqlStore['pipelines']['executions']) => store.pipelines.executions[k],
  })

  it('claims unfinished executions whose lease is free or ran out, in order, up to the limit', async () => {
    await executions.create(execution('free'))
    await executions.create(execution('held', { leaseOwner: 'n1', leaseUntil: 1000 }))
    await executions.create(execution('ends-now', { leaseOwner: 'n1', leaseUntil: 500 }))
    await executions.create(execution('ran-out', { leaseOwner: 'n1', leaseUntil: 499 }))
    await executions.create(execution('stopping', { status: 'Stopping' }))
    await executions.create(execution('done', { status: 'Succeeded' }))
    await executions.create(execution('failed', { status: 'Failed', leaseUntil: 1 }))
    await executions.create(execution('later'))
    const first = await executions.claim('n2', 500, 800, 3)
    expect(ids(first)).toEqual(['free', 'ran-out', 'stopping'])
    for (const r of first) {
      expect(r.leaseOwner).toBe('n2')
      expect(r.leaseUntil).toBe(800)
    }
    expect(first[0]).toEqual({
      ...execution('free', { leaseOwner: 'n2', leaseUntil: 800 }),
      seq: expect.any(Number),
    })
    // The rest; what n2 holds until 800 is not free at 500.
    expect(ids(await executions.claim('n3', 500, 900, 10))).toEqual(['later'])
    expect(await executions.claim('n3', 500, 900, 10)).toEqual([])
    // A lease ending at `now` still holds; one that ended before is taken over.
    expect(ids(await executions.claim('n3', 800, 1200, 10))).toEqual(['ends-now'])
    expect(ids(await executions.claim('n4', 801, 1300, 10))).toEqual([
      'free',
      'ran-out',
      'stopping',
    ])
    expect(ids(await executions.claim('n4', 1001, 1300, 10))).toEqual(['held', 'later'])
    expect((await executions.get(A, 'held'))?.leaseOwner).toBe('n4')
    expect((await executions.get(A, 'done'))?.leaseOwner).toBeNull()
  })

  it('gives each execution to one node when nodes claim at the same moment', async () => {
    for (let i = 0; i < 6; i++) await executions.create(execution(`x-${i}`))
    const [a, b, c] = await Promise.all([
      executions.claim('a', 100, 200, 10),
      executions.claim('b', 100, 200, 10),
      executions.claim('c', 100, 200, 10),
    ])
    const all = [...ids(a), ...ids(b), ...ids(c)].sort()
    expect(all).toEqual(['x-0', 'x-1', 'x-2', 'x-3', 'x-4', 'x-5'])
    for (const [owner, rows] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const)
      for (const r of rows) expect((await executions.get(A, r.id))?.leaseOwner).toBe(owner)
  })

  it('never hands one execution twice to two overlapping claims of the same node', async () => {
    for (let i = 0; i < 4; i++) await executions.create(execution(`y-${i}`))
    const [first, second] = await Promise.all([
      executions.claim('same', 100, 200, 10),
      executions.claim('same', 100, 200, 10),
    ])
    expect([...ids(first), ...ids(second)].sort()).toEqual(['y-0', 'y-1', 'y-2', 'y-3'])
  })

  it('writes changes only for the node that holds the lease', async () => {
    await executions.create(execution('e'))
    await executions.claim('n1', 100, 200, 1)
    expect(await executions.update('e', 'n2', { status: 'Failed' }, 150)).toBe(false)
    expect(await executions.get(A, 'e')).toMatchObject({ status: 'InProgress', updatedAt: 10 })
    expect(await executions.update('e', 'n1', {}, 150)).toBe(true)
    expect(await executions.get(A, 'e')).toEqual({
      ...execution('e', { leaseOwner: 'n1', leaseUntil: 200, updatedAt: 150 }),
      seq: expect.any(Number),
    })
    expect(
      await executions.update(
        'e',
        'n1',
        {
          status: 'Stopping',
          statusSummary: 'asked',
          state: '{"step":1}',
          currentStage: 'Build',
          stopMode: 'STOP',
          leaseUntil: 300,
        },
        160,
      ),
    ).toBe(true)
    expect(await executions.get(A, 'e')).toEqual({
      ...execution('e', {
        status: 'Stopping',
        statusSummary: 'asked',
        state: '{"step":1}',
        currentStage: 'Build',
        stopMode: 'STOP',
        leaseOwner: 'n1',
        leaseUntil: 300,
        updatedAt: 160,
      }),
      seq: expect.any(Number),
    })
    // Handing the lease over: the old owner can no longer write, the new one can.
    expect(await executions.update('e', 'n1', { leaseOwner: 'n2' }, 170)).toBe(true)
    expect(await executions.update('e', 'n1', { status: 'Failed' }, 180)).toBe(false)
    expect(await executions.update('e', 'n2', { status: 'Failed' }, 180)).toBe(true)
    expect((await executions.get(A, 'e'))?.status).toBe('Failed')
    // An unknown execution is not written.
    expect(await executions.update('nope', 'n2', { status: 'Failed' }, 180)).toBe(false)
  })

  it('records an action only for the lease holder, with the state in the same write', async () => {
    await executions.create(execution('e'))
    await executions.claim('n1', 100, 200, 1)
    const { actions } = store.pipelines
    expect(await actions.record(action('e'), 'n2', '{"step":9}', 150)).toBe(false)
    expect(await actions.forExecution('e')).toEqual([])
    expect((await executions.get(A, 'e'))?.state).toBe('{"step":0}')
    expect(await actions.record(action('e'), 'n1', '{"step":1}', 150)).toBe(true)
    expect(await actions.forExecution('e')).toEqual([action('e')])
    expect(await executions.get(A, 'e')).toMatchObject({ state: '{"step":1}', updatedAt: 150 })
    // Without a state only the action (replaced in place) and the time change.
    const done = { ...action('e', 'act-2'), status: 'Succeeded', updatedAt: 170 }
    expect(await actions.record(done, 'n1', null, 170)).toBe(true)
    expect(await actions.forExecution('e')).toEqual([done])
    expect(await executions.get(A, 'e')).toMatchObject({ state: '{"step":1}', updatedAt: 170 })
  })
})

describe('webhook deliveries: dedupe and the work queue', () => {
  const delivery = (deliveryId: string, over: Record<string, unknown> = {}) => ({
    webhookId: HOOK,
    deliveryId,
    eventKind: 'push',
    event: `{"id":"${deliveryId}"}`,
    receivedAt: 5,
    accountId: A,
    installationId: 'inst-1',
    repository: 'acme/app',
    triggerSource: 'Webhook',
    bodyDigest: `digest-${deliveryId}`,
    ...over,
  })

  it('records a retry (same id) and a replay (same signed body, new id) once', async () => {
    const { webhooks } = store
    expect(await webhooks.recordDelivery(delivery('d-1'))).toBe('recorded')
    expect(await webhooks.recordDelivery(delivery('d-1'))).toBe('duplicate')
    expect(await webhooks.recordDelivery(delivery('d-1', { bodyDigest: 'other' }))).toBe(
      'duplicate',
    )
    expect(await webhooks.recordDelivery(delivery('d-2', { bodyDigest: 'digest-d-1' }))).toBe(
      'replay',
    )
    // Without a digest (a poll finding) only the id counts.
    expect(await webhooks.recordDelivery(delivery('p-1', { bodyDigest: undefined }))).toBe(
      'recorded',
    )
    expect(await webhooks.recordDelivery(delivery('p-1', { bodyDigest: undefined }))).toBe(
      'duplicate',
    )
    expect(await webhooks.recordDelivery(delivery('p-2', { bodyDigest: undefined }))).toBe(
      'recorded',
    )
    // Another webhook is another log.
    expect(await webhooks.recordDelivery(delivery('d-1', { webhookId: 'b'.repeat(32) }))).toBe(
      'recorded',
    )
    expect((await webhooks.deliveries(HOOK, 0, 10)).map((d) => d.deliveryId)).toEqual([
      'd-1',
      'p-1',
      'p-2',
    ])
  })

  it('hands each pending delivery to one node under a lease, and completes it once', async () => {
    const { webhooks } = store
    const { events } = store.pipelines
    for (const id of ['q-1', 'q-2', 'q-3', 'q-4']) await webhooks.recordDelivery(delivery(id))
    await webhooks.recordDelivery(
      delivery('q-5', {
        accountId: undefined,
        installationId: undefined,
        repository: undefined,
        triggerSource: undefined,
      }),
    )
    const first = await events.claim('n1', 100, 200, 2)
    expect(first).toEqual([
      {
        seq: expect.any(Number),
        webhookId: HOOK,
        deliveryId: 'q-1',
        eventKind: 'push',
        event: '{"id":"q-1"}',
        receivedAt: 5,
        accountId: A,
        installationId: 'inst-1',
        repository: 'acme/app',
        triggerSource: 'Webhook',
        processedAt: null,
        result: null,
      },
      expect.objectContaining({ deliveryId: 'q-2' }),
    ])
    // A poll finding keeps its trigger source.
    await webhooks.recordDelivery(delivery('poll-1', { triggerSource: 'PollForSourceChanges' }))
    // Racing nodes split the rest; the one without a source reads as a webhook of nowhere.
    const [a, b] = await Promise.all([
      events.claim('n2', 100, 300, 10),
      events.claim('n3', 100, 300, 10),
    ])
    expect([...a, ...b].map((d) => d.deliveryId).sort()).toEqual(['poll-1', 'q-3', 'q-4', 'q-5'])
    expect([...a, ...b].find((d) => d.deliveryId === 'poll-1')?.triggerSource).toBe(
      'PollForSourceChanges',
    )
    expect([...a, ...b].find((d) => d.deliveryId === 'q-5')).toMatchObject({
      accountId: '',
      installationId: '',
      repository: '',
      triggerSource: 'Webhook',
    })
    // Completion needs the lease holder, and happens once.
    const q1 = first[0]!
    expect(await events.complete(q1.seq, 'n2', '[]', 150)).toBe(false)
    expect(await events.complete(q1.seq, 'n1', '["started e-1"]', 150)).toBe(true)
    expect(await events.complete(q1.seq, 'n1', '["again"]', 160)).toBe(false)
    const [recent] = (await events.recent(A, 'acme/app', 10)).filter((d) => d.deliveryId === 'q-1')
    expect(recent).toMatchObject({ processedAt: 150, result: '["started e-1"]' })
    // n1's lease on q-2 ends at 200: held at 200, taken over after; a completed one never again.
    expect(await events.claim('n4', 200, 400, 10)).toEqual([])
    const takeover = await events.claim('n4', 201, 400, 10)
    expect(takeover.map((d) => d.deliveryId)).toEqual(['q-2'])
    expect(await events.complete(takeover[0]!.seq, 'n1', '[]', 210)).toBe(false)
    expect(await events.complete(takeover[0]!.seq, 'n4', '[]', 210)).toBe(true)
    // After 300 the racing nodes' leases ran out: only their four are left.
    expect((await events.claim('n5', 301, 500, 10)).map((d) => d.deliveryId)).toEqual([
      'q-3',
      'q-4',
      'q-5',
      'poll-1',
    ])
  })
})
