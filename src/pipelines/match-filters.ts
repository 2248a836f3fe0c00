/**
 * @module pipelines/match-filters
 * Decides whether a provider event starts a pipeline, by the V2 trigger filters of spec §8, as a
 * pure function with the reason either way (the event log shows it). OR between the push and
 * pull-request filters and between list entries; AND within one entry across tags, branches,
 * file paths (and events); within one criteria object includes AND NOT excludes, and an exclude
 * wins over an include. Without `includes` everything is included.
 */
import { GlobSet } from './glob.js'

export interface GitFilterCriteria {
  includes?: string[]
  excludes?: string[]
}

export interface GitPushFilter {
  tags?: GitFilterCriteria
  branches?: GitFilterCriteria
  filePaths?: GitFilterCriteria
}

export type PullRequestEventType = 'OPEN' | 'UPDATED' | 'CLOSED'

export interface GitPullRequestFilter {
  events?: PullRequestEventType[]
  branches?: GitFilterCriteria
  filePaths?: GitFilterCriteria
}

export interface GitConfiguration {
  sourceActionName: string
  push?: GitPushFilter[]
  pullRequest?: GitPullRequestFilter[]
}

/** What the matcher needs to know of an event. */
export type TriggerEvent =
  | {
      kind: 'push'
      ref: { type: 'branch' | 'tag'; name: string }
      /** Files the push changed; undefined when not known (ask `needsChangedFiles`). */
      changedFiles?: string[]
    }
  | {
      kind: 'pull_request'
      action: PullRequestEventType
      /** The PR's destination branch: `branches` filters match it. */
      destinationBranch: string
      changedFiles?: string[]
    }

export interface MatchResult {
  matched: boolean
  /** Why, in one sentence, for the event log. */
  reason: string
  /**
   * True when a filter passed everything but its file paths and the event carried no changed
   * files: ask again with them (they are fetched only when some filter needs them).
   */
  needsFiles: boolean
}

const FILES_UNKNOWN = 'the changed files are not known'

interface Criteria {
  includes?: GlobSet
  excludes?: GlobSet
}

function compile(c: GitFilterCriteria | undefined): Criteria | undefined {
  if (!c) return undefined
  const out: Criteria = {}
  if (c.includes?.length) out.includes = new GlobSet(c.includes)
  if (c.excludes?.length) out.excludes = new GlobSet(c.excludes)
  return out
}

/** Why `value` does not pass `c`, or undefined when it does. */
function refuse(c: Criteria, what: string, value: string): string | undefined {
  const excluded = c.excludes?.match(value)
  if (excluded !== undefined) return `${what} '${value}' is excluded by '${excluded}'`
  if (c.includes && c.includes.match(value) === undefined)
    return `${what} '${value}' is not included by [${c.includes.patterns.join(', ')}]`
  return undefined
}

/** Passes when at least one changed file is included and not excluded. */
function refuseFiles(c: Criteria, files: string[]): string | undefined {
  if (files.some((f) => refuse(c, 'file', f) === undefined)) return undefined
  if (files.length === 0) return 'the change touches no file'
  return `none of the ${files.length} changed file${files.length === 1 ? '' : 's'} passes the file path filter (${refuse(c, 'file', files[0]!)}${files.length > 1 ? ', …' : ''})`
}

/** True when deciding needs the changed files (a filter with filePaths applies to this kind). */
export function needsChangedFiles(config: GitConfiguration, event: TriggerEvent): boolean {
  const filters = event.kind === 'push' ? config.push : config.pullRequest
  return (filters ?? []).some((f) => f.filePaths !== undefined)
}

/** Compiles the configuration once; `match` then runs per event. Throws GlobSyntaxError. */
export class TriggerMatcher {
  readonly #push: { tags?: Criteria; branches?: Criteria; filePaths?: Criteria }[]
  readonly #pr: { events?: Set<PullRequestEventType>; branches?: Criteria; filePaths?: Criteria }[]

