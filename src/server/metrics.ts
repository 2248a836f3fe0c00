/**
 * @module server/metrics
 * Prometheus metrics (prom-client): one registry per running Junction, the metric definitions, and
 * the small observer methods the instrumented modules call. Every label value is bounded: operation
 * names Junction recognised, HTTP statuses, error codes Junction defines, provider types, enum
 * outcomes, and endpoint templates (`GET /repos/{owner}/{repo}`) instead of URLs. No ARN, account,
 * repository, token or other user input is ever a label value; a label that somehow grows past
 * {@link MAX_SERIES} values folds the rest into `other`.
 *
 * Exposed at `/metrics` on the main port (`--metrics`) or on its own listener (`--metrics-port`,
 * loopback by default): see docs/observability.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ProviderCallObservation } from '../providers/http-client.js'
import { COMMANDS_PROVIDER, SOURCE_PROVIDER } from '../pipelines/definition.js'

/** The most values one observer keeps apart before folding new ones into `other`. */
export const MAX_SERIES = 500

/** API latency buckets, in seconds: the hot path answers in well under a millisecond. */
const API_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
/** Provider calls cross a network. */
const PROVIDER_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Pipeline actions: a source download to a long build. */
const ACTION_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600]

/** Error codes that mean the caller was not authenticated, and the reason label for each. */
const AUTH_REASONS: Record<string, string> = {
  MissingAuthenticationTokenException: 'missing_signature',
  IncompleteSignatureException: 'incomplete_signature',
  InvalidSignatureException: 'invalid_signature',
  UnrecognizedClientException: 'unknown_access_key',
  ExpiredTokenException: 'expired_credentials',
  ThrottlingException: 'throttled',
}

/** Action providers Junction runs (pipelines/definition.ts); any other is `other`. */
const RUNNABLE_ACTIONS = new Set([SOURCE_PROVIDER, COMMANDS_PROVIDER])

/** The queue of recorded provider events not yet processed: how many, and the oldest's arrival. */
export type Backlog = () => Promise<{ depth: number; oldestReceivedAt: number | null }>

export interface MetricsOptions {
  /** Read on each scrape for the event-queue gauges. */
  backlog?: Backlog
  /** The clock the store's `received_at` is on (the queue age is measured against it). */
  now?: () => number
  /** Node's process metrics (CPU, memory, event-loop lag, GC); on by default. */
  processMetrics?: boolean
}

/** One labelled series of {@link RequestHistogram}: bucket counts (not cumulative), sum, count. */
interface Series {
  labels: Record<string, string>
  counts: Float64Array
  sum: number
  count: number
}

/**
 * The API latency histogram, kept by hand for the hot path: a request costs two Map lookups and a
 * short bucket scan, instead of prom-client's per-observation label validation and hashing. It is
 * registered as a prom-client metric (`get()` gives the same values a Histogram would), so the
 * exposition is prom-client's.
 */
class RequestHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #byOperation = new Map<string, Map<number, Series>>()
  #size = 0

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(service: string, operation: string, status: number, seconds: number): void {
    const key = `${service} ${operation}`
    let byStatus = this.#byOperation.get(key)
    if (byStatus === undefined) {
      // Bounded: past MAX_SERIES operation keys, new ones count as `other`.
      if (this.#size >= MAX_SERIES) return this.observe('other', 'other', status, seconds)
      this.#byOperation.set(key, (byStatus = new Map()))
      this.#size++
    }
    let s = byStatus.get(status)
    if (s === undefined) {
      s = {
        labels: { service, operation, status: String(status) },
        counts: new Float64Array(this.buckets.length + 1),
        sum: 0,
        count: 0,
      }
      byStatus.set(status, s)
    }
    let i = 0
    while (i < this.buckets.length && seconds > this.buckets[i]!) i++
    s.counts[i]!++
    s.sum += seconds
    s.count++
  }

  get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] =
      []
    for (const byStatus of this.#byOperation.values())
      for (const s of byStatus.values()) {
        let cumulative = 0
        for (let i = 0; i <= this.buckets.length; i++) {
          cumulative += s.counts[i]!
          const le = i < this.buckets.length ? this.buckets[i]! : '+Inf'
          values.push({
            metricName: `${this.name}_bucket`,
            labels: { le, ...s.labels },
            value: cumulative,
          })
        }
        values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum })
        values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count })
      }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    }
  }

  reset(): void {
    this.#byOperation.clear()
    this.#size = 0
  }
}

