/**
 * @module connect/credentials
 * Keeps installation credentials usable and safe: sealed under the master key at rest, refreshed
 * before they expire with one refresh at a time per installation (single-flight in the process,
 * compare-and-set in the store across nodes), and health carried to the connections: a credential
 * the provider refuses moves its installation and connections to ERROR with the reason; one that
 * works again brings them back to AVAILABLE.
 */
import type { Logger } from 'pino'
import type { MasterKey } from '../crypto/master-key.js'
import { ProviderAuthFailed } from '../providers/errors.js'
import type { GitProvider, ProviderCredentials } from '../providers/provider.js'
import type { ProviderRegistry } from '../providers/registry.js'
import type { HostRecord, InstallationRecord, Store } from '../store/store.js'

/** Refresh when the access token has less than this left. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000
/** How long a node may hold the refresh lease (a provider call with its retries fits). */
const REFRESH_LEASE_MS = 30_000
/** How long a request waits for another node's refresh. */
const REFRESH_WAIT_MS = 35_000

export class CredentialKeeper {
  readonly #inFlight = new Map<string, Promise<ProviderCredentials>>()
  /** Told of each refresh at the provider and each credential that stops working (metrics). */
  observe:
    { refresh(provider: string, ok: boolean): void; failing(provider: string): void } | undefined

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    private readonly providers: ProviderRegistry,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  seal(c: ProviderCredentials): string {
    return this.masterKey.encrypt(JSON.stringify(c))
  }

  unseal(ciphertext: string): ProviderCredentials {
    return JSON.parse(this.masterKey.decrypt(ciphertext)) as ProviderCredentials
  }

  provider(type: string): GitProvider {
    const p = this.providers.get(type)
    if (!p) throw new Error(`No adapter for provider type ${type}`)
    return p
  }

  /**
   * The adapter an installation is used through: its host's (a GitHub Enterprise Server host's
   * endpoints, app and TLS certificate) when it was made on a host, else its provider type's.
   */
  async adapterOf(
    inst: Pick<InstallationRecord, 'accountId' | 'providerType' | 'hostArn'>,
  ): Promise<GitProvider> {
    if (!inst.hostArn) return this.provider(inst.providerType)
    const host = await this.store.hosts.get(inst.accountId, inst.hostArn)
    if (!host) throw new ProviderAuthFailed(`The host ${inst.hostArn} no longer exists`)
    return this.forHost(host)
  }

  /** A host's adapter (see ProviderRegistry.forHost), with its TLS certificate trusted. */
  forHost(host: HostRecord): GitProvider {
    const p = this.providers.forHost({
      arn: host.arn,
      providerType: host.providerType,
      providerEndpoint: host.providerEndpoint,
      tlsCertificate: host.vpcConfiguration?.TlsCertificate ?? null,
    })
    if (!p) throw new Error(`No adapter for hosts of provider type ${host.providerType}`)
    return p
  }

  /**
   * Runs `fn` with a working credential of the installation. A refused credential is refreshed
   * once and retried (OAuth); if it is still refused the installation goes to ERROR and the
   * ProviderAuthFailed propagates. Success on a failing installation brings it back.
   */
  async use<T>(inst: InstallationRecord, fn: (c: ProviderCredentials) => Promise<T>): Promise<T> {
    const provider = await this.adapterOf(inst)
    let c: ProviderCredentials
    try {
      c = await this.fresh(inst, false)
    } catch (err) {
      if (err instanceof ProviderAuthFailed) await this.markFailing(inst, err.message)
      throw err
    }
    try {
      const result = await fn(c)
      if (inst.status === 'ERROR') await this.markWorking(inst)
      return result
    } catch (err) {
      if (!(err instanceof ProviderAuthFailed) || err.status === 403) throw err
      // 401: the token may have been revoked or expired early; one forced refresh, then retry.
      if (c.kind === 'oauth' && provider.refreshCredentials) {
        try {
          const again = await this.fresh(inst, true)
          const result = await fn(again)
          if (inst.status === 'ERROR') await this.markWorking(inst)
          return result
        } catch (retryErr) {
          if (retryErr instanceof ProviderAuthFailed && retryErr.status !== 403)
            await this.markFailing(inst, retryErr.message)
          throw retryErr
        }
      }
      await this.markFailing(inst, err.message)
      throw err
    }
  }

  /**
   * The installation's credential, refreshed first when it expires within the margin (or when
   * `force`). Concurrent callers share one refresh per installation; a refresh another node won
   * (the compare-and-set failed) is read back instead of repeated.
   */
  fresh(inst: InstallationRecord, force: boolean): Promise<ProviderCredentials> {
    const current = this.unseal(inst.credentialCiphertext)
    const expiring =
      current.expiresAt !== undefined && current.expiresAt - this.now() < REFRESH_MARGIN_MS
    if (!force && !expiring) return Promise.resolve(current)
    const key = `${inst.accountId}/${inst.id}`
    const running = this.#inFlight.get(key)
    if (running) return running
    const p = this.#refresh(inst, force).finally(() => this.#inFlight.delete(key))
    this.#inFlight.set(key, p)
    return p
  }

