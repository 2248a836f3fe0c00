/**
 * @module sandbox/core/deliveries
 * Webhook delivery for a provider's sandbox: a JSON POST per subscribed hook, with the provider's
 * headers (event name, ids, its signature scheme), retried on 5xx and network errors, recorded
 * (the last 1,000) for `GET /_sandbox/deliveries`, and resent on request with the same body and
 * delivery id, as providers' "Redeliver"/"Resend request" buttons do.
 */
import { randomUUID } from 'node:crypto'

/** Where a delivery goes: a hook's id, URL and (optional) signing secret. */
export interface HookTarget {
  id: string
  url: string
  secret: string | null
}

export interface DeliveryRecord {
  id: string
  hook: string
  event: string
  url: string
  status: number | 'error'
  attempts: number
  at: string
}

export interface DeliveryOptions {
  /**
   * The provider's headers for one attempt (event, ids, attempt number, and the signature over
   * `body` with the hook's secret, in the provider's scheme). Content-Type is JSON already.
   */
  headers(
    hook: HookTarget,
    delivery: DeliveryRecord,
    body: Buffer,
    attempt: number,
  ): Record<string, string>
  /** The hook a recorded delivery went to, as it is now (undefined: deleted, no resend). */
  findHook(id: string): HookTarget | undefined
  /** A new delivery id (default: a UUID). */
  newId?(): string
  /** Attempts per delivery (default 3). */
  attempts?: number
  /** Pause before retry n (default 200 ms × n). */
  backoffMs?(attempt: number): number
  /** Keeps each delivery's promise until it settles (the server's `track`). */
  track(p: Promise<unknown>): void
  /** The array to record deliveries in (default: a new one), when the provider exposes it. */
  records?: DeliveryRecord[]
}

export class Deliveries {
  readonly records: DeliveryRecord[]
  readonly #bodies = new Map<string, { event: string; body: Buffer }>()

  constructor(private readonly o: DeliveryOptions) {
    this.records = o.records ?? []
  }

  /** Sends `payload` as `event` to each hook, in the background (tracked); the records made. */
  deliver(hooks: HookTarget[], event: string, payload: unknown): DeliveryRecord[] {
    const body = Buffer.from(JSON.stringify(payload))
    const made: DeliveryRecord[] = []
    for (const h of hooks) {
      const record: DeliveryRecord = {
        id: this.o.newId?.() ?? randomUUID(),
        hook: h.id,
        event,
        url: h.url,
        status: 'error',
        attempts: 0,
        at: new Date().toISOString(),
      }
      this.records.push(record)
      made.push(record)
      this.#bodies.set(record.id, { event, body })
      if (this.records.length > 1000) this.#bodies.delete(this.records.shift()!.id)
      this.o.track(this.#attempt(h, record, body))
    }
    return made
  }

  /** Sends a recorded delivery again (same body, same id); undefined when unknown or hook gone. */
  resend(id: string, matches = (recorded: string) => recorded === id): Promise<void> | undefined {
    const sent = this.records.find((d) => matches(d.id))
    const body = sent && this.#bodies.get(sent.id)
    const h = sent && this.o.findHook(sent.hook)
    if (!sent || !body || !h) return undefined
    const p = this.#attempt(h, sent, body.body)
    this.o.track(p)
    return p
  }

  async #attempt(h: HookTarget, record: DeliveryRecord, body: Buffer): Promise<void> {
    const attempts = this.o.attempts ?? 3
    for (let attempt = 1; attempt <= attempts; attempt++) {
      record.attempts = attempt
      const headers = {
        'Content-Type': 'application/json',
        ...this.o.headers(h, record, body, attempt),
      }
      try {
        const res = await fetch(h.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(10_000),
        })
        await res.body?.cancel()
        record.status = res.status
        if (res.status < 500) return
      } catch {
        record.status = 'error'
      }
      await new Promise((r) => setTimeout(r, this.o.backoffMs?.(attempt) ?? 200 * attempt))
    }
  }
}
