/**
 * @module pipelines/watches
 * What a connection source action watches, as index keys the store keeps beside it (issue 16
 * item 4): an event looks up only the sources whose keys it carries, so its cost grows with the
 * pipelines that may match it, not with every pipeline on the repository.
 *
 * Keys (an over-approximation: the trigger filters still decide; a key only says "may match"):
 * - `b:<name>` a push to branch `<name>`, `b:*` a push to any branch;
 * - `t:<name>` a push of tag `<name>`, `t:*` any tag;
 * - `p:<name>` a pull request into `<name>`, `p:*` a pull request into any branch;
 * - `*` any event (rows written before the index existed, until the engine indexes them again).
 *
 * Includes that are all literal (no glob character) give their names; one glob (or no includes)
 * gives the kind's `*`. Excludes only narrow, so they never add a key. Without a trigger, a push to
 * BranchName is watched (also when DetectChanges is false, so the event log tells why nothing ran).
 */
import type { PipelineDeclaration } from '../generated/codepipeline.js'
import type { ProviderEvent } from '../providers/provider.js'
import type { PipelineSourceRecord } from '../store/pipeline-store.js'
import type { GitConfiguration, GitFilterCriteria } from './match-filters.js'

/** The key every event carries (a source watching it is a candidate for everything). */
export const ANY_EVENT = '*'

const GLOB_CHARACTERS = /[*?[\]{}\\]/

function keysOf(prefix: 'b' | 't' | 'p', c: GitFilterCriteria | undefined, out: Set<string>) {
  const includes = c?.includes ?? []
  if (includes.length === 0 || includes.some((p) => GLOB_CHARACTERS.test(p))) {
    out.add(`${prefix}:*`)
    return
  }
  for (const p of includes) out.add(`${prefix}:${p}`)
}

/** The keys of one source action: `trigger` its gitConfiguration, if the pipeline has one. */
export function watchKeys(trigger: GitConfiguration | undefined, branch: string): string[] {
  if (!trigger) return [`b:${branch}`]
  const out = new Set<string>()
  for (const f of trigger.push ?? []) {
    // A tag push matches only a filter with tags; a branch push one with branches, or without
    // tags (a filter of file paths alone applies to every branch).
    if (f.tags) keysOf('t', f.tags, out)
    if (f.branches) keysOf('b', f.branches, out)
    else if (!f.tags) out.add('b:*')
  }
  for (const f of trigger.pullRequest ?? []) keysOf('p', f.branches, out)
  return [...out].sort()
}

/** `sources` (of `decl`) with the keys they watch. */
export function watchedSources(
  decl: PipelineDeclaration,
  sources: PipelineSourceRecord[],
): PipelineSourceRecord[] {
  return sources.map((s) => {
    const t = decl.triggers?.find((x) => x.gitConfiguration.sourceActionName === s.actionName)
    return {
      ...s,
      watches: watchKeys(t?.gitConfiguration as GitConfiguration | undefined, s.branch),
    }
  })
}

/** The keys an event carries: the sources to consider are those watching one of them. */
export function eventKeys(event: ProviderEvent): string[] {
  const out = new Set<string>([ANY_EVENT])
  if (event.kind === 'push') {
    for (const c of event.changes)
      if (!c.deleted && c.after) {
        const k = c.kind === 'tag' ? 't' : 'b'
        out.add(`${k}:${c.name}`)
        out.add(`${k}:*`)
      }
  } else if (event.kind === 'pull_request') {
    out.add(`p:${event.destinationBranch}`)
    out.add('p:*')
  }
  return [...out]
}
