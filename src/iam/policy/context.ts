/**
 * @module iam/policy/context
 * The request context: condition keys and their values. Keys compare case-insensitively, as in
 * AWS; every key holds a list of strings (single-valued keys hold one).
 */
export class RequestContext {
  readonly #values = new Map<string, string[]>()
  /** Keys as first written, for explanations. */
  readonly #names = new Map<string, string>()

  constructor(entries: Record<string, string | string[] | undefined> = {}) {
    for (const [k, v] of Object.entries(entries)) if (v !== undefined) this.set(k, v)
  }

  set(key: string, value: string | string[]): this {
    const id = key.toLowerCase()
    this.#values.set(id, Array.isArray(value) ? value : [value])
    if (!this.#names.has(id)) this.#names.set(id, key)
    return this
  }

  get(key: string): string[] | undefined {
    return this.#values.get(key.toLowerCase())
  }

  has(key: string): boolean {
    return this.#values.has(key.toLowerCase())
  }

  /** Every key with its values, for explanations. */
  entries(): [string, string[]][] {
    return [...this.#values].map(([id, v]) => [this.#names.get(id) ?? id, v])
  }
}
