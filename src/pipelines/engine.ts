/**
 * @module pipelines/engine
 * Runs pipelines. Three kinds of work, each shared between nodes through leases in the store:
 *
 * - **Events** (webhook deliveries and poll findings, already durable when they arrive here): a
 *   node takes one, maps it to the pipelines whose connection source actions watch the repository,
 *   decides per pipeline by its trigger filters (or DetectChanges on BranchName) and starts the
 *   matching ones. Each start carries a dedupe key derived from the event, so a node that dies
 *   after starting and before marking the event processed never causes a second execution when
 *   another node processes it again. The event keeps the outcome: which pipelines it started and
 *   why the others did not match.
 * - **Executions**: a node takes an unfinished execution, renews its lease while it works, and
 *   runs stages in order, actions of a stage by runOrder (equal runOrder in parallel). A node that
 *   dies lets its lease run out; another node resumes from the last recorded step (an action that
 *   was in progress runs again).
 * - **Webhooks and polling**: Junction keeps one webhook per watched repository (registered when a
 *   pipeline needs it and its connection is AVAILABLE, removed when none does); repositories whose
 *   webhook cannot be registered are polled.
 *
 * Execution modes: PARALLEL runs executions independently; QUEUED lets one execution into a stage
 * at a time (a stage lock), in start order; SUPERSEDED does the same and, at each stage boundary,
 * an older execution gives way to a newer one (status Superseded).
 */
