/**
 * @module providers/http-client
 * The narrow, `fetch`-shaped client adapters talk through (after kysely's `SqliteDatabase`): one
 * place for timeouts, retries with backoff on 429 and 5xx (honouring `Retry-After`), and the
 * mapping of answers to provider errors. Tests aim adapters at a sandbox by URL, not by mocking.
 */
import {
  ProviderAuthFailed,
  ProviderNotFound,
  ProviderRateLimited,
  ProviderRequestFailed,
  ProviderUnavailable,
} from './errors.js'

export interface HttpClientOptions {
  /** Attempts per request in all (first try included). */
  attempts?: number
  /** First backoff delay; doubled each retry, with jitter. */
  baseDelayMs?: number
  /** Longest wait honoured from Retry-After. */
  maxDelayMs?: number
  timeoutMs?: number
  fetch?: typeof fetch
  /**
   * `github`: also read GitHub's rate-limit signals (docs.github.com, "Rate limits for the REST
   * API"): a 403 or 429 with `x-ratelimit-remaining: 0` waits until `x-ratelimit-reset` (epoch
   * seconds; the primary limit), one with `Retry-After` or whose message names a secondary rate
   * limit waits that long (at least a minute without the header, as GitHub asks). Absent: only a
   * 429 is a rate limit and only `Retry-After` is read (Bitbucket).
   */
  rateLimits?: 'github'
  /** Told of every attempt (the metrics' provider calls); the URL is never a label as it is. */
  observe?: ((o: ProviderCallObservation) => void) | undefined
}

/** One attempt of a provider request, as `HttpClientOptions.observe` hears of it. */
export interface ProviderCallObservation {
  provider: string
  method: string
  /** The full URL: the observer reduces it to a template (it may hold names and ids). */
  url: string
  /** The answer's status, or why there was none. */
  status: number | 'timeout' | 'unreachable'
  seconds: number
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string>
  body?: string | URLSearchParams
  /** Statuses the caller handles itself (returned, not thrown). */
  accept?: number[]
  /**
   * Whether a 429 is retried here (default true). Pollers that keep their own budget say false:
   * the 429 is thrown at once as `ProviderRateLimited`, and no request goes out before it.
   */
  retry429?: boolean
}

const RETRYABLE = new Set([429, 500, 502, 503, 504])

export class HttpClient {
  readonly #attempts: number
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #timeoutMs: number
  readonly #fetch: typeof fetch
  readonly #github: boolean
  readonly #observe: ((o: ProviderCallObservation) => void) | undefined

  constructor(
    /** Names the provider in error messages. */
    readonly providerName: string,
    o: HttpClientOptions = {},
  ) {
    this.#attempts = o.attempts ?? 4
    this.#baseDelayMs = o.baseDelayMs ?? 200
    this.#maxDelayMs = o.maxDelayMs ?? 10_000
    this.#timeoutMs = o.timeoutMs ?? 30_000
    this.#fetch = o.fetch ?? fetch
    this.#github = o.rateLimits === 'github'
    this.#observe = o.observe
  }

