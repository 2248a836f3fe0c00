/**
 * @module store/sql/pipeline-repository
 * Pipelines, executions, action executions, stage locks, poll heads and the event work queue over
 * Kysely. Leases are taken row by row with a compare-and-set `update … where lease_until < now`,
 * which is atomic on both engines: two nodes can never both hold a row.
 */
import type { Kysely, Selectable } from 'kysely'
import type {
  ActionExecutionRecord,
  ExecutionChanges,
  ExecutionRecord,
  NewExecution,
  PendingDelivery,
  PipelineRecord,
  PipelineRepository,
  PipelineSourceRecord,
  WatchedSourceRecord,
} from '../pipeline-store.js'
import { candidateSources, deleteWatches, insertWatches, rewatch } from './pipeline-watches.js'
import type { TagRecord } from '../store.js'
import type { SqlDialectAdapter } from './dialect-adapter.js'
import type { Database } from './schema.js'
import { retryTransient } from './transient.js'

const UNFINISHED = ['InProgress', 'Stopping']

const toPipeline = (r: Selectable<Database['pipelines']>): PipelineRecord => ({
  accountId: r.account_id,
  name: r.name,
  arn: r.arn,
  version: Number(r.version),
  declaration: r.declaration,
  tags: JSON.parse(r.tags) as TagRecord[],
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
})

const toSource = (r: Selectable<Database['pipeline_sources']>): PipelineSourceRecord => ({
  accountId: r.account_id,
  pipelineName: r.pipeline_name,
  actionName: r.action_name,
  connectionArn: r.connection_arn,
  repository: r.repository,
  branch: r.branch,
})

const toExecution = (r: Selectable<Database['pipeline_executions']>): ExecutionRecord => ({
  seq: Number(r.seq),
  id: r.id,
  accountId: r.account_id,
  pipelineName: r.pipeline_name,
  pipelineVersion: Number(r.pipeline_version),
  declaration: r.declaration,
  status: r.status,
  statusSummary: r.status_summary,
  executionMode: r.execution_mode,
  triggerType: r.trigger_type,
  triggerDetail: r.trigger_detail,
  sourceRevisions: r.source_revisions,
  variables: r.variables,
  dedupeKey: r.dedupe_key,
  state: r.state,
  currentStage: r.current_stage,
  stopMode: r.stop_mode,
  leaseOwner: r.lease_owner,
  leaseUntil: r.lease_until === null ? null : Number(r.lease_until),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
})

const toAction = (r: Selectable<Database['action_executions']>): ActionExecutionRecord => ({
  id: r.id,
  executionId: r.execution_id,
  accountId: r.account_id,
  pipelineName: r.pipeline_name,
  stageName: r.stage_name,
  actionName: r.action_name,
  status: r.status,
  detail: r.detail,
  startedAt: Number(r.started_at),
  updatedAt: Number(r.updated_at),
})

const toDelivery = (r: Selectable<Database['webhook_deliveries']>) => ({
  seq: Number(r.seq),
  webhookId: r.webhook_id,
  deliveryId: r.delivery_id,
  eventKind: r.event_kind,
  event: r.event,
  receivedAt: Number(r.received_at),
  accountId: r.account_id ?? '',
  installationId: r.installation_id ?? '',
  repository: r.repository ?? '',
  triggerSource: r.trigger_source ?? 'Webhook',
  processedAt: r.processed_at === null ? null : Number(r.processed_at),
  result: r.result,
})

const executionRow = (e: NewExecution) => ({
  id: e.id,
  account_id: e.accountId,
  pipeline_name: e.pipelineName,
  pipeline_version: e.pipelineVersion,
  declaration: e.declaration,
  status: e.status,
  status_summary: e.statusSummary,
  execution_mode: e.executionMode,
  trigger_type: e.triggerType,
  trigger_detail: e.triggerDetail,
  source_revisions: e.sourceRevisions,
  variables: e.variables,
  dedupe_key: e.dedupeKey,
  state: e.state,
  current_stage: e.currentStage,
  stop_mode: e.stopMode,
  lease_owner: e.leaseOwner,
  lease_until: e.leaseUntil,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
})

