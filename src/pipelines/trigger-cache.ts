/**
 * @module pipelines/trigger-cache
 * Each pipeline's parsed declaration and compiled trigger matchers, kept per declaration digest
 * (issue 16 item 4): an event parses and compiles a pipeline once, not once per event. An entry
 * is used only while the watched-source index still names its digest, so an update (new digest)
 * or a delete (no rows) on any node is never served from here; least recently used entries go
 * first past the bound.
 */
import type { PipelineDeclaration } from '../generated/codepipeline.js'
import type { PipelineRecord } from '../store/pipeline-store.js'
import { isSource, sourceConfig, triggerOf } from './definition.js'
import { TriggerMatcher } from './match-filters.js'

/** How one source action of the pipeline decides. */
export interface CompiledSource {
  /** The compiled trigger filters, when the pipeline declares a trigger for the action. */
  matcher?: TriggerMatcher
  /** Whether the action exists as a connection source action in the declaration. */
  declared: boolean
  detectChanges: boolean
}

export interface CompiledPipeline {
  digest: string
  record: PipelineRecord
  decl: PipelineDeclaration
  /** Variables an event-started execution gets: each declared one at its default. */
  variables: Record<string, string>
  source(actionName: string): CompiledSource
}

export function compilePipeline(record: PipelineRecord, digest: string): CompiledPipeline {
  const decl = JSON.parse(record.declaration) as PipelineDeclaration
  const sources = new Map<string, CompiledSource>()
  return {
    digest,
    record,
    decl,
    variables: Object.fromEntries(
      (decl.variables ?? []).map((v) => [v.name, v.defaultValue ?? '']),
    ),
    source(actionName) {
      let s = sources.get(actionName)
      if (!s) {
        const trigger = triggerOf(decl, actionName)
        const action = decl.stages[0]?.actions.find((a) => a.name === actionName && isSource(a))
        s = {
          declared: action !== undefined,
          detectChanges: action ? sourceConfig(action).detectChanges : true,
        }
        if (trigger) s.matcher = new TriggerMatcher(trigger)
        sources.set(actionName, s)
      }
      return s
    },
  }
}

export class TriggerCache {
  readonly #entries = new Map<string, CompiledPipeline>()
  #hits = 0
  #misses = 0

  constructor(readonly maxEntries = 4096) {}

  /** The compiled pipeline if this node has it at `digest`. */
  get(accountId: string, name: string, digest: string): CompiledPipeline | undefined {
    const key = `${accountId}\u0000${name}`
    const e = this.#entries.get(key)
    if (!e || e.digest !== digest || digest === '') {
      this.#misses++
      return undefined
    }
    this.#hits++
    // Most recently used last.
    this.#entries.delete(key)
    this.#entries.set(key, e)
    return e
  }

  set(e: CompiledPipeline): void {
    const key = `${e.record.accountId}\u0000${e.record.name}`
    this.#entries.delete(key)
    this.#entries.set(key, e)
    while (this.#entries.size > this.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value!)
  }

  /** Forgets a pipeline (deleted or updated on this node). */
  forget(accountId: string, name: string): void {
    this.#entries.delete(`${accountId}\u0000${name}`)
  }

  get stats(): { entries: number; hits: number; misses: number } {
    return { entries: this.#entries.size, hits: this.#hits, misses: this.#misses }
  }
}