export class Metrics {
  readonly registry = new Registry()
  readonly contentType = this.registry.contentType
  readonly #api: RequestHistogram
  readonly #apiErrors: Counter<'service' | 'operation' | 'code'>
  readonly #authFailures: Counter<'reason'>
  readonly #webhooks: Counter<'provider' | 'outcome'>
  readonly #executions: Counter<'status'>
  readonly #actions: Histogram<'action' | 'status'>
  readonly #providerCalls: Histogram<'provider' | 'endpoint' | 'status'>
  readonly #refreshes: Counter<'provider' | 'outcome'>
  readonly #credentialFailures: Counter<'provider'>
  readonly #seen = new Map<string, Set<string>>()

  constructor(o: MetricsOptions = {}) {
    const registers = [this.registry]
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry })
    this.#api = new RequestHistogram(
      'junction_api_request_duration_seconds',
      'API, console and web requests by operation (or route) and HTTP status; _count is the number of requests',
      API_BUCKETS,
    )
    this.registry.registerMetric(this.#api as unknown as Histogram)
    this.#apiErrors = new Counter({
      name: 'junction_api_errors_total',
      help: 'Requests answered with an AWS error, by operation and error code',
      labelNames: ['service', 'operation', 'code'],
      registers,
    })
    this.#authFailures = new Counter({
      name: 'junction_auth_failures_total',
      help: 'Requests refused before authorization: missing, malformed or wrong signatures, unknown or expired keys, throttled sign-ins',
      labelNames: ['reason'],
      registers,
    })
    this.#webhooks = new Counter({
      name: 'junction_webhook_deliveries_total',
      help: 'Provider webhook deliveries by provider and outcome (recorded, duplicate, ignored, rejected)',
      labelNames: ['provider', 'outcome'],
      registers,
    })
    const now = o.now ?? Date.now
    const backlog = o.backlog
    let pending: ReturnType<Backlog> | undefined
    // Both gauges read one query per scrape.
    const read = () => (pending ??= backlog!().finally(() => (pending = undefined)))
    new Gauge({
      name: 'junction_event_queue_depth',
      help: 'Recorded provider events (webhook deliveries, poll findings) not yet processed',
      registers,
      async collect() {
        if (backlog) this.set((await read()).depth)
      },
    })
    new Gauge({
      name: 'junction_event_queue_oldest_age_seconds',
      help: 'Age of the oldest unprocessed event (0 when the queue is empty)',
      registers,
      async collect() {
        if (!backlog) return
        const b = await read()
        this.set(b.oldestReceivedAt === null ? 0 : Math.max(0, now() - b.oldestReceivedAt) / 1000)
      },
    })
    this.#executions = new Counter({
      name: 'junction_pipeline_executions_total',
      help: 'Pipeline executions finished on this node, by final status',
      labelNames: ['status'],
      registers,
    })
    this.#actions = new Histogram({
      name: 'junction_pipeline_action_duration_seconds',
      help: 'Pipeline actions run on this node, by action provider and result',
      labelNames: ['action', 'status'],
      buckets: ACTION_BUCKETS,
      registers,
    })
    this.#providerCalls = new Histogram({
      name: 'junction_provider_request_duration_seconds',
      help: 'HTTP requests to providers (each attempt), by provider, endpoint template and status (a number, or timeout / unreachable)',
      labelNames: ['provider', 'endpoint', 'status'],
      buckets: PROVIDER_BUCKETS,
      registers,
    })
    this.#refreshes = new Counter({
      name: 'junction_credential_refreshes_total',
      help: 'Provider credential refreshes by provider and outcome (success, failure)',
      labelNames: ['provider', 'outcome'],
      registers,
    })
    this.#credentialFailures = new Counter({
      name: 'junction_credential_failures_total',
      help: 'Installations whose provider credential stopped working (moved to ERROR)',
      labelNames: ['provider'],
      registers,
    })
  }

  /** One answered request (the hot path: a Map lookup and a histogram observation). */
  request(
    service: string | undefined,
    operation: string | undefined,
    status: number,
    seconds: number,
    errorCode: string | undefined,
  ): void {
    const s = service ?? 'none'
    const op = operation ?? 'none'
    this.#api.observe(s, op, status, seconds)
    if (errorCode !== undefined) {
      this.#apiErrors.inc({
        service: this.#bounded('service', s),
        operation: this.#bounded('operation', op),
        code: this.#bounded('code', errorCode),
      })
      const reason = AUTH_REASONS[errorCode]
      if (reason !== undefined) this.#authFailures.inc({ reason })
    }
  }

  webhook(provider: string | undefined, outcome: string): void {
    this.#webhooks.inc({ provider: this.#bounded('provider', provider ?? 'unknown'), outcome })
  }

  execution(status: string): void {
    this.#executions.inc({ status: this.#bounded('status', status) })
  }

  action(provider: string, status: string, seconds: number): void {
    // The action's provider comes from a pipeline declaration: only the ones Junction runs are kept.
    const action = RUNNABLE_ACTIONS.has(provider) ? provider : 'other'
    this.#actions.observe({ action, status: this.#bounded('status', status) }, seconds)
  }

  providerCall(o: ProviderCallObservation): void {
    this.#providerCalls.observe(
      {
        provider: this.#bounded('provider', o.provider),
        endpoint: this.#bounded('endpoint', endpointTemplate(o.method, o.url)),
        status: String(o.status),
      },
      o.seconds,
    )
  }

  credentialRefresh(provider: string, ok: boolean): void {
    this.#refreshes.inc({
      provider: this.#bounded('provider', provider),
      outcome: ok ? 'success' : 'failure',
    })
  }

  credentialFailure(provider: string): void {
    this.#credentialFailures.inc({ provider: this.#bounded('provider', provider) })
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  scrape(): Promise<string> {
    return this.registry.metrics()
  }

  /** The value itself while fewer than MAX_SERIES values of `label` were seen, else `other`. */
  #bounded(label: string, value: string): string {
    let seen = this.#seen.get(label)
    if (!seen) this.#seen.set(label, (seen = new Set()))
    if (seen.has(value)) return value
    if (seen.size >= MAX_SERIES) return 'other'
    seen.add(value)
    return value
  }
}