export class SqlPipelineRepository implements PipelineRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly adapter: SqlDialectAdapter,
  ) {}

  #sourceRows(sources: PipelineSourceRecord[]) {
    return sources.map((s) => ({
      account_id: s.accountId,
      pipeline_name: s.pipelineName,
      action_name: s.actionName,
      connection_arn: s.connectionArn,
      repository: s.repository,
      repository_key: s.repository.toLowerCase(),
      branch: s.branch,
    }))
  }

  async create(
    p: PipelineRecord,
    sources: PipelineSourceRecord[],
  ): Promise<'created' | 'name-taken'> {
    try {
      await this.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('pipelines')
          .values({
            account_id: p.accountId,
            name: p.name,
            arn: p.arn,
            version: p.version,
            declaration: p.declaration,
            tags: JSON.stringify(p.tags),
            created_at: p.createdAt,
            updated_at: p.updatedAt,
          })
          .execute()
        if (sources.length > 0)
          await tx.insertInto('pipeline_sources').values(this.#sourceRows(sources)).execute()
        await insertWatches(tx, p.declaration, sources)
      })
      return 'created'
    } catch (err) {
      if (this.adapter.constraintKind(err) === 'unique') return 'name-taken'
      throw err
    }
  }

  async get(accountId: string, name: string): Promise<PipelineRecord | undefined> {
    const r = await this.db
      .selectFrom('pipelines')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .executeTakeFirst()
    return r && toPipeline(r)
  }

  async list(accountId: string, afterName: string, limit: number): Promise<PipelineRecord[]> {
    const rows = await this.db
      .selectFrom('pipelines')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name', '>', afterName)
      .orderBy('name')
      .limit(limit)
      .execute()
    return rows.map(toPipeline)
  }

  async update(
    p: PipelineRecord,
    sources: PipelineSourceRecord[],
    expectedVersion: number,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('pipelines')
        .set({ version: p.version, declaration: p.declaration, updated_at: p.updatedAt })
        .where('account_id', '=', p.accountId)
        .where('name', '=', p.name)
        .where('version', '=', expectedVersion)
        .executeTakeFirst()
      if (Number(r.numUpdatedRows) !== 1) return false
      await tx
        .deleteFrom('pipeline_sources')
        .where('account_id', '=', p.accountId)
        .where('pipeline_name', '=', p.name)
        .execute()
      if (sources.length > 0)
        await tx.insertInto('pipeline_sources').values(this.#sourceRows(sources)).execute()
      await deleteWatches(tx, p.accountId, p.name)
      await insertWatches(tx, p.declaration, sources)
      return true
    })
  }

  async setTags(accountId: string, name: string, tags: TagRecord[]): Promise<boolean> {
    const r = await this.db
      .updateTable('pipelines')
      .set({ tags: JSON.stringify(tags) })
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .executeTakeFirst()
    return Number(r.numUpdatedRows) === 1
  }

  async delete(accountId: string, name: string): Promise<boolean> {
    // Deleting takes rows a running execution also writes: on PostgreSQL the two may deadlock,
    // and the one chosen to fail is run again rather than answered as a 500.
    return retryTransient(() => this.#delete(accountId, name))
  }

  #delete(accountId: string, name: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('pipeline_sources')
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', name)
        .execute()
      await deleteWatches(tx, accountId, name)
      await tx
        .deleteFrom('stage_locks')
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', name)
        .execute()
      // Its history goes with it (a new pipeline of the same name starts afresh); a node running
      // one of its executions loses the row and stops.
      await tx
        .deleteFrom('action_executions')
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', name)
        .execute()
      await tx
        .deleteFrom('pipeline_executions')
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', name)
        .execute()
      const r = await tx
        .deleteFrom('pipelines')
        .where('account_id', '=', accountId)
        .where('name', '=', name)
        .executeTakeFirst()
      return Number(r.numDeletedRows) === 1
    })
  }

  async sourcesFor(accountId: string, repository: string): Promise<PipelineSourceRecord[]> {
    const rows = await this.db
      .selectFrom('pipeline_sources')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('repository_key', '=', repository.toLowerCase())
      .orderBy('pipeline_name')
      .orderBy('action_name')
      .execute()
    return rows.map(toSource)
  }

  async allSources(): Promise<PipelineSourceRecord[]> {
    const rows = await this.db
      .selectFrom('pipeline_sources')
      .selectAll()
      .orderBy('account_id')
      .orderBy('pipeline_name')
      .orderBy('action_name')
      .execute()
    return rows.map(toSource)
  }

  candidates(
    accountId: string,
    repository: string,
    keys: string[],
  ): Promise<WatchedSourceRecord[]> {
    return candidateSources(this.db, accountId, repository, keys)
  }

  async rewatch(
    accountId: string,
    name: string,
    digest: string,
    sources: PipelineSourceRecord[],
  ): Promise<boolean> {
    try {
      return await rewatch(this.db, accountId, name, digest, sources)
    } catch (err) {
      if (this.adapter.constraintKind(err) === 'unique') return false
      throw err
    }
  }

  executions = {
    create: async (e: NewExecution): Promise<'created' | 'duplicate'> => {
      try {
        await this.db.insertInto('pipeline_executions').values(executionRow(e)).execute()
        return 'created'
      } catch (err) {
        if (this.adapter.constraintKind(err) === 'unique') return 'duplicate'
        throw err
      }
    },
    createMany: async (es: NewExecution[]): Promise<Set<string>> => {
      const created = new Set<string>()
      if (es.length === 0) return created
      // One transaction (one commit to disk) for all; a taken dedupe key skips its row.
      await this.db.transaction().execute(async (tx) => {
        for (const e of es) {
          const r = await tx
            .insertInto('pipeline_executions')
            .values(executionRow(e))
            .onConflict((oc) => oc.column('dedupe_key').doNothing())
            .executeTakeFirst()
          if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) created.add(e.id)
        }
      })
      return created
    },
    get: async (accountId: string, id: string): Promise<ExecutionRecord | undefined> => {
      const r = await this.db
        .selectFrom('pipeline_executions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst()
      return r && toExecution(r)
    },
    byDedupeKey: async (key: string): Promise<ExecutionRecord | undefined> => {
      const r = await this.db
        .selectFrom('pipeline_executions')
        .selectAll()
        .where('dedupe_key', '=', key)
        .executeTakeFirst()
      return r && toExecution(r)
    },
    list: async (
      accountId: string,
      pipelineName: string,
      beforeSeq: number,
      limit: number,
    ): Promise<ExecutionRecord[]> => {
      const rows = await this.db
        .selectFrom('pipeline_executions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', pipelineName)
        // The serial column is 32-bit on PostgreSQL.
        .where('seq', '<', Math.min(beforeSeq, 2_147_483_647))
        .orderBy('seq', 'desc')
        .limit(limit)
        .execute()
      return rows.map(toExecution)
    },
    active: async (accountId: string, pipelineName: string): Promise<ExecutionRecord[]> => {
      const rows = await this.db
        .selectFrom('pipeline_executions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', pipelineName)
        .where('status', 'in', UNFINISHED)
        .orderBy('seq')
        .execute()
      return rows.map(toExecution)
    },
    claim: async (
      owner: string,
      now: number,
      until: number,
      limit: number,
    ): Promise<ExecutionRecord[]> => {
      const candidates = await this.db
        .selectFrom('pipeline_executions')
        .select(['id'])
        .where('status', 'in', UNFINISHED)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .orderBy('seq')
        .limit(limit)
        .execute()
      const out: ExecutionRecord[] = []
      for (const c of candidates) {
        const r = await this.db
          .updateTable('pipeline_executions')
          .set({ lease_owner: owner, lease_until: until })
          .where('id', '=', c.id)
          .where('status', 'in', UNFINISHED)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .executeTakeFirst()
        if (Number(r.numUpdatedRows) !== 1) continue
        const row = await this.db
          .selectFrom('pipeline_executions')
          .selectAll()
          .where('id', '=', c.id)
          .executeTakeFirst()
        if (row && row.lease_owner === owner) out.push(toExecution(row))
      }
      return out
    },
    update: async (
      id: string,
      owner: string,
      changes: ExecutionChanges,
      now: number,
    ): Promise<boolean> => {
      const set: Record<string, unknown> = { updated_at: now }
      if (changes.status !== undefined) set['status'] = changes.status
      if (changes.statusSummary !== undefined) set['status_summary'] = changes.statusSummary
      if (changes.state !== undefined) set['state'] = changes.state
      if (changes.currentStage !== undefined) set['current_stage'] = changes.currentStage
      if (changes.stopMode !== undefined) set['stop_mode'] = changes.stopMode
      if (changes.leaseOwner !== undefined) set['lease_owner'] = changes.leaseOwner
      if (changes.leaseUntil !== undefined) set['lease_until'] = changes.leaseUntil
      const r = await this.db
        .updateTable('pipeline_executions')
        .set(set)
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    },
    requestStop: async (
      accountId: string,
      id: string,
      mode: string,
      reason: string | null,
      now: number,
    ): Promise<boolean> => {
      const set: Record<string, unknown> = { stop_mode: mode, status: 'Stopping', updated_at: now }
      if (reason !== null) set['status_summary'] = reason
      const r = await this.db
        .updateTable('pipeline_executions')
        .set(set)
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('status', 'in', UNFINISHED)
        // A stop may be escalated to an abandon, never the other way.
        .where((eb) => eb.or([eb('stop_mode', 'is', null), eb('stop_mode', '=', 'STOP')]))
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    },
  }

  /** Inserts or replaces the action execution of (execution, stage, action). */
  async #putAction(db: Kysely<Database>, a: ActionExecutionRecord): Promise<void> {
    await db
      .insertInto('action_executions')
      .values({
        id: a.id,
        execution_id: a.executionId,
        account_id: a.accountId,
        pipeline_name: a.pipelineName,
        stage_name: a.stageName,
        action_name: a.actionName,
        status: a.status,
        detail: a.detail,
        started_at: a.startedAt,
        updated_at: a.updatedAt,
      })
      .onConflict((oc) =>
        oc.columns(['execution_id', 'stage_name', 'action_name']).doUpdateSet({
          id: a.id,
          status: a.status,
          detail: a.detail,
          started_at: a.startedAt,
          updated_at: a.updatedAt,
        }),
      )
      .execute()
  }

  actions = {
    put: (a: ActionExecutionRecord): Promise<void> => this.#putAction(this.db, a),
    record: async (
      a: ActionExecutionRecord,
      owner: string,
      state: string | null,
      now: number,
    ): Promise<boolean> =>
      this.db.transaction().execute(async (tx) => {
        // The lease check locks the execution's row: a node claiming it waits for this write.
        const set: Record<string, unknown> = { updated_at: now }
        if (state !== null) set['state'] = state
        const r = await tx
          .updateTable('pipeline_executions')
          .set(set)
          .where('id', '=', a.executionId)
          .where('lease_owner', '=', owner)
          .executeTakeFirst()
        if (Number(r.numUpdatedRows) !== 1) return false
        await this.#putAction(tx, a)
        return true
      }),
    forExecution: async (executionId: string): Promise<ActionExecutionRecord[]> => {
      const rows = await this.db
        .selectFrom('action_executions')
        .selectAll()
        .where('execution_id', '=', executionId)
        .orderBy('started_at')
        .execute()
      return rows.map(toAction)
    },
    list: async (
      accountId: string,
      pipelineName: string,
      executionId: string | undefined,
      offset: number,
      limit: number,
    ): Promise<ActionExecutionRecord[]> => {
      let q = this.db
        .selectFrom('action_executions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', pipelineName)
      if (executionId !== undefined) q = q.where('execution_id', '=', executionId)
      const rows = await q
        .orderBy('started_at', 'desc')
        .orderBy('id', 'desc')
        .offset(offset)
        .limit(limit)
        .execute()
      return rows.map(toAction)
    },
  }

  stageLocks = {
    acquire: async (
      accountId: string,
      pipelineName: string,
      stage: string,
      executionId: string,
    ): Promise<boolean> => {
      await this.db
        .insertInto('stage_locks')
        .values({
          account_id: accountId,
          pipeline_name: pipelineName,
          stage_name: stage,
          execution_id: executionId,
        })
        .onConflict((oc) => oc.columns(['account_id', 'pipeline_name', 'stage_name']).doNothing())
        .execute()
      const r = await this.db
        .selectFrom('stage_locks')
        .select('execution_id')
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', pipelineName)
        .where('stage_name', '=', stage)
        .executeTakeFirst()
      return r?.execution_id === executionId
    },
    release: async (
      accountId: string,
      pipelineName: string,
      stage: string,
      executionId: string,
    ): Promise<void> => {
      await this.db
        .deleteFrom('stage_locks')
        .where('account_id', '=', accountId)
        .where('pipeline_name', '=', pipelineName)
        .where('stage_name', '=', stage)
        .where('execution_id', '=', executionId)
        .execute()
    },
    releaseAll: async (executionId: string): Promise<void> => {
      await this.db.deleteFrom('stage_locks').where('execution_id', '=', executionId).execute()
    },
  }

  polls = {
    get: async (
      accountId: string,
      connectionArn: string,
      repository: string,
      branch: string,
    ): Promise<string | null | undefined> => {
      const r = await this.db
        .selectFrom('source_polls')
        .select('last_commit')
        .where('account_id', '=', accountId)
        .where('connection_arn', '=', connectionArn)
        .where('repository', '=', repository)
        .where('branch', '=', branch)
        .executeTakeFirst()
      return r ? r.last_commit : undefined
    },
    put: async (
      accountId: string,
      connectionArn: string,
      repository: string,
      branch: string,
      commit: string | null,
      now: number,
    ): Promise<void> => {
      await this.db
        .insertInto('source_polls')
        .values({
          account_id: accountId,
          connection_arn: connectionArn,
          repository,
          branch,
          last_commit: commit,
          checked_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['account_id', 'connection_arn', 'repository', 'branch'])
            .doUpdateSet({ last_commit: commit, checked_at: now }),
        )
        .execute()
    },
  }

  events = {
    claim: async (
      owner: string,
      now: number,
      until: number,
      limit: number,
    ): Promise<PendingDelivery[]> => {
      const candidates = await this.db
        .selectFrom('webhook_deliveries')
        .select(['seq'])
        .where('processed_at', 'is', null)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .orderBy('seq')
        .limit(limit)
        .execute()
      const out: PendingDelivery[] = []
      for (const c of candidates) {
        const r = await this.db
          .updateTable('webhook_deliveries')
          .set({ lease_owner: owner, lease_until: until })
          .where('seq', '=', c.seq)
          .where('processed_at', 'is', null)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .executeTakeFirst()
        if (Number(r.numUpdatedRows) !== 1) continue
        const row = await this.db
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('seq', '=', c.seq)
          .executeTakeFirst()
        if (row && row.lease_owner === owner) out.push(toDelivery(row))
      }
      return out
    },
    backlog: async () => {
      // The (processed_at, seq) index holds the unprocessed rows together.
      const r = await this.db
        .selectFrom('webhook_deliveries')
        .select((eb) => [eb.fn.countAll().as('depth'), eb.fn.min('received_at').as('oldest')])
        .where('processed_at', 'is', null)
        .executeTakeFirst()
      return {
        depth: Number(r?.depth ?? 0),
        oldestReceivedAt: r?.oldest === null || r?.oldest === undefined ? null : Number(r.oldest),
      }
    },
    complete: async (seq: number, owner: string, result: string, now: number) => {
      const r = await this.db
        .updateTable('webhook_deliveries')
        .set({ processed_at: now, result, lease_until: null })
        .where('seq', '=', seq)
        .where('lease_owner', '=', owner)
        .where('processed_at', 'is', null)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) === 1
    },
    recent: async (accountId: string, repository: string | undefined, limit: number) => {
      let q = this.db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('account_id', '=', accountId)
      if (repository !== undefined) q = q.where('repository', '=', repository)
      const rows = await q.orderBy('seq', 'desc').limit(limit).execute()
      return rows.map(toDelivery)
    },
  }
}
