/**
 * @module store/pipeline-store
 * What the pipeline engine keeps: pipeline declarations (with the sources they watch), executions
 * and their action executions, the stage locks of QUEUED and SUPERSEDED modes, the polling
 * fallback's last seen heads, and the event log as a work queue. Work is shared between nodes by
 * leases: a row is taken with a compare-and-set on its lease, so exactly one live node holds it,
 * and a lease that runs out (the node died) lets another node take it.
 */
import { createHash } from 'node:crypto'
import type { DeliveryRecord, TagRecord } from './store.js'

export interface PipelineRecord {
  accountId: string
  name: string
  arn: string
  version: number
  /** The PipelineDeclaration as JSON. */
  declaration: string
  tags: TagRecord[]
  createdAt: number
  updatedAt: number
}

/** One connection source action of a pipeline: what it watches. */
export interface PipelineSourceRecord {
  accountId: string
  pipelineName: string
  actionName: string
  connectionArn: string
  repository: string
  branch: string
  /**
   * The event keys it watches (pipelines/watches): an event considers only sources watching one
   * of its keys. Absent when written: `*` (every event).
   */
  watches?: string[]
}

/** A source an event may concern (the watched-source index), with its declaration's digest. */
export interface WatchedSourceRecord extends PipelineSourceRecord {
  /** declarationDigest() of the declaration the index rows were written for ('' when unknown). */
  declarationDigest: string
}

/** The digest the watched-source index keeps of a declaration (a cached parse is checked by it). */
export function declarationDigest(declaration: string): string {
  return createHash('sha256').update(declaration).digest('base64url')
}

export interface ExecutionRecord {
  seq: number
  id: string
  accountId: string
  pipelineName: string
  pipelineVersion: number
  /** The declaration the execution runs (a later update does not change a running execution). */
  declaration: string
  status: string
  statusSummary: string | null
  executionMode: string
  triggerType: string
  triggerDetail: string
  /** JSON: `{ [sourceActionName]: { revisionType, revisionValue } }` overrides and trigger commits. */
  sourceRevisions: string
  /** JSON: resolved pipeline variables `{ name: value }`. */
  variables: string
  dedupeKey: string | null
  /** JSON: the engine's progress (see pipelines/engine). */
  state: string
  currentStage: string | null
  /** `STOP` or `ABANDON` once a stop was asked for. */
  stopMode: string | null
  leaseOwner: string | null
  leaseUntil: number | null
  createdAt: number
  updatedAt: number
}

export type NewExecution = Omit<ExecutionRecord, 'seq'>

export interface ActionExecutionRecord {
  id: string
  executionId: string
  accountId: string
  pipelineName: string
  stageName: string
  actionName: string
  status: string
  /** JSON: the ActionExecutionDetail's input and output as the API shows them. */
  detail: string
  startedAt: number
  updatedAt: number
}

export interface PendingDelivery extends DeliveryRecord {
  accountId: string
  installationId: string
  repository: string
  triggerSource: string
}

export type ExecutionChanges = Partial<
  Pick<
    ExecutionRecord,
    'status' | 'statusSummary' | 'state' | 'currentStage' | 'stopMode' | 'leaseOwner' | 'leaseUntil'
  >
>

export interface PipelineRepository {
  /** Creates the pipeline and its sources; `name-taken` when the account has one of that name. */
  create(p: PipelineRecord, sources: PipelineSourceRecord[]): Promise<'created' | 'name-taken'>
  get(accountId: string, name: string): Promise<PipelineRecord | undefined>
  /** Pipelines in name order after `afterName`. */
  list(accountId: string, afterName: string, limit: number): Promise<PipelineRecord[]>
  /** Replaces declaration and sources if the version is still `expectedVersion`. */
  update(
    p: PipelineRecord,
    sources: PipelineSourceRecord[],
    expectedVersion: number,
  ): Promise<boolean>
  setTags(accountId: string, name: string, tags: TagRecord[]): Promise<boolean>
  /** Deletes the pipeline with its sources, executions and action executions. */
  delete(accountId: string, name: string): Promise<boolean>
  /** Sources watching a repository (case-insensitive) in an account. */
  sourcesFor(accountId: string, repository: string): Promise<PipelineSourceRecord[]>
  /** Every source of every pipeline (webhook reconciliation and polling), in key order. */
  allSources(): Promise<PipelineSourceRecord[]>
  /**
   * Sources of a repository (case-insensitive) in an account watching one of an event's `keys`
   * (pipelines/watches), once each, in pipeline and action order: what one event considers.
   */
  candidates(accountId: string, repository: string, keys: string[]): Promise<WatchedSourceRecord[]>
  /**
   * Replaces what the pipeline's sources watch if its declaration's digest is still `digest`
   * (rows indexed before the index knew their keys); false when it changed or another node did
   * the same at that moment.
   */
  rewatch(
    accountId: string,
    name: string,
    digest: string,
    sources: PipelineSourceRecord[],
  ): Promise<boolean>