/** Answers `GET /metrics` (and HEAD); true when it did. */
export async function serveMetrics(
  metrics: Metrics,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await metrics.scrape()
  res.writeHead(200, {
    'Content-Type': metrics.contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** The `--metrics-port` listener: `/metrics` only, nothing else of Junction behind it. */
export function createMetricsServer(metrics: Metrics): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' })
      res.end('Not found: this listener serves GET /metrics only\n')
      return
    }
    serveMetrics(metrics, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end('metrics collection failed\n')
    })
  })
}

/**
 * Path words kept as they are in an endpoint template: the REST vocabulary of the providers'
 * APIs Junction calls. Every other segment is a value (an owner, a repository, an id, a commit, a
 * file path) and becomes a placeholder, so a template never carries a name, an id or a token.
 */
const LITERALS = new Set([
  '2.0',
  'api',
  'v3',
  'site',
  'oauth2',
  'login',
  'oauth',
  'access_token',
  'authorize',
  'repositories',
  'repos',
  'user',
  'users',
  'workspaces',
  'workspace',
  'projects',
  'installation',
  'installations',
  'app',
  'access_tokens',
  'orgs',
  'hooks',
  'refs',
  'branches',
  'branch',
  'tags',
  'commit',
  'commits',
  'src',
  'diff',
  'diffstat',
  'compare',
  'tarball',
  'zipball',
  'get',
  'pullrequests',
  'pulls',
  'permissions',
  'members',
  'contents',
  'git',
  'trees',
  'statuses',
  'status',
  'rate_limit',
])

/** Placeholders named after the word before them (the rest are `{id}`). */
const NAMED: Record<string, string[]> = {
  repositories: ['{owner}', '{repo}'],
  repos: ['{owner}', '{repo}'],
  workspaces: ['{workspace}'],
  orgs: ['{org}'],
  users: ['{user}'],
  projects: ['{project}'],
  installations: ['{installation}'],
  hooks: ['{hook}'],
  branches: ['{branch}'],
  commit: ['{commit}'],
  commits: ['{commit}'],
}
/** After these, everything left is one value (a ref and a file path). */
const REST = new Set([
  'src',
  'diff',
  'diffstat',
  'tarball',
  'zipball',
  'compare',
  'contents',
  'get',
])

const MAX_TEMPLATE_SEGMENTS = 10

/**
 * `GET /repos/{owner}/{repo}/commits/{commit}` from `GET https://api.github.com/repos/a/b/commits/c?x`:
 * the origin and query dropped, values replaced by placeholders (see LITERALS).
 */
export function endpointTemplate(method: string, url: string): string {
  let path: string
  try {
    path = new URL(url).pathname
  } catch {
    return `${method} {unparsed}`
  }
  const segments = path.split('/').filter(Boolean)
  const out: string[] = []
  for (let i = 0; i < segments.length && out.length < MAX_TEMPLATE_SEGMENTS; i++) {
    const s = segments[i]!
    if (!LITERALS.has(s)) {
      if (out.at(-1) !== '{id}') out.push('{id}')
      continue
    }
    out.push(s)
    if (REST.has(s)) {
      if (i + 1 < segments.length) out.push('{path}')
      break
    }
    for (const name of NAMED[s] ?? []) {
      if (i + 1 >= segments.length || out.length >= MAX_TEMPLATE_SEGMENTS) break
      i++
      out.push(name)
    }
  }
  return `${method} /${out.join('/')}`
}