import { hostname } from 'node:os'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { randomBytes, randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { ActionDeclaration, PipelineDeclaration } from '../generated/codepipeline.js'
import type { ConnectService, Caller } from '../connect/service.js'
import type { CredentialKeeper } from '../connect/credentials.js'
import type { WebhookManager } from '../connect/webhooks.js'
import type { Signer } from '../connect/signed.js'
import { crashPoint } from '../test-hooks.js'
import type { ProviderEvent, WebLinks } from '../providers/provider.js'
import { SUPPORTED_PROVIDERS } from '../providers/registry.js'
import { ProviderNotFound } from '../providers/errors.js'
import { isNumericRepositoryId } from '../domain/repository-id.js'
import type { ConnectionRecord, Store } from '../store/store.js'
import {
  declarationDigest,
  type ActionExecutionRecord,
  type ExecutionRecord,
  type PendingDelivery,
  type PipelineRecord,
  type PipelineSourceRecord,
  type WatchedSourceRecord,
} from '../store/pipeline-store.js'
import { isCommands, isSource, sourceRecords } from './definition.js'
import { sourceChanges, type SourceChange } from './events.js'
import { eventKeys, watchedSources } from './watches.js'
import { compilePipeline, TriggerCache, type CompiledPipeline } from './trigger-cache.js'
import { emptyState, parseState, type ActionDetail, type ExecutionState } from './wire.js'
import { rolePrincipal } from './roles.js'
import { resolveVariables, UnresolvedVariable } from './variables.js'
import { runSource } from './actions/source.js'
import { runCommands } from './actions/commands.js'
import type { CommandsSandbox } from './isolation/sandbox.js'
import { failed, type ActionResult, type ActionRun } from './actions/action.js'
import { inside, segment } from './paths.js'
import { Poller } from './poller.js'

export interface EngineDeps {
  store: Store
  connect: ConnectService
  keeper: CredentialKeeper
  webhooks: WebhookManager
  signer: Signer
  /** The artifact store (a folder): artifacts and action logs, per execution. */
  artifactDir: string
  /** How long a finished execution's artifacts and logs are kept (0: for ever). */
  artifactRetentionMs: number
  /** The most an artifact's files may hold, uncompressed. */
  maxArtifactBytes?: number
  /** The largest source archive a source action downloads. */
  maxSourceArchiveBytes?: number
  publicUrl(): string
  logger: Logger
  enableCommands: boolean
  /** How builds run isolated from Junction (set whenever Commands are enabled). */
  commandsSandbox?: CommandsSandbox | undefined
  commandsTimeoutMs: number
  pollIntervalMs: number
  /** Requests an hour polling may spend per provider credential, of Bitbucket's 1,000. */
  pollBudgetPerHour?: number
  /** How often the node looks for work other nodes made (its own work wakes it at once). */
  tickMs?: number
  /** How long a taken event or execution stays this node's without a renewal. */
  leaseMs?: number
  now?(): number
  /** Told of each finished execution and action (the metrics). */
  observe?: {
    execution(status: string): void
    action(provider: string, status: string, seconds: number): void
  }
}

export interface StartRequest {
  accountId: string
  pipeline: PipelineRecord
  /** The pipeline's declaration already parsed (else parsed from the record). */
  decl?: PipelineDeclaration
  triggerType: string
  triggerDetail: string
  sourceRevisions: Record<string, { revisionType: string; revisionValue: string; ref?: string }>
  variables: Record<string, string>
  dedupeKey: string | null
}

/** One pipeline's outcome for one event (the event log shows these). */
export interface EventOutcome {
  pipeline: string
  action?: string
  started?: string
  reason: string
}

const LOG_LINK_TTL_MS = 60 * 60 * 1000
const MAX_RUNNING = 16
const MAX_EVENT_ATTEMPTS = 5
const ARTIFACT_SWEEP_MS = 60 * 60 * 1000
const DEFAULT_MAX_BYTES = 1024 * 1_048_576

export class PipelineEngine {
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  readonly #d: EngineDeps
  readonly #tickMs: number
  readonly #leaseMs: number
  readonly #now: () => number
  #timers: NodeJS.Timeout[] = []
  #busy = false
  #again = false
  #stopped = true
  readonly #running = new Map<
    string,
    { abort: AbortController; actionAbort: AbortController; done: Promise<void> }
  >()
  #reconcileWanted = true
  #removeWanted = false
  /** Polls repositories whose webhook could not be registered (key account|conn|repo). */
  readonly #poller: Poller
  /** Processing failures per event on this node (an event is given up after a few). */
  readonly #failures = new Map<number, number>()
  /** Parsed declarations and compiled trigger filters, per pipeline and declaration digest. */
  readonly #triggers = new TriggerCache()
  /**
   * Told of each event this node processed: the source actions it considered, the executions it
   * started, and the time (and process CPU time) it took (bench:triggers).
   */
  onEventProcessed?: (e: {
    seq: number
    touched: number
    started: number
    ms: number
    cpuMs: number
  }) => void

  constructor(d: EngineDeps) {
    this.#d = d
    this.#tickMs = d.tickMs ?? 200
    this.#leaseMs = d.leaseMs ?? 15_000
    this.#now = d.now ?? Date.now
    this.#poller = new Poller({
      store: d.store,
      keeper: d.keeper,
      logger: d.logger,
      intervalMs: d.pollIntervalMs,
      budgetPerHour: d.pollBudgetPerHour ?? 800,
      found: () => this.wake(),
      now: this.#now,
    })
  }

  run(): void {
    this.#stopped = false
    this.#timers.push(setInterval(() => this.wake(), this.#tickMs).unref())
    this.#timers.push(
      setInterval(() => {
        this.#reconcileWanted = true
        this.wake()
      }, 30_000).unref(),
    )
    this.#poller.start()
    if (this.#d.artifactRetentionMs > 0)
      this.#timers.push(
        setInterval(() => {
          this.sweepArtifacts(this.#now()).catch((err: unknown) =>
            this.#d.logger.warn({ err }, 'sweeping old artifacts failed'),
          )
        }, ARTIFACT_SWEEP_MS).unref(),
      )
    this.wake()
  }

  /**
   * Deletes the artifacts and logs of executions that finished more than the retention ago (or
   * whose execution no longer exists); returns how many execution folders were removed.
   */
  async sweepArtifacts(now: number): Promise<number> {
    const root = this.#d.artifactDir
    const before = now - this.#d.artifactRetentionMs
    let removed = 0
    const dirs = (p: string) => {
      try {
        return readdirSync(p, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
      } catch {
        return []
      }
    }
    for (const account of dirs(root))
      for (const pipeline of dirs(inside(root, account)))
        for (const id of dirs(inside(root, account, pipeline))) {
          const dir = inside(root, account, pipeline, id)
          if (statSync(dir).mtimeMs > before) continue
          const e = await this.#d.store.pipelines.executions.get(account, id)
          if (e && (e.status === 'InProgress' || e.status === 'Stopping')) continue
          if (e && e.updatedAt > before) continue
          rmSync(dir, { recursive: true, force: true })
          removed++
        }
    return removed
  }

  /** Stops taking work and lets running executions go (their leases are released). */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#poller.stop()
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    for (const r of this.#running.values()) r.abort.abort()
    await Promise.allSettled([...this.#running.values()].map((r) => r.done))
  }

  /** Whether the engine takes work: run() was called and stop() was not (readiness). */
  get running(): boolean {
    return !this.#stopped
  }

  /** Looks for work now (after a delivery, a start or a stop request on this node). */
  wake(): void {
    if (this.#stopped) return
    if (this.#busy) {
      this.#again = true
      return
    }
    this.#busy = true
    void (async () => {
      try {
        do {
          this.#again = false
          if (this.#reconcileWanted) await this.#reconcile()
          await this.#processEvents()
          await this.#claimExecutions()
        } while (this.#again && !this.#stopped)
      } catch (err) {
        this.#d.logger.warn({ err }, 'pipeline engine tick failed')
      } finally {
        this.#busy = false
      }
    })()
  }

  /** A stop was recorded: an abandon kills the action running here at once (others see it soon). */
  stopRequested(executionId: string, abandon: boolean): void {
    if (abandon) this.#running.get(executionId)?.actionAbort.abort()
    this.wake()
  }

  /** A pipeline was created, updated or deleted, or a connection deleted: webhooks follow. */
  pipelinesChanged(): void {
    this.#reconcileWanted = true
    this.#removeWanted = true
    this.wake()
  }

  /** Starts an execution (or returns the one an identical dedupe key started). */
  async startExecution(req: StartRequest): Promise<{ id: string; created: boolean }> {
    return (await this.startExecutions([req]))[0]!
  }

  /**
   * Starts executions in one store transaction (an event's starts cost one commit, not one
   * each); for each request, its execution or the one an identical dedupe key started.
   */
  async startExecutions(reqs: StartRequest[]): Promise<{ id: string; created: boolean }[]> {
    const now = this.#now()
    const records = reqs.map((req) => {
      const decl = req.decl ?? (JSON.parse(req.pipeline.declaration) as PipelineDeclaration)
      return {
        id: randomUUID(),
        accountId: req.accountId,
        pipelineName: req.pipeline.name,
        pipelineVersion: req.pipeline.version,
        declaration: req.pipeline.declaration,
        status: 'InProgress',
        statusSummary: null,
        executionMode: decl.executionMode ?? 'SUPERSEDED',
        triggerType: req.triggerType,
        triggerDetail: req.triggerDetail.slice(0, 1024),
        sourceRevisions: JSON.stringify(req.sourceRevisions),
        // Declared variables not given take their defaults.
        variables: JSON.stringify({
          ...Object.fromEntries(
            (decl.variables ?? [])
              .filter((v) => v.defaultValue !== undefined)
              .map((v) => [v.name, v.defaultValue]),
          ),
          ...req.variables,
        }),
        dedupeKey: req.dedupeKey,
        state: JSON.stringify(emptyState()),
        currentStage: null,
        stopMode: null,
        leaseOwner: null,
        leaseUntil: null,
        createdAt: now,
        updatedAt: now,
      }
    })
    const created = await this.#d.store.pipelines.executions.createMany(records)
    const out: { id: string; created: boolean }[] = []
    for (const [i, r] of records.entries()) {
      if (!created.has(r.id) && r.dedupeKey) {
        const existing = await this.#d.store.pipelines.executions.byDedupeKey(r.dedupeKey)
        if (existing) {
          out.push({ id: existing.id, created: false })
          continue
        }
      }
      this.#d.logger.info(
        { pipeline: r.pipelineName, execution: r.id, trigger: reqs[i]!.triggerType },
        'pipeline execution started',
      )
      out.push({ id: r.id, created: true })
    }
    this.wake()
    return out
  }

  /** Removes a deleted pipeline's artifacts and logs. */
  forgetPipeline(accountId: string, name: string): void {
    this.#triggers.forget(accountId, name)
    rmSync(inside(this.#d.artifactDir, segment(accountId), segment(name)), {
      recursive: true,
      force: true,
    })
  }

  /**
   * Pages on the provider for a repository (and a commit): `entityUrl` and `revisionUrl` of
   * source actions. Undefined when the provider has no adapter or the name is not one of its.
   */
  /** Whether the provider names repositories by numeric ids too (GitLab project ids). */
  #numericIds(providerType: string): boolean {
    try {
      return this.#d.keeper.provider(providerType).capabilities.numericRepositoryIds === true
    } catch {
      return false
    }
  }

  webLinks(providerType: string, fullName: string, commit?: string): WebLinks | undefined {
    if (!SUPPORTED_PROVIDERS.includes(providerType)) return undefined
    try {
      return this.#d.keeper.provider(providerType).webLinks(fullName, commit)
    } catch (err) {
      if (err instanceof ProviderNotFound) return undefined
      throw err
    }
  }

  /** A link to an action's log (ListActionExecutions, GetPipelineState, the console). */
  logUrl(a: ActionExecutionRecord): string | undefined {
    const detail = JSON.parse(a.detail) as ActionDetail
    if (!detail.hasLog) return undefined
    const token = this.#d.signer.sign(
      'action-log',
      { a: a.accountId, p: a.pipelineName, e: a.executionId, x: a.id },
      LOG_LINK_TTL_MS,
    )
    return `${this.#d.publicUrl()}/pipelines/logs/${token}`
  }

  /** The log file a link names, or undefined when the link is not valid. */
  openLogLink(token: string): string | undefined {
    const v = this.#d.signer.open<{ a: string; p: string; e: string; x: string }>(
      'action-log',
      token,
    )
    if (!v) return undefined
    return this.logFile(v.a, v.p, v.e, v.x)
  }

  logFile(account: string, pipeline: string, execution: string, actionExecution: string): string {
    return inside(
      this.executionDir(account, pipeline, execution),
      'logs',
      `${segment(actionExecution)}.log`,
    )
  }

  /** An execution's folder in the artifact store (names encoded, checked to stay inside it). */
  executionDir(account: string, pipeline: string, execution: string): string {
    return inside(this.#d.artifactDir, segment(account), segment(pipeline), segment(execution))
  }

  // ---- webhooks and polling -------------------------------------------------------------------

  async #connection(
    cache: Map<string, ConnectionRecord | undefined>,
    accountId: string,
    arn: string,
  ): Promise<ConnectionRecord | undefined> {
    const key = `${accountId}|${arn}`
    if (!cache.has(key)) cache.set(key, await this.#d.store.connections.get(accountId, arn))
    return cache.get(key)
  }

  async #reconcile(): Promise<void> {
    this.#reconcileWanted = false
    const remove = this.#removeWanted
    this.#removeWanted = false
    const sources = await this.#d.store.pipelines.allSources()
    const conns = new Map<string, ConnectionRecord | undefined>()
    const wanted = new Set<string>()
    // Many pipelines on one repository share its webhook: each repository once.
    const seen = new Set<string>()
    for (const s of sources) {
      const key = `${s.accountId}|${s.connectionArn}|${s.repository}`
      if (seen.has(key)) continue
      seen.add(key)
      const conn = await this.#connection(conns, s.accountId, s.connectionArn)
      if (!conn || conn.status !== 'AVAILABLE' || !conn.installationId) continue
      wanted.add(`${s.accountId}|${conn.installationId}|${s.repository.toLowerCase()}`)
      // A polled repository tries for a webhook again now and then (each try is a request).
      if (!remove && !this.#poller.hookRetryDue(key)) continue
      try {
        const hook = await this.#d.webhooks.ensure(s.accountId, s.connectionArn, s.repository)
        // A project named by id (GitLab): its webhook is recorded for the project's path.
        wanted.add(`${s.accountId}|${conn.installationId}|${hook.repository.toLowerCase()}`)
        this.#poller.remove(key)
      } catch (err) {
        if (!this.#poller.has(key))
          this.#d.logger.warn(
            { err: (err as Error).message, repository: s.repository },
            'webhook could not be registered; polling the repository instead',
          )
        this.#poller.add(s.accountId, s.connectionArn, s.repository)
      }
    }
    this.#poller.retain(
      new Set(sources.map((s) => `${s.accountId}|${s.connectionArn}|${s.repository}`)),
    )
    if (!remove) return
    for (const w of await this.#d.store.webhooks.all()) {
      if (wanted.has(`${w.accountId}|${w.installationId}|${w.repository.toLowerCase()}`)) continue
      try {
        await this.#d.webhooks.remove(w.id)
        this.#d.logger.info({ webhook: w.id, repository: w.repository }, 'webhook removed')
      } catch (err) {
        this.#d.logger.warn(
          { err: (err as Error).message, webhook: w.id },
          'webhook removal failed',
        )
        // Forget it anyway when the installation can no longer reach the provider.
        await this.#d.store.webhooks.delete(w.id)
      }
    }
  }

  // ---- events ---------------------------------------------------------------------------------

  async #processEvents(): Promise<void> {
    for (;;) {
      if (this.#stopped) return
      const now = this.#now()
      const batch = await this.#d.store.pipelines.events.claim(
        this.nodeId,
        now,
        now + this.#leaseMs,
        20,
      )
      if (batch.length === 0) return
      for (const d of batch) {
        let outcomes: EventOutcome[]
        const started = performance.now()
        const cpu = process.cpuUsage()
        try {
          outcomes = await this.#processEvent(d)
          if (this.onEventProcessed) {
            const used = process.cpuUsage(cpu)
            this.onEventProcessed({
              seq: d.seq,
              touched: outcomes.length,
              started: outcomes.filter((o) => o.started).length,
              ms: performance.now() - started,
              cpuMs: (used.user + used.system) / 1000,
            })
          }
        } catch (err) {
          // Retried when the lease runs out (a provider outage while listing changed files), up
          // to a point: an event that keeps failing is closed with the reason in its outcome.
          const attempts = (this.#failures.get(d.seq) ?? 0) + 1
          this.#failures.set(d.seq, attempts)
          this.#d.logger.warn(
            { err: (err as Error).message, seq: d.seq, attempts },
            'event processing failed',
          )
          if (attempts < MAX_EVENT_ATTEMPTS) continue
          this.#failures.delete(d.seq)
          outcomes = [
            {
              pipeline: '*',
              reason: `not processed after ${attempts} attempts: ${(err as Error).message}`,
            },
          ]
        }
        if (outcomes.some((o) => o.started)) crashPoint('event-started-before-done')
        await this.#d.store.pipelines.events.complete(
          d.seq,
          this.nodeId,
          JSON.stringify(outcomes),
          this.#now(),
        )
      }
    }
  }

  async #processEvent(d: PendingDelivery): Promise<EventOutcome[]> {
    const event = JSON.parse(d.event) as ProviderEvent
    if (event.kind !== 'push' && event.kind !== 'pull_request') return []
    // Only the sources whose watch keys the event carries (pipelines/watches): the others cannot
    // match it, whatever their filters say.
    const store = this.#d.store.pipelines
    const keys = eventKeys(event)
    const sources = await store.candidates(d.accountId, d.repository, keys)
    // Sources may name a project by its numeric id (GitLab's `42`), which events carry beside the
    // path: those are candidates too (their connection's provider must take numeric ids).
    const projectId = event.repository.id
    if (isNumericRepositoryId(projectId) && projectId !== d.repository) {
      sources.push(...(await store.candidates(d.accountId, projectId, keys)))
      const order = (s: WatchedSourceRecord) => `${s.pipelineName}\u0000${s.actionName}`
      sources.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    }
    const conns = new Map<string, ConnectionRecord | undefined>()
    const pipelines = new Map<string, CompiledPipeline | null>()
    const candidates: { s: WatchedSourceRecord; p: CompiledPipeline }[] = []
    const outcomes: EventOutcome[] = []
    for (const s of sources) {
      const conn = await this.#connection(conns, s.accountId, s.connectionArn)
      if (!conn || conn.installationId !== d.installationId) {
        outcomes.push({
          pipeline: s.pipelineName,
          action: s.actionName,
          reason: conn
            ? `its connection ${conn.name} reaches the repository through another installation`
            : `its connection ${s.connectionArn} no longer exists`,
        })
        continue
      }
      if (s.repository === projectId && !this.#numericIds(conn.providerType)) {
        outcomes.push({
          pipeline: s.pipelineName,
          action: s.actionName,
          reason: `its FullRepositoryId ${s.repository} is numeric, which ${conn.providerType} does not take`,
        })
        continue
      }
      let p = pipelines.get(s.pipelineName)
      if (p === undefined) {
        p = await this.#compiled(s)
        pipelines.set(s.pipelineName, p)
      }
      if (p) candidates.push({ s, p })
    }
    if (candidates.length === 0) return outcomes
    // Each candidate is matched once; changed files are fetched once per event, and only when a
    // filter's branches (or events) pass and its file paths decide: most events need no diff.
    let changes = await sourceChanges(event, this.#lookups(d), false)
    let decisions = candidates.map((c) => this.#decide(c.p, c.s, changes, event))
    if (decisions.some((x) => x.needsFiles)) {
      changes = await sourceChanges(event, this.#lookups(d), true)
      decisions = decisions.map((x, i) =>
        x.needsFiles ? this.#decide(candidates[i]!.p, candidates[i]!.s, changes, event) : x,
      )
    }
    // The matching candidates start together (one commit), in candidate order.
    const startedPipelines = new Set<string>()
    const starts: { req: StartRequest; outcome: EventOutcome }[] = []
    for (const [i, c] of candidates.entries()) {
      if (startedPipelines.has(c.s.pipelineName)) {
        outcomes.push({
          pipeline: c.s.pipelineName,
          action: c.s.actionName,
          reason: 'the pipeline was already started by this event through another source action',
        })
        continue
      }
      const decision = decisions[i]!
      if (!decision.change) {
        outcomes.push({
          pipeline: c.s.pipelineName,
          action: c.s.actionName,
          reason: decision.reason,
        })
        continue
      }
      const change = decision.change
      const triggerType =
        d.triggerSource === 'PollForSourceChanges'
          ? 'PollForSourceChanges'
          : decision.filtered
            ? 'WebhookV2'
            : 'Webhook'
      const outcome: EventOutcome = {
        pipeline: c.s.pipelineName,
        action: c.s.actionName,
        reason: decision.reason,
      }
      starts.push({
        req: {
          accountId: d.accountId,
          pipeline: c.p.record,
          decl: c.p.decl,
          triggerType,
          triggerDetail: `${d.repository} ${change.event.kind === 'push' ? change.event.ref.type : 'pull request'} ${change.ref} at ${change.commit}`,
          sourceRevisions: {
            [c.s.actionName]: {
              revisionType: 'COMMIT_ID',
              revisionValue: change.commit,
              ref: change.ref,
            },
          },
          variables: c.p.variables,
          dedupeKey: `event:${d.seq}:${c.s.pipelineName}`,
        },
        outcome,
      })
      startedPipelines.add(c.s.pipelineName)
      outcomes.push(outcome)
    }
    const started = await this.startExecutions(starts.map((x) => x.req))
    for (const [i, x] of starts.entries()) x.outcome.started = started[i]!.id
    return outcomes
  }

  /**
   * The pipeline of a candidate source, parsed and compiled: from this node's cache while the
   * index names the same declaration digest, else read from the store (null: deleted meanwhile).
   * A pipeline indexed before the index knew its keys (digest '') is indexed by them now.
   */
  async #compiled(s: WatchedSourceRecord): Promise<CompiledPipeline | null> {
    const cached = this.#triggers.get(s.accountId, s.pipelineName, s.declarationDigest)
    if (cached) return cached
    const record = await this.#d.store.pipelines.get(s.accountId, s.pipelineName)
    if (!record) return null
    const digest = declarationDigest(record.declaration)
    const p = compilePipeline(record, digest)
    this.#triggers.set(p)
    if (s.declarationDigest === '') {
      const actions = p.decl.stages.flatMap((x) => x.actions.filter(isSource))
      const sources = watchedSources(p.decl, sourceRecords(s.accountId, p.decl, actions))
      await this.#d.store.pipelines.rewatch(s.accountId, s.pipelineName, digest, sources)
    }
    return p
  }

  #decide(
    p: CompiledPipeline,
    s: PipelineSourceRecord,
    changes: SourceChange[],
    event: ProviderEvent,
  ): { change?: SourceChange; reason: string; filtered?: boolean; needsFiles?: boolean } {
    const compiled = p.source(s.actionName)
    if (compiled.matcher) {
      const reasons: string[] = []
      let needsFiles = false
      for (const change of changes) {
        const m = compiled.matcher.match(change.event)
        // A match after a filter that lacked the changed files is decided again with them (as
        // that filter may match an earlier change).
        needsFiles ||= m.needsFiles
        if (m.matched) return { change, reason: m.reason, filtered: true, needsFiles }
        reasons.push(m.reason)
      }
      return { reason: reasons.join('; ') || 'the event changes no ref', needsFiles }
    }
    if (compiled.declared && !compiled.detectChanges)
      return { reason: 'DetectChanges is false and the action has no trigger' }
    if (event.kind === 'pull_request')
      return { reason: 'without a trigger only pushes to BranchName start the pipeline' }
    for (const change of changes)
      if (
        change.event.kind === 'push' &&
        change.event.ref.type === 'branch' &&
        change.event.ref.name === s.branch
      )
        return { change, reason: `push to BranchName '${s.branch}'` }
    const refs = changes.map((c) => c.ref).join(', ')
    return { reason: `the push (${refs || 'no ref'}) is not to BranchName '${s.branch}'` }
  }

  #lookups(d: PendingDelivery) {
    const store = this.#d.store
    const keeper = this.#d.keeper
    const inst = store.installations.get(d.accountId, d.installationId)
    const use = async <T>(
      fn: (
        p: ReturnType<CredentialKeeper['provider']>,
        c: Parameters<Parameters<CredentialKeeper['use']>[1]>[0],
      ) => Promise<T>,
    ) => {
      const i = await inst
      if (!i) throw new Error(`Installation ${d.installationId} is gone`)
      const provider = await keeper.adapterOf(i)
      return keeper.use(i, (c) => fn(provider, c))
    }
    return {
      changedFiles: (commit: string, base?: string, fromMergeBase?: boolean) =>
        use(async (p, c) => {
          const files = await p.changedFiles(c, d.repository, commit, base, fromMergeBase)
          return files.flatMap((f) =>
            f.oldPath && f.oldPath !== f.path ? [f.path, f.oldPath] : [f.path],
          )
        }),
      resolveCommit: (commit: string) =>
        use(async (p, c) => (await p.getCommit(c, d.repository, commit)).id),
    }
  }

  // ---- executions -----------------------------------------------------------------------------

  async #claimExecutions(): Promise<void> {
    if (this.#stopped) return
    const room = MAX_RUNNING - this.#running.size
    if (room <= 0) return
    const now = this.#now()
    const claimed = await this.#d.store.pipelines.executions.claim(
      this.nodeId,
      now,
      now + this.#leaseMs,
      room,
    )
    for (const e of claimed) {
      if (this.#running.has(e.id)) continue
      const abort = new AbortController()
      const actionAbort = new AbortController()
      const done = this.#runExecution(e, abort.signal, actionAbort)
        .catch((err: unknown) =>
          this.#d.logger.error({ err, execution: e.id }, 'pipeline execution step failed'),
        )
        .finally(() => this.#running.delete(e.id))
      this.#running.set(e.id, { abort, actionAbort, done })
    }
  }

  async #runExecution(
    e: ExecutionRecord,
    signal: AbortSignal,
    actionAbort: AbortController,
  ): Promise<void> {
    const store = this.#d.store.pipelines
    const owner = this.nodeId
    let lost = false
    let ended = false
    signal.addEventListener('abort', () => actionAbort.abort())
    // The lease is renewed while the node works; an ABANDON request kills the running action.
    const heartbeat = setInterval(
      () => {
        void (async () => {
          if (ended) return
          const ok = await store.executions.update(
            e.id,
            owner,
            { leaseUntil: this.#now() + this.#leaseMs },
            this.#now(),
          )
          if (!ok) {
            lost = true
            actionAbort.abort()
            return
          }
          const fresh = await store.executions.get(e.accountId, e.id)
          if (fresh?.stopMode === 'ABANDON') actionAbort.abort()
        })().catch(() => undefined)
      },
      Math.max(50, Math.min(1000, Math.floor(this.#leaseMs / 3))),
    )
    const release = (changes: Parameters<typeof store.executions.update>[2] = {}) =>
      store.executions.update(
        e.id,
        owner,
        { ...changes, leaseOwner: null, leaseUntil: null },
        this.#now(),
      )
    const finish = async (status: string, summary: string | null) => {
      await store.stageLocks.releaseAll(e.id)
      const changes: Parameters<typeof store.executions.update>[2] = { status, currentStage: null }
      if (summary !== null) changes.statusSummary = summary
      await release(changes)
      this.#d.observe?.execution(status)
      this.#d.logger.info(
        { execution: e.id, pipeline: e.pipelineName, status },
        'pipeline execution finished',
      )
      this.wake()
    }
    try {
      const decl = JSON.parse(e.declaration) as PipelineDeclaration
      const state = parseState(e)
      const mode = e.executionMode
      for (;;) {
        if (signal.aborted || lost) {
          if (!lost) await release()
          return
        }
        const fresh = await store.executions.get(e.accountId, e.id)
        if (!fresh || fresh.leaseOwner !== owner) return
        if (fresh.stopMode) {
          await this.#abandonRunning(e, fresh.stopMode === 'ABANDON')
          await finish('Stopped', fresh.statusSummary)
          return
        }
        if (state.stage >= decl.stages.length) {
          await finish('Succeeded', null)
          return
        }
        const stage = decl.stages[state.stage]!
        if (mode !== 'PARALLEL' && fresh.currentStage !== stage.name) {
          // At the boundary: leave the previous stage (a newer execution may now enter it).
          if (state.stage > 0)
            await store.stageLocks.release(
              e.accountId,
              e.pipelineName,
              decl.stages[state.stage - 1]!.name,
              e.id,
            )
          if (fresh.currentStage !== null)
            await store.executions.update(e.id, owner, { currentStage: null }, this.#now())
          const active = await store.executions.active(e.accountId, e.pipelineName)
          const stageOf = (x: ExecutionRecord) => parseState(x).stage
          // QUEUED: executions enter a stage in the order they started.
          const olderWaiting =
            mode === 'QUEUED' &&
            active.some(
              (x) => x.seq < e.seq && x.currentStage === null && stageOf(x) === state.stage,
            )
          const entered =
            !olderWaiting &&
            (await store.stageLocks.acquire(e.accountId, e.pipelineName, stage.name, e.id))
          if (!entered) {
            // SUPERSEDED: a newer execution waiting for the same stage (or past it) wins.
            const newer =
              mode === 'SUPERSEDED'
                ? active.find((x) => x.seq > e.seq && stageOf(x) >= state.stage)
                : undefined
            if (newer) {
              await finish('Superseded', `Superseded by execution ${newer.id}`)
              return
            }
            this.#d.logger.debug(
              {
                execution: e.id,
                stage: stage.name,
                active: active.map((x) => [x.id, x.seq, stageOf(x), x.currentStage]),
              },
              'waiting for a stage',
            )
            // The stage is taken: look again shortly.
            await store.executions.update(
              e.id,
              owner,
              { leaseUntil: this.#now() + 250 },
              this.#now(),
            )
            return
          }
        }
        await store.executions.update(e.id, owner, { currentStage: stage.name }, this.#now())
        const outcome = await this.#runStage(
          e,
          decl,
          state,
          stage.name,
          actionAbort.signal,
          () => lost,
        )
        if (outcome === 'lost' || lost) return
        if (outcome === 'aborted') {
          if (signal.aborted) {
            await release()
            return
          }
          continue // an abandon request: the loop finishes as Stopped
        }
        if (outcome !== 'ok') {
          await finish('Failed', outcome.failed)
          return
        }
        state.stage++
        if (
          !(await store.executions.update(
            e.id,
            owner,
            { state: JSON.stringify(state) },
            this.#now(),
          ))
        )
          return
      }
    } finally {
      ended = true
      clearInterval(heartbeat)
    }
  }

  /** Marks actions still recorded InProgress as Abandoned (a stop with abandon). */
  async #abandonRunning(e: ExecutionRecord, abandon: boolean): Promise<void> {
    if (!abandon) return
    for (const a of await this.#d.store.pipelines.actions.forExecution(e.id))
      if (a.status === 'InProgress')
        await this.#d.store.pipelines.actions.put({
          ...a,
          status: 'Abandoned',
          updatedAt: this.#now(),
        })
  }

  async #runStage(
    e: ExecutionRecord,
    decl: PipelineDeclaration,
    state: ExecutionState,
    stageName: string,
    signal: AbortSignal,
    isLost: () => boolean,
  ): Promise<'ok' | 'lost' | 'aborted' | { failed: string }> {
    const stage = decl.stages.find((s) => s.name === stageName)!
    const done = new Map(
      (await this.#d.store.pipelines.actions.forExecution(e.id))
        .filter((a) => a.stageName === stageName && a.status === 'Succeeded')
        .map((a) => [a.actionName, a]),
    )
    const orders = [...new Set(stage.actions.map((a) => a.runOrder ?? 1))].sort((x, y) => x - y)
    for (const order of orders) {
      const group = stage.actions.filter((a) => (a.runOrder ?? 1) === order && !done.has(a.name))
      // Each success is saved together with the state holding its outputs (one write, in the
      // order they finish): a node taking over either runs the action again or has its outputs.
      // The actions of the group still see the state as it was when the group started.
      const next = structuredClone(state)
      let saves: Promise<unknown> = Promise.resolve()
      let leaseLost = false
      const save: SaveAction = (a, record, r) => {
        const saved = saves.then(async () => {
          let stateJson: string | null = null
          if (r?.status === 'Succeeded') {
            this.#absorb(next, a, r)
            stateJson = JSON.stringify(next)
          }
          const ok = await this.#d.store.pipelines.actions.record(
            record,
            this.nodeId,
            stateJson,
            this.#now(),
          )
          if (!ok) leaseLost = true
          return ok
        })
        saves = saved.catch(() => undefined)
        return saved
      }
      const results = await Promise.all(
        group.map((a) => this.#runAction(e, decl, state, stageName, a, signal, save)),
      )
      if (isLost() || leaseLost) return 'lost'
      if (signal.aborted) return 'aborted'
      for (const [i, r] of results.entries()) {
        const a = group[i]!
        if (r.status !== 'Succeeded')
          return { failed: `Action ${a.name} in stage ${stageName} failed: ${r.summary}` }
        this.#absorb(state, a, r)
      }
      if (
        !(await this.#d.store.pipelines.executions.update(
          e.id,
          this.nodeId,
          { state: JSON.stringify(state) },
          this.#now(),
        ))
      )
        return 'lost'
    }
    return 'ok'
  }

  /** Takes an action's outputs into the execution state (variables, artifacts, revisions). */
  #absorb(state: ExecutionState, a: ActionDeclaration, r: ActionResult): void {
    if (r.outputVariables) state.outputs[a.namespace ?? `action:${a.name}`] = r.outputVariables
    for (const [name, art] of Object.entries(r.artifacts ?? {})) state.artifacts[name] = art
    if (r.revision && isSource(a))
      state.revisions[a.name] = {
        artifactName: a.outputArtifacts?.[0]?.name ?? a.name,
        ...r.revision,
      }
  }

  #scopes(e: ExecutionRecord, state: ExecutionState): Record<string, Record<string, string>> {
    const scopes: Record<string, Record<string, string>> = {}
    for (const [ns, vars] of Object.entries(state.outputs))
      if (!ns.startsWith('action:')) scopes[ns] = vars
    scopes['variables'] = JSON.parse(e.variables) as Record<string, string>
    scopes['codepipeline'] = { PipelineExecutionId: e.id }
    return scopes
  }

  async #runAction(
    e: ExecutionRecord,
    decl: PipelineDeclaration,
    state: ExecutionState,
    stageName: string,
    a: ActionDeclaration,
    signal: AbortSignal,
    save: SaveAction,
  ): Promise<ActionResult> {
    const id = randomUUID()
    const startedAt = this.#now()
    const started = performance.now()
    const scopes = this.#scopes(e, state)
    const inputDetail: Record<string, unknown> = {
      actionTypeId: a.actionTypeId,
      configuration: a.configuration ?? {},
      roleArn: decl.roleArn,
      region: a.region,
      inputArtifacts: (a.inputArtifacts ?? []).map((i) => ({ name: i.name })),
    }
    if (a.namespace) inputDetail['namespace'] = a.namespace
    const base = {
      id,
      executionId: e.id,
      accountId: e.accountId,
      pipelineName: e.pipelineName,
      stageName,
      actionName: a.name,
      startedAt,
    }
    const record = (status: string, detail: ActionDetail, result?: ActionResult) =>
      save(a, { ...base, status, detail: JSON.stringify(detail), updatedAt: this.#now() }, result)
    // A node that lost the execution's lease leaves it to the node that has it.
    if (!(await record('InProgress', { pipelineVersion: e.pipelineVersion, input: inputDetail })))
      return failed('This node no longer runs the execution')
    let result: ActionResult
    const configuration: Record<string, string> = {}
    try {
      for (const [k, v] of Object.entries(a.configuration ?? {}))
        configuration[k] = resolveVariables(v, scopes)
      inputDetail['resolvedConfiguration'] = configuration
      const revisions = JSON.parse(e.sourceRevisions) as StartRequest['sourceRevisions']
      const rev = revisions[a.name]
      const run: ActionRun = {
        accountId: e.accountId,
        pipelineName: e.pipelineName,
        executionId: e.id,
        actionExecutionId: id,
        decl,
        action: a,
        state,
        configuration,
        scopes,
        caller: (connectionArn) => this.#caller(decl, e.pipelineName, connectionArn),
        artifactDir: this.executionDir(e.accountId, e.pipelineName, e.id),
        logFile: this.logFile(e.accountId, e.pipelineName, e.id, id),
        limits: {
          artifactBytes: this.#d.maxArtifactBytes ?? DEFAULT_MAX_BYTES,
          sourceArchiveBytes: this.#d.maxSourceArchiveBytes ?? DEFAULT_MAX_BYTES,
        },
        signal,
        store: this.#d.store,
        connect: this.#d.connect,
        webLinks: (type, fullName, commit) => this.webLinks(type, fullName, commit),
      }
      if (rev)
        run.revision = rev.ref
          ? { revisionValue: rev.revisionValue, ref: rev.ref }
          : { revisionValue: rev.revisionValue }
      if (isSource(a)) result = await runSource(run)
      else if (isCommands(a))
        result = await runCommands(run, {
          enabled: this.#d.enableCommands,
          maxTimeoutMs: this.#d.commandsTimeoutMs,
          sandbox: this.#d.commandsSandbox,
        })
      else result = failed(`Junction cannot run action type ${a.actionTypeId.provider}`)
    } catch (err) {
      if (!(err instanceof UnresolvedVariable))
        this.#d.logger.error({ err, action: a.name, execution: e.id }, 'action failed unexpectedly')
      result = failed(
        err instanceof UnresolvedVariable
          ? err.message
          : `Internal error: ${(err as Error).message}`,
      )
    }
    if (signal.aborted) {
      await record('Abandoned', {
        pipelineVersion: e.pipelineVersion,
        input: inputDetail,
        summary: 'Abandoned',
        ...(result.hasLog ? { hasLog: true } : {}),
      })
      return result
    }
    const output: Record<string, unknown> = {
      outputArtifacts: Object.keys(result.artifacts ?? {}).map((name) => ({ name })),
    }
    if (result.outputVariables) output['outputVariables'] = result.outputVariables
    const detail: ActionDetail = {
      pipelineVersion: e.pipelineVersion,
      input: inputDetail,
      output,
      summary: result.summary,
    }
    if (result.errorDetails) detail.errorDetails = result.errorDetails
    if (result.externalExecutionId) detail.externalExecutionId = result.externalExecutionId
    if (result.externalExecutionUrl) detail.externalExecutionUrl = result.externalExecutionUrl
    if (result.revision)
      detail.revision = {
        revisionId: result.revision.revisionId,
        created: result.revision.created ?? this.#now(),
        ...(result.revision.revisionUrl ? { revisionUrl: result.revision.revisionUrl } : {}),
      }
    if (result.hasLog) detail.hasLog = true
    this.#d.observe?.action(
      a.actionTypeId.provider,
      result.status,
      (performance.now() - started) / 1000,
    )
    await record(result.status, detail, result)
    return result
  }

  #caller(decl: PipelineDeclaration, pipelineName: string, connectionArn: string): Caller {
    return {
      principal: rolePrincipal(decl.roleArn, pipelineName),
      service:
        connectionArn.split(':')[2] === 'codeconnections'
          ? 'codeconnections'
          : 'codestar-connections',
    }
  }
}

/**
 * Records an action execution (with the execution state holding its outputs when `result`
 * succeeded); false when this node lost the execution's lease (nothing was written).
 */
type SaveAction = (
  a: ActionDeclaration,
  record: ActionExecutionRecord,
  result?: ActionResult,
) => Promise<boolean>