  executions: {
    /** `duplicate` when an execution with the same dedupe key exists. */
    create(e: NewExecution): Promise<'created' | 'duplicate'>
    /**
     * Creates several in one transaction (one commit: an event's starts); returns the ids
     * created, leaving out each whose dedupe key an existing execution has.
     */
    createMany(es: NewExecution[]): Promise<Set<string>>
    get(accountId: string, id: string): Promise<ExecutionRecord | undefined>
    byDedupeKey(key: string): Promise<ExecutionRecord | undefined>
    /** Newest first, with `seq` below `beforeSeq`. */
    list(
      accountId: string,
      pipelineName: string,
      beforeSeq: number,
      limit: number,
    ): Promise<ExecutionRecord[]>
    /** Executions of the pipeline that are InProgress or Stopping. */
    active(accountId: string, pipelineName: string): Promise<ExecutionRecord[]>
    /**
     * Takes up to `limit` unfinished executions whose lease is free or ran out at `now`, for
     * `owner` until `until` (compare-and-set per row).
     */
    claim(owner: string, now: number, until: number, limit: number): Promise<ExecutionRecord[]>
    /** Writes changes if `owner` still holds the lease; false when it lost it. */
    update(id: string, owner: string, changes: ExecutionChanges, now: number): Promise<boolean>
    /** Records a stop request (any node); false when the execution is not running. */
    requestStop(
      accountId: string,
      id: string,
      mode: string,
      reason: string | null,
      now: number,
    ): Promise<boolean>
  }

  actions: {
    /** Inserts or replaces the action execution of (execution, stage, action). */
    put(a: ActionExecutionRecord): Promise<void>
    /**
     * What the node running the execution records: the action execution and, when given, the
     * execution's state (the outputs it holds), in one transaction, if `owner` still holds the
     * execution's lease. False, and nothing written, when it lost it. A node that takes over
     * therefore sees an action Succeeded only along with its artifacts and variables.
     */
    record(
      a: ActionExecutionRecord,
      owner: string,
      state: string | null,
      now: number,
    ): Promise<boolean>
    forExecution(executionId: string): Promise<ActionExecutionRecord[]>
    /** Newest first. */
    list(
      accountId: string,
      pipelineName: string,
      executionId: string | undefined,
      offset: number,
      limit: number,
    ): Promise<ActionExecutionRecord[]>
  }

  stageLocks: {
    /** True when the stage was free (or already held by this execution). */
    acquire(
      accountId: string,
      pipelineName: string,
      stage: string,
      executionId: string,
    ): Promise<boolean>
    release(
      accountId: string,
      pipelineName: string,
      stage: string,
      executionId: string,
    ): Promise<void>
    /** Releases every stage the execution holds. */
    releaseAll(executionId: string): Promise<void>
  }

  polls: {
    get(
      accountId: string,
      connectionArn: string,
      repository: string,
      branch: string,
    ): Promise<string | null | undefined>
    put(
      accountId: string,
      connectionArn: string,
      repository: string,
      branch: string,
      commit: string | null,
      now: number,
    ): Promise<void>
  }

  events: {
    /** Takes up to `limit` unprocessed events whose lease is free or ran out, oldest first. */
    claim(owner: string, now: number, until: number, limit: number): Promise<PendingDelivery[]>
    /** How many events wait to be processed, and when the oldest of them arrived (metrics). */
    backlog(): Promise<{ depth: number; oldestReceivedAt: number | null }>
    /** Marks the event processed with its result, if `owner` still holds it. */
    complete(seq: number, owner: string, result: string, now: number): Promise<boolean>
    /** Recent events of an account (optionally one repository), newest first. */
    recent(
      accountId: string,
      repository: string | undefined,
      limit: number,
    ): Promise<(PendingDelivery & { processedAt: number | null; result: string | null })[]>
  }
}
