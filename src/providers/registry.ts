/**
 * @module providers/registry
 * The providers Junction knows: one descriptor each (`providers/<name>/index.ts`, see
 * `descriptor.ts`). Adding a provider is one line in `PROVIDERS` plus its adapter folder, its
 * sandbox folder and the contract suite (STYLE §5.6, README "Adding a provider"); core code looks
 * descriptors and adapters up by the connection's `ProviderType` and never names a provider.
 */
import { bitbucket } from './bitbucket/index.js'
import type { ProviderDescriptor, ProviderSettings } from './descriptor.js'
import type { GitProvider } from './provider.js'

export type { ProviderSettings } from './descriptor.js'

/** Every provider with an adapter, in the order the console lists them. */
export const PROVIDERS: readonly ProviderDescriptor[] = [bitbucket]

/** Provider types with an adapter (the console lists the others as not yet available). */
export const SUPPORTED_PROVIDERS = PROVIDERS.map((p) => p.type)

/** The descriptor of a provider type, or undefined when Junction has no adapter for it. */
export function descriptorOf(type: string): ProviderDescriptor | undefined {
  return PROVIDERS.find((p) => p.type === type)
}

/** The descriptor whose browser routes live under `/oauth/<path>/`. */
export function descriptorByPath(path: string): ProviderDescriptor | undefined {
  return PROVIDERS.find((p) => p.path === path)
}

export class ProviderRegistry {
  readonly #providers = new Map<string, GitProvider>()

  constructor(settings: Record<string, ProviderSettings>) {
    for (const d of PROVIDERS) this.#providers.set(d.type, d.createAdapter(settings[d.type] ?? {}))
  }

  /** The adapter of a provider type, or undefined when Junction has none yet. */
  get(type: string): GitProvider | undefined {
    return this.#providers.get(type)
  }

  /** The descriptor of a provider type with an adapter here. */
  descriptor(type: string): ProviderDescriptor | undefined {
    return this.#providers.has(type) ? descriptorOf(type) : undefined
  }

  /** Every descriptor, with its adapter. */
  all(): { descriptor: ProviderDescriptor; adapter: GitProvider }[] {
    return PROVIDERS.map((d) => ({ descriptor: d, adapter: this.#providers.get(d.type)! }))
  }
}
