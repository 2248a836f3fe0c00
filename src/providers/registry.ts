/**
 * @module providers/registry
 * The providers Junction knows: one descriptor each (`providers/<name>/index.ts`, see
 * `descriptor.ts`). Adding a provider is one line in `PROVIDERS` plus its adapter folder, its
 * sandbox folder and the contract suite (STYLE §5.6, README "Adding a provider"); core code looks
 * descriptors and adapters up by the connection's `ProviderType` and never names a provider.
 */
import { fetchTrusting } from '../connect/host-fetch.js'
import { bitbucket } from './bitbucket/index.js'
import type { AdminTokenHostSetup, ProviderDescriptor, ProviderSettings } from './descriptor.js'
import { enterpriseEndpoints, github } from './github/index.js'
import { GitHubProvider } from './github/github-provider.js'
import { gitlab, selfManagedEndpoints } from './gitlab/index.js'
import { GitLabProvider } from './gitlab/gitlab-provider.js'
import { createInstanceApplication } from './gitlab/applications.js'
import type { GitProvider, OAuthApp } from './provider.js'

export type { ProviderSettings } from './descriptor.js'

/** Every provider with an adapter, in the order the console lists them. */
export const PROVIDERS: readonly ProviderDescriptor[] = [bitbucket, github, gitlab]

/** Provider types with an adapter (the console lists the others as not yet available). */
export const SUPPORTED_PROVIDERS = PROVIDERS.map((p) => p.type)

/** The descriptor of a provider type, or undefined when Junction has no adapter for it. */
export function descriptorOf(type: string): ProviderDescriptor | undefined {
  return PROVIDERS.find((p) => p.type === type)
}

/** The descriptor connections of a type follow: its own, or a hosted type's cloud sibling's. */
export function descriptorFor(type: string): ProviderDescriptor | undefined {
  return descriptorOf(type) ?? HOSTED_LIKE[type]
}

/** The descriptor whose browser routes live under `/oauth/<path>/`. */
export function descriptorByPath(path: string): ProviderDescriptor | undefined {
  return PROVIDERS.find((p) => p.path === path)
}

/** Provider types whose connections need a host (a self-managed server), and their adapter. */
const HOSTED: Record<string, (endpoint: string, s: HostSettings) => GitProvider> = {
  GitHubEnterpriseServer: (endpoint, s) =>
    new GitHubProvider({
      type: 'GitHubEnterpriseServer',
      endpoints: enterpriseEndpoints(endpoint),
      app: s.app,
      ...(s.http ? { http: s.http } : {}),
    }),
  GitLabSelfManaged: (endpoint, s) =>
    new GitLabProvider({
      type: 'GitLabSelfManaged',
      endpoints: selfManagedEndpoints(endpoint),
      app: s.app,
      ...(s.http ? { http: s.http } : {}),
    }),
}

/** What a hosted provider type shares with its cloud sibling: completion, handshake, webhooks. */
const HOSTED_LIKE: Record<string, ProviderDescriptor> = {
  GitHubEnterpriseServer: github,
  GitLabSelfManaged: gitlab,
}

/** Hosted provider types set up with an administrator's token (connect/host-setup.ts). */
const HOST_SETUP: Record<string, AdminTokenHostSetup> = {
  GitLabSelfManaged: {
    path: gitlab.path,
    tokenNoun: "GitLab administrator's personal access token",
    tokenScopes: 'scope api, and admin_mode where Admin Mode is on',
    async registerApplication(o) {
      const app = await createInstanceApplication({
        apiUrl: selfManagedEndpoints(o.endpoint).apiUrl,
        adminToken: o.token,
        name: o.name,
        redirectUri: o.redirectUri,
        fetch: o.fetch,
      })
      return { clientId: app.applicationId, clientSecret: app.clientSecret }
    },
  },
}

/** How hosts of a provider type are set up with an administrator's token, if they are. */
export function hostSetupOf(type: string): AdminTokenHostSetup | undefined {
  return HOST_SETUP[type]
}

/** What a host's adapter gets besides the host: the application registered on that server. */
export interface HostSettings {
  app: () => OAuthApp | undefined
  http?: ProviderSettings['http']
}

/** A host as the registry needs it (a `HostRecord` fits). */
export interface HostRef {
  arn: string
  providerType: string
  /** The server's URL (`https://HOST`). */
  providerEndpoint: string
  /** The server's own TLS certificate (PEM, `VpcConfiguration.TlsCertificate`), trusted for calls to it. */
  tlsCertificate?: string | null
}

export class ProviderRegistry {
  readonly #providers = new Map<string, GitProvider>()
  readonly #hosts = new Map<string, { key: string; adapter: GitProvider }>()

  constructor(
    settings: Record<string, ProviderSettings>,
    /** The application registered on a host (the host's "Set up"), by host ARN. */
    private readonly hostApp: (hostArn: string) => OAuthApp | undefined = () => undefined,
  ) {
    for (const d of PROVIDERS) this.#providers.set(d.type, d.createAdapter(settings[d.type] ?? {}))
  }

  /** Whether connections of a provider type need a host (GitHub Enterprise Server). */
  static hosted(type: string): boolean {
    return type in HOSTED
  }

  /**
   * The adapter of a host (`https://HOST`, `https://HOST/api/v3` for GitHub Enterprise Server),
   * with the application registered on it and its own TLS certificate trusted; one per host,
   * rebuilt when its endpoint or certificate changes. Undefined for a provider type that has no
   * hosts.
   */
  forHost(host: HostRef): GitProvider | undefined {
    const make = HOSTED[host.providerType]
    if (!make) return undefined
    const pem = host.tlsCertificate?.trim() ?? ''
    const key = `${host.providerEndpoint}\n${pem}`
    const known = this.#hosts.get(host.arn)
    if (known && known.key === key) return known.adapter
    const adapter = make(host.providerEndpoint, {
      app: () => this.hostApp(host.arn),
      http: { fetch: fetchTrusting(pem) },
    })
    this.#hosts.set(host.arn, { key, adapter })
    return adapter
  }

  /** The adapter of a provider type, or undefined when Junction has none yet. */
  get(type: string): GitProvider | undefined {
    return this.#providers.get(type)
  }

  /**
   * The descriptor of a provider type with an adapter here; a hosted type (GitHub Enterprise
   * Server) gets its cloud sibling's (GitHub's: completion, handshake and webhooks alike).
   */
  descriptor(type: string): ProviderDescriptor | undefined {
    return this.#providers.has(type) ? descriptorOf(type) : HOSTED_LIKE[type]
  }

  /** Every descriptor, with its adapter. */
  all(): { descriptor: ProviderDescriptor; adapter: GitProvider }[] {
    return PROVIDERS.map((d) => ({ descriptor: d, adapter: this.#providers.get(d.type)! }))
  }
}
