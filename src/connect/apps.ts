/**
 * @module connect/apps
 * The applications Junction uses with each provider: an OAuth consumer (client id and secret) or
 * a GitHub App (also its id, URL name, private key and webhook secret). Set by the operator in the
 * console or by GitHub's manifest flow (stored, every secret sealed under the master key) or by
 * flags/environment at start. The stored one wins. Each node re-reads the store every 30 s, so a
 * change reaches every node.
 *
 * A GitHub Enterprise Server host has an app of its own (registered on that server when the host
 * is set up), stored under the host's ARN and read with {@link ProviderApps.appForHost}; flags
 * never configure a host's app.
 */
import type { MasterKey } from '../crypto/master-key.js'
import type { AppSettings } from '../providers/descriptor.js'
import type { OAuthApp } from '../providers/provider.js'
import type { ProviderAppRecord, Store } from '../store/store.js'

export type { AppSettings } from '../providers/descriptor.js'

/** A GitHub App as GitHub's manifest conversion returns it (the secrets in the clear). */
export interface GitHubAppSecrets {
  appId: string
  slug: string
  clientId: string
  clientSecret: string
  webhookSecret: string
  privateKey: string
}

/** What the console may show of an application: never a secret, only whether one is set. */
export interface AppInfo {
  clientId?: string
  secretSet: boolean
  source: 'console' | 'flags' | 'none'
  /** GitHub Apps: the app id and URL name, and whether the private key and webhook secret are set. */
  appId?: string
  slug?: string
  privateKeySet?: boolean
  webhookSecretSet?: boolean
}

interface Opened {
  providerType: string
  clientId: string
  clientSecret: string
  appId?: string
  slug?: string
  privateKey?: string
  webhookSecret?: string
  updatedAt: number
}

/** A host's id in URLs: its ARN's last segment (`host/<name>-<hex>` → `<name>-<hex>`). */
export const hostIdOf = (hostArn: string): string => hostArn.slice(hostArn.lastIndexOf('/') + 1)

/** The map key of a stored application: the provider type, or the host's ARN for a host's own. */
const keyOf = (providerType: string, hostArn: string) =>
  hostArn ? `host ${hostArn}` : providerType

