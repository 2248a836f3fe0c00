/**
 * @module pipelines/poller
 * Polls the watched branches of repositories whose webhook could not be registered (Junction not
 * reachable from the provider); a new head becomes a `PollForSourceChanges` event.
 *
 * Repositories of a provider that sends no webhook for some pushes (descriptor
 * `pollBehindWebhooks`: GitLab sends none for a push moving more than three refs) are polled
 * **behind their webhook** as well: a new head that a recorded event already reports is only
 * remembered, and one that no event reports is recorded only when it is still unreported after a
 * grace of twice the interval, at least 30 s (GitLab queues its deliveries: one in flight when a
 * poll runs is not started twice).
 *
 * Polling spends the provider's hourly request limit (Bitbucket Cloud: 1,000 requests an hour to
 * `/2.0/repositories/*` per credential in a rolling hour; an OAuth consumer's requests all count
 * against the consumer), so it is budgeted per **rate-limit bucket**: one per access-token
 * installation, one shared by every OAuth installation (they share Junction's consumer).
 *
 * - One request per repository per poll (`branchHeads`: a branch listing filtered to the watched
 *   branches), whatever the number of watched branches.
 * - A bucket polls its repositories round-robin, one every `spacing`, so polls are spread over the
 *   interval rather than sent in a burst, with ±10% jitter and a random start per bucket.
 * - `spacing = max(interval / repositories, 1 h / budget)`: past what the budget allows, each
 *   repository is polled less often than the interval (never more often). The budget is
 *   `budgetPerHour` of Bitbucket's 1,000 and grows in proportion with a larger limit the provider
 *   announces (Bitbucket's scaled limits for access tokens); spacing doubles while the provider
 *   says the credential is near its limit.
 * - A 429 pauses that bucket only: until `Retry-After` when the provider sends one, otherwise
 *   for a backoff that starts at a minute and doubles up to 15 minutes. Other buckets keep
 *   polling; a slow bucket never holds up another (each polls on its own).
 */
import type { Logger } from 'pino'
import type { CredentialKeeper } from '../connect/credentials.js'
import { ProviderRateLimited } from '../providers/errors.js'
import { descriptorFor } from '../providers/registry.js'
import type { BranchHeads, ProviderEvent } from '../providers/provider.js'
import type { InstallationRecord, Store } from '../store/store.js'

export interface PollerDeps {
  store: Store
  keeper: CredentialKeeper
  logger: Logger
  /** The most often one repository is polled. */
  intervalMs: number
  /**
   * Requests an hour polling may spend per bucket, of Bitbucket's 1,000; scaled in proportion
   * when the provider announces a larger limit.
   */
  budgetPerHour: number
  /** A poll recorded a new event. */
  found(): void
  /** How often due polls are looked for. */
  tickMs?: number
  now?(): number
  random?(): number
}

/** A polled repository: `account|connection|repository`. */
interface Target {
  key: string
  accountId: string
  connectionArn: string
  repository: string
  /** When registering its webhook last failed. */
  hookTriedAt: number
  /** Polled behind its webhook (the provider may send none for some pushes). */
  behind?: boolean
}

interface Bucket {
  targets: Target[]
  cursor: number
  nextAt: number
  pausedUntil: number
  backoffMs: number
  busy: boolean
  limitPerHour?: number
  nearLimit: boolean
}

const HOUR = 3_600_000
const FIRST_BACKOFF_MS = 60_000
const MAX_BACKOFF_MS = 15 * 60_000
/** How often buckets are worked out again (connections change installations rarely). */
const REBUCKET_MS = 5 * 60_000
/** How often a polled repository tries for a webhook again (unless pipelines change). */
const HOOK_RETRY_MS = 10 * 60_000

export class Poller {
  readonly #d: PollerDeps
  readonly #now: () => number
  readonly #random: () => number
  readonly #targets = new Map<string, Target>()
  /** Repositories with a webhook, polled behind it (`pollBehindWebhooks`). */
  #behind = new Map<string, Target>()
  /** `key|branch` → a head a behind poll found that no event reported yet, and since when. */
  readonly #unreported = new Map<string, { head: string; since: number }>()
  #lastBehindScan = 0
  #scanning = false
  #buckets = new Map<string, Bucket>()
  #dirty = true
  #lastBucketing = 0
  #rebucketing = false
  #timer: NodeJS.Timeout | undefined