  /**
   * Sends the request, retrying 429/5xx answers and network failures (idempotent methods, plus
   * any method on 429, which the provider did not act on). Throws a provider error for other
   * failures; the message names the provider's reason, never a header or token.
   */
  async request(url: string, o: RequestOptions = {}): Promise<Response> {
    const method = o.method ?? 'GET'
    const idempotent =
      method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'PUT'
    for (let attempt = 1; ; attempt++) {
      let res: Response | undefined
      const started = this.#observe ? performance.now() : 0
      try {
        res = await this.#fetch(url, {
          method,
          headers: o.headers,
          body: o.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.#timeoutMs),
        })
        this.#observed(method, url, res.status, started)
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError'
        this.#observed(method, url, timedOut ? 'timeout' : 'unreachable', started)
        const problem = timedOut ? 'timed out' : 'could not be reached'
        if (!idempotent || attempt >= this.#attempts)
          throw new ProviderUnavailable(`${this.providerName} ${problem}`)
        await sleep(this.#backoff(attempt))
        continue
      }
      if (res.ok || o.accept?.includes(res.status)) return res
      const limited =
        res.status === 429 || (this.#github && res.status === 403 && (await githubRateLimited(res)))
      if (limited) {
        // Never ask again before Retry-After: a wait longer than this client sleeps goes back to
        // the caller (the poller pauses the credential; a source action fails and is retried).
        const after = this.#github
          ? githubWaitMs(res)
          : retryAfterMs(res.headers.get('retry-after'))
        if (o.retry429 === false || attempt >= this.#attempts || (after ?? 0) > this.#maxDelayMs)
          throw await this.#rateLimited(res, after)
        await res.body?.cancel()
        await sleep(after ?? this.#backoff(attempt))
        continue
      }
      if (RETRYABLE.has(res.status) && idempotent && attempt < this.#attempts) {
        const wait = retryAfterMs(res.headers.get('retry-after')) ?? this.#backoff(attempt)
        await res.body?.cancel()
        await sleep(Math.min(wait, this.#maxDelayMs))
        continue
      }
      throw await this.#errorFor(res)
    }
  }

  /** GET and parse JSON. */
  async json<T>(url: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(url, o)
    return (await res.json()) as T
  }

  #observed(
    method: string,
    url: string,
    status: ProviderCallObservation['status'],
    started: number,
  ): void {
    if (!this.#observe) return
    const seconds = (performance.now() - started) / 1000
    try {
      this.#observe({ provider: this.providerName, method, url, status, seconds })
    } catch {
      // Metrics never fail a provider call.
    }
  }

  #backoff(attempt: number): number {
    const base = this.#baseDelayMs * 2 ** (attempt - 1)
    return Math.min(this.#maxDelayMs, base / 2 + Math.random() * base)
  }

  async #rateLimited(res: Response, after: number | undefined): Promise<ProviderRateLimited> {
    const reason = await providerMessage(res)
    return new ProviderRateLimited(
      `${this.providerName} answered ${res.status}: ${reason || 'the rate limit for this credential is used up'}`,
      after,
    )
  }

  async #errorFor(res: Response): Promise<Error> {
    const reason = await providerMessage(res)
    const text = `${this.providerName} answered ${res.status}${reason ? `: ${reason}` : ''}`
    if (res.status === 401 || res.status === 403) return new ProviderAuthFailed(text, res.status)
    if (res.status === 404 || res.status === 410) return new ProviderNotFound(text, res.status)
    if (RETRYABLE.has(res.status)) return new ProviderUnavailable(text, res.status)
    return new ProviderRequestFailed(text, res.status)
  }
}

/** The provider's own error text (Bitbucket `{error:{message}}`, OAuth `{error_description}`). */
async function providerMessage(res: Response): Promise<string> {
  let text: string
  try {
    text = await res.text()
  } catch {
    return ''
  }
  try {
    const body = JSON.parse(text) as {
      error?: { message?: string } | string
      error_description?: string
      message?: string
    }
    const m =
      typeof body.error === 'object'
        ? body.error?.message
        : (body.error_description ?? body.error ?? body.message)
    return typeof m === 'string' ? m.slice(0, 300) : ''
  } catch {
    return ''
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** A GitHub 403 that is a rate limit, not a refusal (the body is read from a clone). */
async function githubRateLimited(res: Response): Promise<boolean> {
  if (res.headers.get('retry-after') !== null) return true
  if (res.headers.get('x-ratelimit-remaining') === '0') return true
  const text = await res
    .clone()
    .text()
    .catch(() => '')
  return /secondary rate limit|rate limit exceeded|abuse detection/i.test(text)
}

/**
 * How long GitHub asks to wait: `Retry-After`; else, with `x-ratelimit-remaining: 0`, until
 * `x-ratelimit-reset` (plus a second for clock skew); else a minute (secondary limits).
 */
function githubWaitMs(res: Response): number {
  const after = retryAfterMs(res.headers.get('retry-after'))
  if (after !== undefined) return after
  const reset = Number(res.headers.get('x-ratelimit-reset'))
  if (res.headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0)
    return Math.max(0, reset * 1000 - Date.now()) + 1000
  return 60_000
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
