/**
 * @module providers/registry
 * The adapters Junction knows, by provider type. Adding a provider is one entry here plus its
 * folder (STYLE §5.6); core code looks adapters up by the connection's `ProviderType`.
 */
import { BitbucketProvider } from './bitbucket/bitbucket-provider.js'
import type { HttpClientOptions } from './http-client.js'
import type { GitProvider, OAuthApp, ProviderEndpoints } from './provider.js'

export interface ProviderSettings {
  endpoints?: ProviderEndpoints
  app?: OAuthApp | (() => OAuthApp | undefined)
  http?: HttpClientOptions
}

const factories: Record<string, (s: ProviderSettings) => GitProvider> = {
  Bitbucket: (s) => new BitbucketProvider(s),
}

/** Provider types with an adapter (the console lists the others as not yet available). */
export const SUPPORTED_PROVIDERS = Object.keys(factories)

export class ProviderRegistry {
  readonly #providers = new Map<string, GitProvider>()

  constructor(settings: Record<string, ProviderSettings>) {
    for (const [type, make] of Object.entries(factories))
      this.#providers.set(type, make(settings[type] ?? {}))
  }

  /** The adapter of a provider type, or undefined when Junction has none yet. */
  get(type: string): GitProvider | undefined {
    return this.#providers.get(type)
  }
}
