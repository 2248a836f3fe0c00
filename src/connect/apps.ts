/**
 * @module connect/apps
 * The OAuth applications (consumers) Junction uses with each provider: set by the operator in the
 * console (stored with the secret sealed under the master key) or by flags/environment at start.
 * The stored one wins. Each node re-reads the store every 30 s, so a change reaches every node.
 */
import type { MasterKey } from '../crypto/master-key.js'
import type { AppSettings } from '../providers/descriptor.js'
import type { OAuthApp } from '../providers/provider.js'
import type { Store } from '../store/store.js'

export type { AppSettings } from '../providers/descriptor.js'

export class ProviderApps {
  readonly #stored = new Map<
    string,
    { clientId: string; clientSecret: string; updatedAt: number }
  >()

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    private readonly fromFlags: Record<string, AppSettings>,
    private readonly callbackUrl: (providerType: string) => string,
  ) {}

  /** Reads the stored applications (at start and periodically). */
  async load(types: string[]): Promise<void> {
    for (const t of types) {
      const r = await this.store.providerApps.get(t)
      if (r)
        this.#stored.set(t, {
          clientId: r.clientId,
          clientSecret: this.masterKey.decrypt(r.secretCiphertext),
          updatedAt: r.updatedAt,
        })
    }
  }

  /** The application to use now (stored over flags), or undefined when none is configured. */
  app(providerType: string): OAuthApp | undefined {
    const s = this.#stored.get(providerType)
    const f = this.fromFlags[providerType]
    const clientId = s?.clientId ?? f?.clientId
    const clientSecret = s?.clientSecret ?? f?.clientSecret
    if (!clientId || !clientSecret) return undefined
    return { clientId, clientSecret, callbackUrl: this.callbackUrl(providerType) }
  }

  /** What the console may show: never the secret. */
  info(providerType: string): {
    clientId?: string
    secretSet: boolean
    source: 'console' | 'flags' | 'none'
  } {
    const s = this.#stored.get(providerType)
    if (s) return { clientId: s.clientId, secretSet: true, source: 'console' }
    const f = this.fromFlags[providerType]
    if (f?.clientId) return { clientId: f.clientId, secretSet: !!f.clientSecret, source: 'flags' }
    return { secretSet: false, source: 'none' }
  }

  /** Stores a new client id, and a new secret (or keeps the current one when `secret` is empty). */
  async set(
    providerType: string,
    clientId: string,
    secret: string,
    by: string,
    now: number,
  ): Promise<void> {
    const current = this.app(providerType)
    const clientSecret = secret || current?.clientSecret
    if (!clientSecret) throw new Error('A client secret is needed: none is configured yet')
    await this.store.providerApps.put({
      providerType,
      clientId,
      secretCiphertext: this.masterKey.encrypt(clientSecret),
      updatedBy: by,
      updatedAt: now,
    })
    this.#stored.set(providerType, { clientId, clientSecret, updatedAt: now })
  }
}
