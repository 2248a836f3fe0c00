/**
 * @module connect/webhooks
 * Provider webhooks Junction registers for itself: one per repository and installation, each with
 * its own random secret (sealed at rest), delivered to `<public-url>/webhooks/<id>`. Providers
 * whose app has one webhook for every installation (descriptor `webhooks: 'app'`, GitHub Apps)
 * register nothing: the same record is kept for the repository (no provider call, the secret is
 * the app's), and deliveries to `<public-url>/webhooks/<provider path>` are routed by the
 * installation they name to each account's record (`receiveApp`). The ingress
 * verifies every delivery with that secret, answers fast, and records each delivery once in a
 * durable log, keyed by its delivery id and by the SHA-256 of the signed body (a provider's
 * retry, or a replay of a signed body under a fresh unsigned id, is acknowledged with 200 and not
 * recorded again). Pipelines (issue 6) consume the log and decide what to start.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { ProviderAuthFailed, ProviderNotFound, WebhookRejected } from '../providers/errors.js'
import type {
  GitProvider,
  InstallationChange,
  ProviderEvent,
  RawWebhook,
} from '../providers/provider.js'
import { descriptorFor } from '../providers/registry.js'
import type { DeliveryRecord, InstallationRecord, Store, WebhookRecord } from '../store/store.js'
import { isNumericRepositoryId, withinTarget } from '../domain/repository-id.js'
import type { CredentialKeeper } from './credentials.js'

export type IngressResult =
  | { status: 202; outcome: 'recorded'; event: ProviderEvent }
  | { status: 200; outcome: 'duplicate' | 'ignored'; reason?: string }
  | { status: 401 | 400 | 404 | 413; outcome: 'rejected'; reason: string }

export class WebhookManager {
  /** Called after a delivery is recorded (the pipelines engine wakes up to process it). */
  onRecorded: (() => void) | undefined
  /** Told each delivery's outcome (the metrics); the provider is unknown for an unknown webhook. */
  onOutcome: ((provider: string | undefined, outcome: IngressResult['outcome']) => void) | undefined
  /** The ARN of the set-up host with this id (`/webhooks/github/<host-id>`), if any. */
  hostArnById: ((hostId: string) => string | undefined) | undefined

  constructor(
    private readonly store: Store,
    private readonly keeper: CredentialKeeper,
    private readonly publicUrl: () => string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Makes sure the repository of the connection's installation has Junction's webhook, creating
   * it at the provider when missing; returns the record (never the secret in clear).
   */
  async ensure(
    accountId: string,
    connectionArn: string,
    repository: string,
  ): Promise<WebhookRecord> {
    const conn = await this.store.connections.get(accountId, connectionArn)
    if (!conn?.installationId || conn.status !== 'AVAILABLE')
      throw new Error(`Connection ${connectionArn} is not AVAILABLE`)
    const inst = await this.store.installations.get(accountId, conn.installationId)
    if (!inst) throw new Error(`Connection ${connectionArn} has no installation`)
    if (isNumericRepositoryId(repository)) {
      const p = await this.keeper.adapterOf(inst)
      // A project id (GitLab): the hook is registered on, and recorded for, the project's path,
      // which the scope check below and the deliveries (named by path) are decided on.
      if (!p.capabilities.numericRepositoryIds)
        throw new Error(`${inst.providerType} repositories are not named by numeric ids`)
      const id = repository
      repository = (await this.keeper.use(inst, (c) => p.getRepository(c, id))).fullName
    }
    if (!withinTarget(repository, inst.target))
      throw new Error(`${repository} is outside workspace ${inst.target}`)
    const existing = await this.store.webhooks.find(
      accountId,
      inst.providerType,
      inst.id,
      repository,
    )
    if (existing) return existing
    if (descriptorFor(inst.providerType)?.webhooks === 'app')
      return this.#appRecord(accountId, inst, repository)
    const id = randomBytes(16).toString('hex')
    const secret = randomBytes(32).toString('base64url')
    const provider = await this.keeper.adapterOf(inst)
    const ref = await this.keeper.use(inst, (c) =>
      provider.registerWebhook(c, repository, {
        url: `${this.publicUrl()}/webhooks/${id}`,
        secret,
        description: `Junction (${conn.name})`,
        events: ['push', 'pull_request'],
      }),
    )
    const record: WebhookRecord = {
      id,
      accountId,
      providerType: inst.providerType,
      installationId: inst.id,
      repository,
      providerHookId: ref.id,
      secretCiphertext: this.keeper.seal({ kind: 'access-token', accessToken: secret }),
      createdAt: this.now(),
    }
    if (!(await this.store.webhooks.create(record))) {
      // Another request registered one first: drop ours at the provider, keep theirs.
      await this.keeper
        .use(inst, (c) => provider.deleteWebhook(c, repository, ref))
        .catch(() => undefined)
      const theirs = await this.store.webhooks.find(
        accountId,
        inst.providerType,
        inst.id,
        repository,
      )
      if (theirs) return theirs
    }
    this.logger.info({ webhook: id, repository, installation: inst.id }, 'webhook registered')
    return record
  }

  /**
   * The record of a repository reached through an app's installation: nothing is registered at
   * the provider (the app's one webhook already sends its events), the repository is kept in
   * lower case (deliveries name it as the provider spells it). Only an app installation gets the
   * app's deliveries: another credential (a personal access token) is refused here, so the
   * pipelines engine polls its repositories.
   */
  async #appRecord(
    accountId: string,
    inst: InstallationRecord,
    repository: string,
  ): Promise<WebhookRecord> {
    const key = repository.toLowerCase()
    const existing = await this.store.webhooks.find(accountId, inst.providerType, inst.id, key)
    if (existing) return existing
    if (this.keeper.unseal(inst.credentialCiphertext).kind !== 'github-installation')
      throw new Error(
        `${repository} is reached with a ${inst.credentialKind} credential, which gets no app webhook deliveries`,
      )
    const record: WebhookRecord = {
      id: randomBytes(16).toString('hex'),
      accountId,
      providerType: inst.providerType,
      installationId: inst.id,
      repository: key,
      providerHookId: 'app',
      // Never used (the app's secret verifies its deliveries); the column wants a sealed value.
      secretCiphertext: this.keeper.seal({ kind: 'access-token', accessToken: '' }),
      createdAt: this.now(),
    }
    if (!(await this.store.webhooks.create(record)))
      return (await this.store.webhooks.find(accountId, inst.providerType, inst.id, key)) ?? record
    this.logger.info(
      { webhook: record.id, repository, installation: inst.id },
      'repository routed from the app webhook',
    )
    return record
  }

  /** Removes the webhook at the provider (already gone is fine) and from the store. */
  async remove(id: string): Promise<void> {
    const w = await this.store.webhooks.get(id)
    if (!w) return
    const inst = await this.store.installations.get(w.accountId, w.installationId)
    if (inst && w.providerHookId !== 'app') {
      const provider = await this.keeper.adapterOf(inst)
      await this.keeper.use(inst, (c) =>
        provider.deleteWebhook(c, w.repository, { id: w.providerHookId }),
      )
    }
    await this.store.webhooks.delete(id)
  }

  /** Verifies, parses and records one delivery. */
  async receive(id: string, req: RawWebhook): Promise<IngressResult> {
    const w = /^[0-9a-f]{32}$/.test(id) ? await this.store.webhooks.get(id) : undefined
    if (!w) this.onOutcome?.(undefined, 'rejected')
    if (!w || w.providerHookId === 'app')
      return { status: 404, outcome: 'rejected', reason: 'No such webhook' }
    // The ingress read up to the largest provider's limit; this provider's own is checked first.
    const cap = descriptorFor(w.providerType)?.maxWebhookBytes
    if (cap !== undefined && req.body.length > cap) {
      this.onOutcome?.(w.providerType, 'rejected')
      return { status: 413, outcome: 'rejected', reason: `The delivery exceeds ${cap} bytes` }
    }
    const secret = this.keeper.unseal(w.secretCiphertext).accessToken
    let event
    try {
      event = this.keeper.provider(w.providerType).parseWebhook(req, secret)
    } catch (err) {
      if (err instanceof WebhookRejected) {
        this.logger.warn({ webhook: id, reason: err.message }, 'webhook delivery rejected')
        // Not authenticated (a signature or GitLab's secret token missing or wrong): 401.
        const signature = err.status === 401 || /signature/i.test(err.message)
        this.onOutcome?.(w.providerType, 'rejected')
        return { status: signature ? 401 : 400, outcome: 'rejected', reason: err.message }
      }
      throw err
    }
    if (event.kind === 'ignored') {
      this.onOutcome?.(w.providerType, 'ignored')
      return { status: 200, outcome: 'ignored', reason: event.reason }
    }
    if (event.repository.fullName.toLowerCase() !== w.repository.toLowerCase()) {
      this.onOutcome?.(w.providerType, 'rejected')
      return { status: 400, outcome: 'rejected', reason: 'The delivery is for another repository' }
    }
    const outcome = await this.#record(w, event, req)
    if (outcome.status === 202) this.onRecorded?.()
    return outcome
  }

  /**
   * Records a verified delivery for one webhook record, deduplicated on what the signature covers:
   * the raw body. The delivery id (Bitbucket's X-Request-UUID, GitHub's X-GitHub-Delivery) is not
   * signed, so a captured delivery resent with a fresh id is the same body and is acknowledged
   * without starting anything again.
   */
  async #record(w: WebhookRecord, event: ProviderEvent, req: RawWebhook): Promise<IngressResult> {
    const bodyDigest = createHash('sha256').update(req.body).digest('hex')
    const d: Omit<DeliveryRecord, 'seq'> = {
      webhookId: w.id,
      deliveryId: event.deliveryId,
      eventKind: event.kind,
      event: JSON.stringify(event),
      receivedAt: this.now(),
      accountId: w.accountId,
      installationId: w.installationId,
      repository: w.repository,
      triggerSource: 'Webhook',
      bodyDigest,
    }
    const outcome = await this.store.webhooks.recordDelivery(d)
    if (outcome !== 'recorded') this.onOutcome?.(w.providerType, 'duplicate')
    if (outcome === 'duplicate') return { status: 200, outcome: 'duplicate' }
    if (outcome === 'replay') {
      this.logger.warn(
        { webhook: w.id, delivery: event.deliveryId, bodyDigest },
        'webhook delivery replayed: this signed body was recorded before under another delivery id',
      )
      return {
        status: 200,
        outcome: 'duplicate',
        reason: 'This body was delivered before under another delivery id',
      }
    }
    this.onOutcome?.(w.providerType, 'recorded')
    return { status: 202, outcome: 'recorded', event }
  }

  /**
   * A delivery to a provider's app-level webhook (`/webhooks/github`): verified with the app's
   * webhook secret (constant time, in the adapter), then routed by the installation it names to
   * every account that completed connections with that installation, and recorded once per
   * account for the repository a pipeline watches there (the same log and deduplication as a
   * per-repository webhook). Installation changes move the accounts' installations and their
   * connections to ERROR or back to AVAILABLE.
   */
  async receiveApp(
    cloudType: string,
    req: RawWebhook,
    /** A host's id: the delivery comes from the app registered on that host (`/webhooks/github/<host-id>`). */
    hostId?: string,
  ): Promise<IngressResult> {
    const app = descriptorFor(cloudType)?.webhooks === 'app'
    let providerType = cloudType
    let adapter: GitProvider | undefined
    let hostArn: string | undefined
    if (app && hostId === undefined) adapter = this.keeper.provider(cloudType)
    else if (app && hostId !== undefined) {
      hostArn = this.hostArnById?.(hostId)
      const host = hostArn
        ? await this.store.hosts.get(hostArn.split(':')[4] ?? '', hostArn)
        : undefined
      if (host && descriptorFor(host.providerType) === descriptorFor(cloudType)) {
        providerType = host.providerType
        adapter = this.keeper.forHost(host)
      }
    }
    const secret = adapter?.appWebhookSecret?.()
    if (!adapter || !secret) {
      this.onOutcome?.(providerType, 'rejected')
      return {
        status: 404,
        outcome: 'rejected',
        reason:
          hostId === undefined
            ? `No ${providerType} app webhook secret is configured on this Junction server`
            : `No set-up host ${hostId.slice(0, 100)} has a ${cloudType} app on this Junction server`,
      }
    }
    let event
    try {
      event = adapter.parseWebhook(req, secret)
    } catch (err) {
      if (err instanceof WebhookRejected) {
        this.logger.warn(
          { provider: providerType, reason: err.message },
          'app webhook delivery rejected',
        )
        const signature = /signature/i.test(err.message)
        this.onOutcome?.(providerType, 'rejected')
        return { status: signature ? 401 : 400, outcome: 'rejected', reason: err.message }
      }
      throw err
    }
    if (event.kind === 'ignored') {
      this.onOutcome?.(providerType, 'ignored')
      if (event.installation)
        await this.#installationChanged(providerType, event.installation, hostArn, adapter)
      return { status: 200, outcome: 'ignored', reason: event.reason }
    }
    if (!event.installationId) {
      this.onOutcome?.(providerType, 'rejected')
      return { status: 400, outcome: 'rejected', reason: 'The delivery names no installation' }
    }
    const repository = event.repository.fullName.toLowerCase()
    let recorded = false
    let last: IngressResult | undefined
    for (const inst of await this.#ofHost(providerType, event.installationId, hostArn)) {
      const w = await this.store.webhooks.find(inst.accountId, providerType, inst.id, repository)
      if (!w) continue
      last = await this.#record(w, event, req)
      if (last.status === 202) recorded = true
    }
    if (recorded) {
      this.onRecorded?.()
      return { status: 202, outcome: 'recorded', event }
    }
    if (!last) this.onOutcome?.(providerType, 'ignored')
    return (
      last ?? {
        status: 200,
        outcome: 'ignored',
        reason: 'No pipeline watches this repository through this installation',
      }
    )
  }

  /**
   * `installation` and `installation_repositories` events: the installation deleted or
   * suspended moves every account's installation with that id (and its connections) to ERROR
   * with the reason; unsuspended, (re)created or new permissions accepted brings it back to
   * AVAILABLE; repositories removed from it stop being routed (their pipelines' sources then fail
   * on use with GitHub's refusal, and the repositories are polled no more through it).
   */
  /**
   * What GitHub says of an installation now (its app JWT), for an installation event: a signed
   * delivery is genuine but may be old (a captured `unsuspend` resent after a suspension), so the
   * event only says when to look. `unknown` when GitHub could not be asked.
   */
  async #installationNow(
    adapter: GitProvider,
    installationId: string,
  ): Promise<{ state: 'ok' | 'suspended' | 'gone' | 'unknown'; message?: string }> {
    if (!adapter.verifyInstallation) return { state: 'unknown' }
    try {
      await adapter.verifyInstallation(installationId)
      return { state: 'ok' }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      if (err instanceof ProviderNotFound) return { state: 'gone', message }
      if (err instanceof ProviderAuthFailed) return { state: 'suspended', message }
      return { state: 'unknown', message }
    }
  }

  async #installationChanged(
    providerType: string,
    change: InstallationChange,
    hostArn: string | undefined,
    adapter: GitProvider,
  ): Promise<void> {
    if (!change.installationId) return
    const insts = await this.#ofHost(providerType, change.installationId, hostArn)
    if (insts.length === 0) return
    const on = (i: InstallationRecord) =>
      `${i.target}${change.account && change.account !== i.target ? ` (now ${change.account})` : ''}`
    const statusEvent = ['deleted', 'suspend', 'unsuspend', 'created', 'new_permissions_accepted']
    const now = statusEvent.includes(change.action)
      ? await this.#installationNow(adapter, change.installationId)
      : { state: 'unknown' as const }
    // GitHub's answer decides; only when it cannot be asked does a loss event count by itself
    // (the safe direction: the periodic recheck brings a working installation back).
    const gone = now.state === 'gone' || (now.state === 'unknown' && change.action === 'deleted')
    const suspended =
      now.state === 'suspended' || (now.state === 'unknown' && change.action === 'suspend')
    if (
      statusEvent.includes(change.action) &&
      now.state === 'ok' &&
      !['unsuspend', 'created', 'new_permissions_accepted'].includes(change.action)
    )
      this.logger.warn(
        { installation: change.installationId, action: change.action },
        'app installation event not confirmed by GitHub (the installation works): ignored',
      )
    for (const inst of insts) {
      let reason: string | undefined
      if (gone)
        reason = `The ${providerType} App was uninstalled from ${on(inst)} (installation ${inst.id}): install it again and complete the connection with the new installation`
      else if (suspended)
        reason = `The ${providerType} App installation on ${on(inst)} (installation ${inst.id}) is suspended: an owner of ${inst.target} can unsuspend it`
      if (reason !== undefined) {
        const changed = await this.store.installations.setStatus(
          inst.accountId,
          inst.id,
          'ERROR',
          reason,
          this.now(),
        )
        this.logger.warn(
          { installation: inst.id, action: change.action, connections: changed.length },
          'app installation lost',
        )
        continue
      }
      if (
        ['unsuspend', 'created', 'new_permissions_accepted'].includes(change.action) &&
        now.state === 'ok' &&
        inst.status === 'ERROR'
      ) {
        const changed = await this.store.installations.setStatus(
          inst.accountId,
          inst.id,
          'AVAILABLE',
          null,
          this.now(),
        )
        this.logger.info(
          { installation: inst.id, action: change.action, connections: changed.length },
          'app installation working again',
        )
        continue
      }
      for (const name of change.repositoriesRemoved ?? []) {
        const w = await this.store.webhooks.find(
          inst.accountId,
          providerType,
          inst.id,
          name.toLowerCase(),
        )
        if (!w) continue
        await this.store.webhooks.delete(w.id)
        this.logger.warn(
          { installation: inst.id, repository: name },
          'repository removed from the app installation: its pipelines can no longer read it through this connection',
        )
      }
    }
  }

  /**
   * The installations an app delivery may reach: those with its installation id made on the same
   * host (a host's app speaks only for that host; the cloud app only for cloud installations).
   */
  async #ofHost(
    providerType: string,
    installationId: string,
    hostArn: string | undefined,
  ): Promise<InstallationRecord[]> {
    return (await this.store.installations.withId(providerType, installationId)).filter(
      (i) => (i.hostArn || undefined) === hostArn,
    )
  }
}