  constructor(readonly config: GitConfiguration) {
    this.#push = (config.push ?? []).map((f) => {
      const c: { tags?: Criteria; branches?: Criteria; filePaths?: Criteria } = {}
      const tags = compile(f.tags)
      const branches = compile(f.branches)
      const filePaths = compile(f.filePaths)
      if (tags) c.tags = tags
      if (branches) c.branches = branches
      if (filePaths) c.filePaths = filePaths
      return c
    })
    this.#pr = (config.pullRequest ?? []).map((f) => {
      const c: { events?: Set<PullRequestEventType>; branches?: Criteria; filePaths?: Criteria } =
        {}
      if (f.events?.length) c.events = new Set(f.events)
      const branches = compile(f.branches)
      const filePaths = compile(f.filePaths)
      if (branches) c.branches = branches
      if (filePaths) c.filePaths = filePaths
      return c
    })
  }

  match(event: TriggerEvent): MatchResult {
    const reasons: string[] = []
    // Every result has the same shape (one hidden class for the JIT: this runs per pipeline).
    let needsFiles = false
    if (event.kind === 'push') {
      if (this.#push.length === 0)
        return { matched: false, reason: 'the trigger has no push filter', needsFiles }
      for (let i = 0; i < this.#push.length; i++) {
        const why = this.#refusePush(this.#push[i]!, event)
        if (!why)
          return {
            matched: true,
            reason: `push filter ${i + 1} matches ${event.ref.type} '${event.ref.name}'`,
            needsFiles,
          }
        if (why === FILES_UNKNOWN) needsFiles = true
        reasons.push(`push filter ${i + 1}: ${why}`)
      }
    } else {
      if (this.#pr.length === 0)
        return { matched: false, reason: 'the trigger has no pull-request filter', needsFiles }
      for (let i = 0; i < this.#pr.length; i++) {
        const why = this.#refusePullRequest(this.#pr[i]!, event)
        if (!why)
          return {
            matched: true,
            reason: `pull-request filter ${i + 1} matches ${event.action} into '${event.destinationBranch}'`,
            needsFiles,
          }
        if (why === FILES_UNKNOWN) needsFiles = true
        reasons.push(`pull-request filter ${i + 1}: ${why}`)
      }
    }
    return { matched: false, reason: reasons.join('; '), needsFiles }
  }

  #refusePush(
    f: { tags?: Criteria; branches?: Criteria; filePaths?: Criteria },
    e: Extract<TriggerEvent, { kind: 'push' }>,
  ): string | undefined {
    if (e.ref.type === 'tag') {
      // A tag push matches only a filter about tags.
      if (!f.tags) return `tag '${e.ref.name}' was pushed, the filter is about branches`
      return refuse(f.tags, 'tag', e.ref.name)
    }
    if (f.tags && !f.branches) return `branch '${e.ref.name}' was pushed, the filter is about tags`
    if (f.branches) {
      const why = refuse(f.branches, 'branch', e.ref.name)
      if (why) return why
    }
    if (f.filePaths) {
      if (!e.changedFiles) return FILES_UNKNOWN
      return refuseFiles(f.filePaths, e.changedFiles)
    }
    return undefined
  }

  #refusePullRequest(
    f: { events?: Set<PullRequestEventType>; branches?: Criteria; filePaths?: Criteria },
    e: Extract<TriggerEvent, { kind: 'pull_request' }>,
  ): string | undefined {
    if (f.events && !f.events.has(e.action))
      return `event ${e.action} is not one of ${[...f.events].join(', ')}`
    if (f.branches) {
      const why = refuse(f.branches, 'destination branch', e.destinationBranch)
      if (why) return why
    }
    if (f.filePaths) {
      if (!e.changedFiles) return FILES_UNKNOWN
      return refuseFiles(f.filePaths, e.changedFiles)
    }
    return undefined
  }
}