  constructor(d: PollerDeps) {
    this.#d = d
    this.#now = d.now ?? Date.now
    this.#random = d.random ?? Math.random
  }

  start(): void {
    if (this.#timer) return
    this.#timer = setInterval(() => void this.tick(), this.#d.tickMs ?? 100)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The repository's webhook could not be registered: poll it. */
  add(accountId: string, connectionArn: string, repository: string): void {
    const key = `${accountId}|${connectionArn}|${repository}`
    const known = this.#targets.get(key)
    if (known) {
      known.hookTriedAt = this.#now()
      return
    }
    const hookTriedAt = this.#now()
    this.#targets.set(key, { key, accountId, connectionArn, repository, hookTriedAt })
    this.#dirty = true
  }

  /** Whether to try registering the webhook of `key` (not polled, or last tried a while ago). */
  hookRetryDue(key: string): boolean {
    const t = this.#targets.get(key)
    return !t || this.#now() - t.hookTriedAt >= HOOK_RETRY_MS
  }

  /** The repository has a webhook now (or nothing watches it): stop polling it. */
  remove(key: string): void {
    if (this.#targets.delete(key)) this.#dirty = true
  }

  has(key: string): boolean {
    return this.#targets.has(key)
  }

  /** Forgets repositories no pipeline watches any more (keys as `add` makes them). */
  retain(keys: Set<string>): void {
    for (const key of [...this.#targets.keys()]) if (!keys.has(key)) this.remove(key)
  }

  /** Starts the polls that are due (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    const now = this.#now()
    const scanEvery = Math.min(REBUCKET_MS, Math.max(this.#d.intervalMs, 1000))
    if (now - this.#lastBehindScan >= scanEvery && !this.#scanning) {
      this.#scanning = true
      this.#lastBehindScan = now
      try {
        await this.#scanBehind()
      } catch (err) {
        this.#d.logger.warn({ err: (err as Error).message }, 'polling: listing webhooks failed')
      } finally {
        this.#scanning = false
      }
    }
    if ((this.#dirty || now - this.#lastBucketing > REBUCKET_MS) && !this.#rebucketing) {
      this.#rebucketing = true
      try {
        await this.#rebucket(now)
      } catch (err) {
        this.#d.logger.warn(
          { err: (err as Error).message },
          'polling: grouping repositories failed',
        )
      } finally {
        this.#rebucketing = false
      }
    }
    for (const [name, b] of this.#buckets) {
      if (b.busy || b.targets.length === 0) continue
      const at = this.#now()
      if (at < b.nextAt || at < b.pausedUntil) continue
      b.busy = true
      void this.#pollNext(name, b).finally(() => {
        b.busy = false
      })
    }
  }

  /** Time between two polls of a bucket. */
  spacing(b: Pick<Bucket, 'targets' | 'limitPerHour' | 'nearLimit'>): number {
    const budget = b.limitPerHour
      ? (this.#d.budgetPerHour * b.limitPerHour) / 1000
      : this.#d.budgetPerHour
    const s = Math.max(this.#d.intervalMs / Math.max(1, b.targets.length), HOUR / budget)
    return b.nearLimit ? s * 2 : s
  }

  /**
   * The repositories with a webhook of a `pollBehindWebhooks` provider, each through the
   * connections of its pipelines that reach it with the webhook's installation.
   */
  async #scanBehind(): Promise<void> {
    const found = new Map<string, Target>()
    for (const w of await this.#d.store.webhooks.all()) {
      if (w.providerHookId === 'app' || !descriptorFor(w.providerType)?.pollBehindWebhooks) continue
      for (const s of await this.#d.store.pipelines.sourcesFor(w.accountId, w.repository)) {
        const key = `${s.accountId}|${s.connectionArn}|${s.repository}`
        if (found.has(key)) continue
        const conn = await this.#d.store.connections.get(s.accountId, s.connectionArn)
        if (!conn || conn.installationId !== w.installationId) continue
        found.set(
          key,
          this.#behind.get(key) ?? {
            key,
            accountId: s.accountId,
            connectionArn: s.connectionArn,
            repository: s.repository,
            hookTriedAt: 0,
            behind: true,
          },
        )
      }
    }
    const same =
      found.size === this.#behind.size && [...found.keys()].every((k) => this.#behind.has(k))
    this.#behind = found
    if (!same) this.#dirty = true
  }

  async #rebucket(now: number): Promise<void> {
    this.#dirty = false
    this.#lastBucketing = now
    const lists = new Map<string, Target[]>()
    const installations = new Map<string, InstallationRecord | undefined>()
    const behind = [...this.#behind.values()].filter((t) => !this.#targets.has(t.key))
    for (const t of [...this.#targets.values(), ...behind]) {
      const conn = await this.#d.store.connections.get(t.accountId, t.connectionArn)
      if (!conn || conn.status !== 'AVAILABLE' || !conn.installationId) continue
      const ik = `${t.accountId}|${conn.installationId}`
      if (!installations.has(ik))
        installations.set(
          ik,
          await this.#d.store.installations.get(t.accountId, conn.installationId),
        )
      const inst = installations.get(ik)
      if (!inst) continue
      const name = bucketOf(inst)
      lists.set(name, [...(lists.get(name) ?? []), t])
    }
    const next = new Map<string, Bucket>()
    for (const [name, targets] of lists) {
      // A known bucket keeps its state (schedule, pause, backoff, the in-flight poll's flag).
      const b: Bucket = this.#buckets.get(name) ?? {
        targets,
        cursor: 0,
        nextAt: 0,
        pausedUntil: 0,
        backoffMs: FIRST_BACKOFF_MS,
        busy: false,
        nearLimit: false,
      }
      if (!this.#buckets.has(name)) b.nextAt = now + this.#random() * this.spacing(b)
      b.targets = targets
      b.cursor %= targets.length
      next.set(name, b)
    }
    this.#buckets = next
  }

  async #pollNext(name: string, b: Bucket): Promise<void> {
    const t = b.targets[b.cursor % b.targets.length]
    if (!t) return
    try {
      const answer = await this.#poll(t)
      if (answer) {
        if (answer.limitPerHour) b.limitPerHour = answer.limitPerHour
        b.nearLimit = answer.nearLimit === true
      }
      b.backoffMs = FIRST_BACKOFF_MS
      b.cursor = (b.cursor + 1) % Math.max(1, b.targets.length)
    } catch (err) {
      if (err instanceof ProviderRateLimited) {
        const wait = err.retryAfterMs ?? b.backoffMs
        if (err.retryAfterMs === undefined) b.backoffMs = Math.min(MAX_BACKOFF_MS, b.backoffMs * 2)
        b.pausedUntil = this.#now() + wait
        this.#d.logger.warn(
          { bucket: name.replace(/\|.*$/, ''), repository: t.repository, waitMs: wait },
          'polling paused: the provider answered 429 (rate limit)',
        )
        // The same repository goes first when the pause ends.
        return
      }
      b.cursor = (b.cursor + 1) % Math.max(1, b.targets.length)
      this.#d.logger.warn({ err: (err as Error).message, repository: t.repository }, 'poll failed')
    } finally {
      const s = this.spacing(b)
      b.nextAt = Math.max(b.nextAt + s, this.#now()) + (this.#random() - 0.5) * 0.2 * s
    }
  }

  /** One poll of a repository: its watched branches' heads, new ones recorded as events. */
  async #poll(t: Target): Promise<BranchHeads | undefined> {
    const sources = (await this.#d.store.pipelines.sourcesFor(t.accountId, t.repository)).filter(
      (s) => s.connectionArn === t.connectionArn,
    )
    const branches = [...new Set(sources.map((s) => s.branch))]
    if (branches.length === 0) return undefined
    const conn = await this.#d.store.connections.get(t.accountId, t.connectionArn)
    if (!conn || conn.status !== 'AVAILABLE' || !conn.installationId) return undefined
    const inst = await this.#d.store.installations.get(t.accountId, conn.installationId)
    if (!inst) return undefined
    const provider = await this.#d.keeper.adapterOf(inst)
    const answer = await this.#d.keeper.use(inst, async (c): Promise<BranchHeads> => {
      if (provider.branchHeads) return provider.branchHeads(c, t.repository, branches)
      // A provider without a filtered listing: one request per branch.
      const heads: BranchHeads['heads'] = new Map()
      for (const name of branches) {
        const b = await provider.getBranch(c, t.repository, name)
        heads.set(name, { id: b.commit.id, message: b.commit.message })
      }
      return { heads }
    })
    for (const branch of branches) await this.#record(t, inst, branch, answer.heads.get(branch))
    return answer
  }

  async #record(
    t: Target,
    inst: InstallationRecord,
    branch: string,
    head: { id: string; message: string } | undefined,
  ): Promise<void> {
    const polls = this.#d.store.pipelines.polls
    const last = await polls.get(t.accountId, t.connectionArn, t.repository, branch)
    const now = this.#now()
    // A missing branch is remembered as null, so that its creation is a change.
    if (!head) {
      if (last !== null)
        await polls.put(t.accountId, t.connectionArn, t.repository, branch, null, now)
      return
    }
    if (t.behind && last !== undefined && last !== head.id) {
      const seen = `${t.key}|${branch}`
      if (!(await this.#reported(t, branch, head.id))) {
        // Unreported: recorded once the grace has passed (the head is not remembered till then).
        const u = this.#unreported.get(seen)
        if (u?.head !== head.id) this.#unreported.set(seen, { head: head.id, since: now })
        const grace = Math.max(2 * this.#d.intervalMs, BEHIND_GRACE_MS)
        if (u?.head !== head.id || now - u.since < grace) return
      } else {
        this.#unreported.delete(seen)
        await polls.put(t.accountId, t.connectionArn, t.repository, branch, head.id, now)
        return
      }
      this.#unreported.delete(seen)
    }
    await polls.put(t.accountId, t.connectionArn, t.repository, branch, head.id, now)
    if (last === undefined || last === head.id) return
    const event: ProviderEvent = {
      kind: 'push',
      deliveryId: `poll:${head.id}`,
      repository: { fullName: t.repository, id: '' },
      changes: [
        {
          kind: 'branch',
          name: branch,
          ...(last ? { before: last } : {}),
          after: head.id,
          created: last === null,
          deleted: false,
          forced: false,
          commits: [{ id: head.id, message: head.message }],
        },
      ],
    }
    const r = await this.#d.store.webhooks.recordDelivery({
      webhookId: 'poll',
      deliveryId: `poll:${t.accountId}:${inst.id}:${t.repository}:${branch}:${head.id}`,
      eventKind: 'push',
      event: JSON.stringify(event),
      receivedAt: now,
      accountId: t.accountId,
      installationId: inst.id,
      repository: t.repository,
      triggerSource: 'PollForSourceChanges',
    })
    if (r === 'recorded') this.#d.found()
  }

  /** Whether a recorded event (a webhook delivery or a poll) already moved `branch` to `head`. */
  async #reported(t: Target, branch: string, head: string): Promise<boolean> {
    const recent = await this.#d.store.pipelines.events.recent(
      t.accountId,
      t.repository,
      REPORTED_LOOKBACK,
    )
    return recent.some((r) => {
      if (r.eventKind !== 'push') return false
      const e = JSON.parse(r.event) as ProviderEvent
      return (
        e.kind === 'push' &&
        e.changes.some((c) => c.kind === 'branch' && c.name === branch && c.after === head)
      )
    })
  }
}

/** The least time a head found behind a webhook waits for its delivery before it is recorded. */
const BEHIND_GRACE_MS = 30_000

/** How many of a repository's latest events a behind poll looks through for a reported head. */
const REPORTED_LOOKBACK = 200

/**
 * Whose hourly limit a poll spends: OAuth installations share Junction's consumer (Bitbucket
 * counts OAuth requests against the consumer); an access token has its own allowance.
 */
function bucketOf(inst: InstallationRecord): string {
  return inst.credentialKind === 'oauth'
    ? `${inst.providerType}|oauth`
    : `${inst.providerType}|${inst.accountId}|${inst.id}`
}