  async #refresh(stale: InstallationRecord, force: boolean): Promise<ProviderCredentials> {
    const provider = await this.adapterOf(stale)
    const deadline = this.now() + REFRESH_WAIT_MS
    for (;;) {
      // Another request (or node) may have refreshed since `stale` was read.
      const inst = (await this.store.installations.get(stale.accountId, stale.id)) ?? stale
      const current = this.unseal(inst.credentialCiphertext)
      if (inst.credentialVersion !== stale.credentialVersion && !this.#expiring(current))
        return current
      if (!force && !this.#expiring(current)) return current
      if (!provider.refreshCredentials || current.kind !== 'oauth' || !current.refreshToken) {
        if (this.#expiring(current) && current.expiresAt! <= this.now())
          throw new ProviderAuthFailed('The access token expired and cannot be refreshed')
        return current
      }
      // One refresh per installation across nodes: the lease holder refreshes, the others wait
      // for the new version (or for the lease to lapse, if its holder died). The lease is taken
      // only at the version just read, so a refresh that landed in between is not repeated.
      const now = this.now()
      if (
        !(await this.store.installations.leaseRefresh(
          inst.accountId,
          inst.id,
          inst.credentialVersion,
          now,
          now + REFRESH_LEASE_MS,
        ))
      ) {
        if (this.now() > deadline)
          throw new ProviderAuthFailed(
            'Timed out waiting for another node to refresh the credential',
          )
        await new Promise((r) => setTimeout(r, 50))
        continue
      }
      let next: ProviderCredentials
      try {
        next = await provider.refreshCredentials(current)
      } catch (err) {
        await this.store.installations.releaseRefresh(inst.accountId, inst.id)
        this.observe?.refresh(inst.providerType, false)
        // Rotating refresh tokens (GitLab): a refresh token refused because another node used it
        // (its lease lapsed mid-refresh) is no failure when that node stored what it got.
        const latest = await this.store.installations.get(inst.accountId, inst.id)
        if (
          err instanceof ProviderAuthFailed &&
          latest &&
          latest.credentialVersion !== inst.credentialVersion
        )
          return this.unseal(latest.credentialCiphertext)
        throw err
      }
      this.observe?.refresh(inst.providerType, true)
      const won = await this.store.installations.updateCredential(
        inst.accountId,
        inst.id,
        inst.credentialVersion,
        this.seal(next),
        next.expiresAt ?? null,
        this.now(),
      )
      if (won) {
        this.logger.info(
          { installation: inst.id, provider: inst.providerType },
          'credential refreshed',
        )
        return next
      }
      const latest = await this.store.installations.get(inst.accountId, inst.id)
      return latest ? this.unseal(latest.credentialCiphertext) : next
    }
  }

  #expiring(c: ProviderCredentials): boolean {
    return c.expiresAt !== undefined && c.expiresAt - this.now() < REFRESH_MARGIN_MS
  }

  async markFailing(inst: InstallationRecord, reason: string): Promise<void> {
    const text = `The ${inst.providerType} credential of installation ${inst.id} (${inst.target}) stopped working: ${reason}. Re-authorize the connection (update the pending connection, or junction connections complete).`
    const changed = await this.store.installations.setStatus(
      inst.accountId,
      inst.id,
      'ERROR',
      text,
      this.now(),
    )
    inst.status = 'ERROR'
    this.observe?.failing(inst.providerType)
    inst.statusReason = text
    this.logger.warn(
      { installation: inst.id, connections: changed.length, reason },
      'installation credential failing',
    )
  }

  async markWorking(inst: InstallationRecord): Promise<void> {
    const changed = await this.store.installations.setStatus(
      inst.accountId,
      inst.id,
      'AVAILABLE',
      null,
      this.now(),
    )
    inst.status = 'AVAILABLE'
    inst.statusReason = null
    this.logger.info(
      { installation: inst.id, connections: changed.length },
      'installation credential working again',
    )
  }

  /**
   * Retries failing installations (the "retried automatically" of the ERROR state): each that
   * reaches its provider account again returns to AVAILABLE with its connections.
   */
  async recheckFailing(limit = 100): Promise<number> {
    let recovered = 0
    for (const inst of await this.store.installations.listFailing(limit)) {
      const provider = this.providers.get(inst.providerType)
      if (!provider) continue
      try {
        await this.use(inst, (c) => provider.verifyTarget(c, inst.target))
        recovered++
      } catch (err) {
        this.logger.debug(
          { installation: inst.id, err: (err as Error).message },
          'installation still failing',
        )
      }
    }
    return recovered
  }
}
