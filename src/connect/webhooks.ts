/**
 * @module connect/webhooks
 * Provider webhooks Junction registers for itself: one per repository and installation, each with
 * its own random secret (sealed at rest), delivered to `<public-url>/webhooks/<id>`. The ingress
 * verifies every delivery with that secret, answers fast, and records each delivery once in a
 * durable log, keyed by its delivery id and by the SHA-256 of the signed body (a provider's
 * retry, or a replay of a signed body under a fresh unsigned id, is acknowledged with 200 and not
 * recorded again). Pipelines (issue 6) consume the log and decide what to start.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { WebhookRejected } from '../providers/errors.js'
import type { ProviderEvent, RawWebhook } from '../providers/provider.js'
import type { Store, WebhookRecord } from '../store/store.js'
import type { CredentialKeeper } from './credentials.js'

export type IngressResult =
  | { status: 202; outcome: 'recorded'; event: ProviderEvent }
  | { status: 200; outcome: 'duplicate' | 'ignored'; reason?: string }
  | { status: 401 | 400 | 404; outcome: 'rejected'; reason: string }

export class WebhookManager {
  /** Called after a delivery is recorded (the pipelines engine wakes up to process it). */
  onRecorded: (() => void) | undefined
  /** Told each delivery's outcome (the metrics); the provider is unknown for an unknown webhook. */
  onOutcome: ((provider: string | undefined, outcome: IngressResult['outcome']) => void) | undefined

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
    if (repository.split('/')[0]?.toLowerCase() !== inst.target.toLowerCase())
      throw new Error(`${repository} is outside workspace ${inst.target}`)
    const existing = await this.store.webhooks.find(
      accountId,
      inst.providerType,
      inst.id,
      repository,
    )
    if (existing) return existing
    const id = randomBytes(16).toString('hex')
    const secret = randomBytes(32).toString('base64url')
    const provider = this.keeper.provider(inst.providerType)
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

  /** Removes the webhook at the provider (already gone is fine) and from the store. */
  async remove(id: string): Promise<void> {
    const w = await this.store.webhooks.get(id)
    if (!w) return
    const inst = await this.store.installations.get(w.accountId, w.installationId)
    if (inst) {
      const provider = this.keeper.provider(inst.providerType)
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
    if (!w) return { status: 404, outcome: 'rejected', reason: 'No such webhook' }
    const secret = this.keeper.unseal(w.secretCiphertext).accessToken
    let event
    try {
      event = this.keeper.provider(w.providerType).parseWebhook(req, secret)
    } catch (err) {
      if (err instanceof WebhookRejected) {
        this.logger.warn({ webhook: id, reason: err.message }, 'webhook delivery rejected')
        const signature = /signature/i.test(err.message)
        this.onOutcome?.(w.providerType, 'rejected')
        return { status: signature ? 401 : 400, outcome: 'rejected', reason: err.message }
      }
      throw err
    }
    if (event.kind === 'ignored') this.onOutcome?.(w.providerType, 'ignored')
    if (event.kind === 'ignored') return { status: 200, outcome: 'ignored', reason: event.reason }
    const elsewhere = event.repository.fullName.toLowerCase() !== w.repository.toLowerCase()
    if (elsewhere) this.onOutcome?.(w.providerType, 'rejected')
    if (event.repository.fullName.toLowerCase() !== w.repository.toLowerCase())
      return { status: 400, outcome: 'rejected', reason: 'The delivery is for another repository' }
    // Deduplicated on what the signature covers: the raw body. The delivery id (Bitbucket's
    // X-Request-UUID) is not signed, so a captured delivery resent with a fresh id is the same
    // body and is acknowledged without starting anything again.
    const bodyDigest = createHash('sha256').update(req.body).digest('hex')
    const outcome = await this.store.webhooks.recordDelivery({
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
    })
    if (outcome !== 'recorded') this.onOutcome?.(w.providerType, 'duplicate')
    if (outcome === 'duplicate') return { status: 200, outcome: 'duplicate' }
    if (outcome === 'replay') {
      this.logger.warn(
        { webhook: id, delivery: event.deliveryId, bodyDigest },
        'webhook delivery replayed: this signed body was recorded before under another delivery id',
      )
      return {
        status: 200,
        outcome: 'duplicate',
        reason: 'This body was delivered before under another delivery id',
      }
    }
    this.onRecorded?.()
    this.onOutcome?.(w.providerType, 'recorded')
    return { status: 202, outcome: 'recorded', event }
  }
}
