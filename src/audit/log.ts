/**
 * @module audit/log
 * The audit trail's writer, off the request path: a call or a use is turned into its event and
 * pushed on an in-memory buffer; the buffer is written to the store in batches (one transaction
 * each) every `flushMs`, sooner once `batchSize` events wait, and on shutdown. The buffer is
 * bounded: while the store cannot keep up (or is down), events past `maxBuffered` are dropped and
 * counted, and a warning says how many. What a crash loses is what was buffered: at most
 * `flushMs` of events (docs/audit.md). Events older than the retention are removed on a timer.
 */
import type { Logger } from 'pino'
import type { AuditEventRecord, AuditRepository } from '../store/audit-store.js'
import { buildEvent, type CallFacts, type Naming } from './events.js'

export interface AuditLogOptions {
  repository: AuditRepository
  logger: Logger
  naming: Naming
  now: () => number
  /** Days events are kept (CloudTrail's event history keeps 90). */
  retentionMs: number
  flushMs?: number
  batchSize?: number
  maxBuffered?: number
  /** How often the retention sweep runs. */
  sweepMs?: number
}

export class AuditLog {
  readonly #o: Required<AuditLogOptions>
  #buffer: CallFacts[] = []
  #writing: Promise<void> | undefined
  #dropped = 0
  #timers: NodeJS.Timeout[] = []
  #closed = false

  constructor(o: AuditLogOptions) {
    this.#o = {
      flushMs: 1000,
      batchSize: 500,
      maxBuffered: 20_000,
      sweepMs: 3_600_000,
      ...o,
    }
  }

  /** Starts the flush and retention timers (the first sweep runs at once). */
  start(): void {
    this.#timers.push(
      setInterval(() => void this.flush(), this.#o.flushMs).unref(),
      setInterval(() => void this.#sweepLogged(), this.#o.sweepMs).unref(),
    )
    void this.#sweepLogged()
  }

  /** Queues an event (cheap: the event is built when the batch is written). */
  record(facts: CallFacts): void {
    if (this.#closed) return
    if (this.#buffer.length >= this.#o.maxBuffered) {
      this.#dropped++
      return
    }
    this.#buffer.push(facts)
    if (this.#buffer.length === this.#o.batchSize) void this.flush()
  }

  /** Events waiting to be written. */
  get buffered(): number {
    return this.#buffer.length
  }

  /** Writes what is buffered; resolves once it is in the store (or was given up as failed). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing
    if (this.#buffer.length === 0) return
    const batch = this.#buffer
    this.#buffer = []
    this.#writing = this.#write(batch).finally(() => (this.#writing = undefined))
    await this.#writing
  }

  async #write(batch: CallFacts[]): Promise<void> {
    const events: AuditEventRecord[] = []
    for (const f of batch) events.push(buildEvent(f, this.#o.naming))
    try {
      await this.#o.repository.append(events)
    } catch (err) {
      // Kept for the next flush while there is room; the rest counts as dropped.
      const room = this.#o.maxBuffered - this.#buffer.length
      this.#buffer.unshift(...batch.slice(0, Math.max(0, room)))
      this.#dropped += Math.max(0, batch.length - room)
      this.#o.logger.warn({ err, events: batch.length }, 'writing audit events failed; retrying')
    }
    if (this.#dropped > 0) {
      this.#o.logger.warn(
        { dropped: this.#dropped },
        'audit events dropped: the buffer was full (the store is slow or unreachable)',
      )
      this.#dropped = 0
    }
  }

  /** Removes events past the retention; how many went. */
  sweep(): Promise<number> {
    return this.#o.repository.deleteBefore(this.#o.now() - this.#o.retentionMs)
  }

  async #sweepLogged(): Promise<void> {
    try {
      const removed = await this.sweep()
      if (removed > 0) this.#o.logger.info({ removed }, 'audit events past the retention removed')
    } catch (err) {
      this.#o.logger.warn({ err }, 'sweeping old audit events failed')
    }
  }

  /** Stops the timers and writes what is buffered (graceful shutdown). */
  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    this.#timers = []
    await this.flush()
    this.#closed = true
  }
}