export class ProviderApps {
  #stored = new Map<string, Opened>()

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    private readonly fromFlags: Record<string, AppSettings>,
    private readonly callbackUrl: (providerType: string) => string,
  ) {}

  /**
   * Reads the stored applications (at start and periodically): every provider's and every host's,
   * so an application removed on another node goes here too. `types` is kept for callers that
   * name the providers; every stored row is read.
   */
  async load(_types?: string[]): Promise<void> {
    const next = new Map<string, Opened>()
    for (const r of await this.store.providerApps.list())
      next.set(keyOf(r.providerType, r.hostArn), this.#open(r))
    this.#stored = next
  }

  #open(r: ProviderAppRecord): Opened {
    const o: Opened = {
      providerType: r.providerType,
      clientId: r.clientId,
      clientSecret: this.masterKey.decrypt(r.secretCiphertext),
      updatedAt: r.updatedAt,
    }
    if (r.appId) o.appId = r.appId
    if (r.slug) o.slug = r.slug
    if (r.privateKeyCiphertext) o.privateKey = this.masterKey.decrypt(r.privateKeyCiphertext)
    if (r.webhookSecretCiphertext)
      o.webhookSecret = this.masterKey.decrypt(r.webhookSecretCiphertext)
    return o
  }

  /**
   * The application to use now, or undefined when none is configured. The stored one wins over
   * flags: its client id and secret, and, when it is a GitHub App, its app id, URL name, private
   * key and webhook secret together (never a stored app's id with the flags' key).
   */
  app(providerType: string): OAuthApp | undefined {
    const s = this.#stored.get(keyOf(providerType, ''))
    const f = this.fromFlags[providerType] ?? {}
    const clientId = s?.clientId ?? f.clientId
    const clientSecret = s?.clientSecret ?? f.clientSecret
    const gh: AppSettings = s?.appId ? s : f
    // A GitHub App given by its id and key alone works without a client id and secret (those
    // only serve user authorization): they are '' then.
    const appOnly = !!gh.appId && !!gh.privateKey
    if ((!clientId || !clientSecret) && !appOnly) return undefined
    const out: OAuthApp = {
      clientId: clientId ?? '',
      clientSecret: clientSecret ?? '',
      callbackUrl: this.callbackUrl(providerType),
    }
    if (gh.appId) out.appId = gh.appId
    if (gh.slug) out.slug = gh.slug
    if (gh.privateKey) out.privateKey = gh.privateKey
    if (gh.webhookSecret) out.webhookSecret = gh.webhookSecret
    return out
  }

  /** A host's own application (a GitHub Enterprise Server's GitHub App), once the host is set up. */
  appForHost(hostArn: string): OAuthApp | undefined {
    const s = hostArn ? this.#stored.get(keyOf('', hostArn)) : undefined
    if (!s) return undefined
    const out: OAuthApp = {
      clientId: s.clientId,
      clientSecret: s.clientSecret,
      callbackUrl: this.callbackUrl(s.providerType),
    }
    if (s.appId) out.appId = s.appId
    if (s.slug) out.slug = s.slug
    if (s.privateKey) out.privateKey = s.privateKey
    if (s.webhookSecret) out.webhookSecret = s.webhookSecret
    return out
  }

  /** What the console may show of a provider's application: never a secret. */
  info(providerType: string): AppInfo {
    const s = this.#stored.get(keyOf(providerType, ''))
    if (s) return { ...infoOf(s), source: 'console' }
    const f = this.fromFlags[providerType]
    if (f?.clientId || f?.appId)
      return {
        ...infoOf({ ...f, clientSecret: f.clientSecret ?? '' }),
        source: 'flags',
      }
    return { secretSet: false, source: 'none' }
  }

  /**
   * The ARN of the set-up host whose id (the ARN's last segment, `<name>-<hex>`) is `hostId`:
   * the host an app webhook at `/webhooks/github/<host-id>` belongs to (see hostIdOf).
   */
  hostArnById(hostId: string): string | undefined {
    for (const key of this.#stored.keys()) {
      if (!key.startsWith('host ')) continue
      const arn = key.slice('host '.length)
      if (hostIdOf(arn) === hostId) return arn
    }
    return undefined
  }

  /** What the console may show of a host's application: never a secret. */
  hostInfo(hostArn: string): AppInfo {
    const s = hostArn ? this.#stored.get(keyOf('', hostArn)) : undefined
    return s ? { ...infoOf(s), source: 'console' } : { secretSet: false, source: 'none' }
  }

  /**
   * Stores a new client id, and a new secret (or keeps the current one when `secret` is empty).
   * A stored GitHub App keeps its app id, URL name, private key and webhook secret.
   */
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
    const kept = await this.store.providerApps.get(providerType, '')
    const record: ProviderAppRecord = {
      providerType,
      hostArn: '',
      clientId,
      secretCiphertext: this.masterKey.encrypt(clientSecret),
      appId: kept?.appId ?? null,
      slug: kept?.slug ?? null,
      privateKeyCiphertext: kept?.privateKeyCiphertext ?? null,
      webhookSecretCiphertext: kept?.webhookSecretCiphertext ?? null,
      updatedBy: by,
      updatedAt: now,
    }
    await this.store.providerApps.put(record)
    this.#stored.set(keyOf(providerType, ''), this.#open(record))
  }

  /**
   * Stores a GitHub App registered from a manifest: the provider-wide app (`hostArn` '') or a
   * host's own. Every secret is sealed under the master key before it reaches the store.
   */
  async setGitHubApp(
    providerType: string,
    hostArn: string,
    app: GitHubAppSecrets,
    by: string,
    now: number,
  ): Promise<void> {
    const record: ProviderAppRecord = {
      providerType,
      hostArn,
      clientId: app.clientId,
      secretCiphertext: this.masterKey.encrypt(app.clientSecret),
      appId: app.appId,
      slug: app.slug,
      privateKeyCiphertext: this.masterKey.encrypt(app.privateKey),
      webhookSecretCiphertext: this.masterKey.encrypt(app.webhookSecret),
      updatedBy: by,
      updatedAt: now,
    }
    await this.store.providerApps.put(record)
    this.#stored.set(keyOf(providerType, hostArn), this.#open(record))
  }

  /**
   * Stores a host's own OAuth application (registered on a GitLab self-managed server when the
   * host was set up): its client id, and its secret sealed under the master key.
   */
  async setHostApp(
    providerType: string,
    hostArn: string,
    app: { clientId: string; clientSecret: string },
    by: string,
    now: number,
  ): Promise<void> {
    const record: ProviderAppRecord = {
      providerType,
      hostArn,
      clientId: app.clientId,
      secretCiphertext: this.masterKey.encrypt(app.clientSecret),
      appId: null,
      slug: null,
      privateKeyCiphertext: null,
      webhookSecretCiphertext: null,
      updatedBy: by,
      updatedAt: now,
    }
    await this.store.providerApps.put(record)
    this.#stored.set(keyOf(providerType, hostArn), this.#open(record))
  }

  /**
   * Forgets a host's application (here at once, on other nodes at their next load). Deleting the
   * host (`store.hosts.delete`) removes it from the store too.
   */
  async forgetHost(hostArn: string): Promise<void> {
    await this.store.providerApps.deleteForHost(hostArn)
    this.#stored.delete(keyOf('', hostArn))
  }
}

function infoOf(a: {
  clientId?: string
  clientSecret?: string
  appId?: string
  slug?: string
  privateKey?: string
  webhookSecret?: string
}): Omit<AppInfo, 'source'> {
  const out: Omit<AppInfo, 'source'> = { secretSet: !!a.clientSecret }
  if (a.clientId) out.clientId = a.clientId
  if (a.appId) {
    out.appId = a.appId
    if (a.slug) out.slug = a.slug
    out.privateKeySet = !!a.privateKey
    out.webhookSecretSet = !!a.webhookSecret
  }
  return out
}
