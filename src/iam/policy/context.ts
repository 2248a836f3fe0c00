/**
 * @module iam/policy/context
 * The request context: condition keys and their values. Keys compare case-insensitively, as in
 * AWS; every key holds a list of strings (single-valued keys hold one).
 *
 * Built for the hot path: a context may inherit from a parent (the principal's own keys, built
 * once per principal) and may compute some keys only when a policy reads them (the current time,
 * the source address). Its maps are allocated on first write.
 */
export type DynamicKeys = (idLower: string) => string | string[] | undefined

export class RequestContext {
  #values: Map<string, string[]> | undefined
  /** Keys as first written, for explanations. */
  #names: Map<string, string> | undefined
  readonly #parent: RequestContext | undefined
  readonly #dynamic: DynamicKeys | undefined
  /** The keys `dynamic` answers, for `has` and explanations. */
  readonly #dynamicKeys: readonly string[]

  constructor(
    entries: Record<string, string | string[] | undefined> = {},
    parent?: RequestContext,
    dynamic?: { keys: readonly string[]; get: DynamicKeys },
  ) {
    this.#parent = parent
    this.#dynamic = dynamic?.get
    this.#dynamicKeys = dynamic?.keys ?? []
    for (const k in entries) {
      const v = entries[k]
      if (v !== undefined) this.set(k, v)
    }
  }

  set(key: string, value: string | string[]): this {
    const id = key.toLowerCase()
    ;(this.#values ??= new Map()).set(id, Array.isArray(value) ? value : [value])
    this.#names ??= new Map()
    if (!this.#names.has(id)) this.#names.set(id, key)
    return this
  }

  get(key: string): string[] | undefined {
    return this.getLower(key.toLowerCase())
  }

  /** `get` for a key already in lower case (compiled policies keep them so). */
  getLower(id: string): string[] | undefined {
    const v = this.#values?.get(id)
    if (v !== undefined) return v
    if (this.#dynamic) {
      const d = this.#dynamic(id)
      if (d !== undefined) {
        const list = Array.isArray(d) ? d : [d]
        ;(this.#values ??= new Map()).set(id, list)
        return list
      }
    }
    return this.#parent?.getLower(id)
  }

  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  /** Every key with its values, for explanations. */
  entries(): [string, string[]][] {
    for (const k of this.#dynamicKeys) this.get(k)
    const out = new Map<string, [string, string[]]>()
    for (const [k, v] of this.#parent?.entries() ?? []) out.set(k.toLowerCase(), [k, v])
    for (const [id, v] of this.#values ?? [])
      out.set(id, [
        this.#names?.get(id) ?? this.#dynamicKeys.find((k) => k.toLowerCase() === id) ?? id,
        v,
      ])
    return [...out.values()]
  }
}
