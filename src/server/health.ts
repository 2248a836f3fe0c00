/**
 * @module server/health
 * Readiness for orchestrators (`GET /ready`; `GET /health` is liveness: the process answers).
 * A node is ready when, within a timeout:
 *
 * - **the store answers**: a read of the root key's row, which also fails on a schema that is gone
 *   or was never migrated (Junction applies its migrations before it listens, so a node that
 *   answers at all has migrated; this read notices a database replaced or dropped under it);
 * - **work leases can be held, or are not needed**: an `--api-only` node takes no work and holds
 *   no leases; a worker's pipeline engine must be running, and the store's round trip must stay
 *   well within a lease (under a third of `--work-lease`: the engine renews every second or so,
 *   and a renewal that lands after the lease ran out lets another node take the execution over);
 * - **it is not shutting down** (SIGTERM drains: the orchestrator stops sending traffic first).
 *
 * The answer is `200 {"status":"ready",…}` or `503 {"status":"not ready",…}` with every check's
 * outcome; an error names its kind only (its message may carry a database host), never a secret.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface ReadinessDeps {
  /** A cheap read that needs the migrated schema (the root key's row). */
  readStore: () => Promise<unknown>
  /** Whether this node runs pipeline work (not `--api-only`). */
  worker: boolean
  /** Whether the pipeline engine is taking work. */
  engineRunning: () => boolean
  /** How long a lease lasts (`--work-lease`); a store round trip must stay under a third of it. */
  leaseMs: number
  /** True once a graceful stop began. */
  closing: () => boolean
  /** How long the store may take before the node counts as not ready (default 2 s). */
  timeoutMs?: number
  now?: () => number
}

export interface Readiness {
  ready: boolean
  checks: {
    store: { ok: boolean; ms?: number; error?: string }
    leases: { ok: boolean; needed: boolean; reason?: string }
    shutdown: { ok: boolean }
  }
}

const DEFAULT_TIMEOUT_MS = 2000

class Timeout extends Error {}

function errorKind(err: unknown): string {
  if (err instanceof Timeout) return err.message
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? `store error ${code}` : 'store error'
}

/** Runs the checks; never throws. */
export async function checkReadiness(d: ReadinessDeps): Promise<Readiness> {
  const now = d.now ?? (() => performance.now())
  const timeoutMs = d.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const started = now()
  let store: Readiness['checks']['store']
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      d.readStore(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Timeout(`store did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        )
      }),
    ])
    store = { ok: true, ms: Math.round(now() - started) }
  } catch (err) {
    store = { ok: false, error: errorKind(err) }
  } finally {
    clearTimeout(timer)
  }
  let leases: Readiness['checks']['leases']
  const leaseMarginMs = Math.floor(d.leaseMs / 3)
  if (!d.worker) leases = { ok: true, needed: false }
  else if (!d.engineRunning())
    leases = { ok: false, needed: true, reason: 'the pipeline engine is not running' }
  else if (!store.ok) leases = { ok: false, needed: true, reason: 'the store does not answer' }
  else if (store.ms! > leaseMarginMs)
    leases = {
      ok: false,
      needed: true,
      reason: `a store round trip (${store.ms} ms) is longer than a third of the work lease (${leaseMarginMs} ms)`,
    }
  else leases = { ok: true, needed: true }
  const shutdown = { ok: !d.closing() }
  return { ready: store.ok && leases.ok && shutdown.ok, checks: { store, leases, shutdown } }
}

/** Answers `GET|HEAD /ready`. */
export async function handleReady(
  req: IncomingMessage,
  res: ServerResponse,
  d: ReadinessDeps,
): Promise<void> {
  const r = await checkReadiness(d)
  const body = JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks })
  res.writeHead(r.ready ? 200 : 503, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}
