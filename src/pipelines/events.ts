/**
 * @module pipelines/events
 * Turns a provider event into the changes a pipeline trigger is matched against (spec §8): one
 * per pushed branch or tag (deleted refs start nothing), one per pull-request event. Changed files
 * come from the payload when the provider sends them, otherwise from the provider's diff API
 * (Bitbucket never sends them): a push against the commit before it (a new branch against its
 * first parent), a pull request from the merge base of its destination and source. Pull-request commit ids
 * (Bitbucket sends 12-character abbreviations) are resolved to full ids.
 */
import type { ProviderEvent } from '../providers/provider.js'
import type { TriggerEvent } from './match-filters.js'

export interface SourceChange {
  /** What the trigger filters are matched against. */
  event: TriggerEvent
  /** The revision an execution started by this change uses (full commit id). */
  commit: string
  /** The branch (or tag) of that revision: the pushed ref, or a pull request's source branch. */
  ref: string
}

export interface ChangeLookups {
  /**
   * Files changed by `commit` relative to `base` (default: its first parent); with
   * `fromMergeBase`, relative to the merge base of the two.
   */
  changedFiles(commit: string, base?: string, fromMergeBase?: boolean): Promise<string[]>
  /** The full id of an abbreviated commit. */
  resolveCommit(commit: string): Promise<string>
}

/**
 * The changes in `event`. With `needFiles` false no diff is fetched (no filter asks for paths);
 * with it true every change carries its changed files.
 */
export async function sourceChanges(
  event: ProviderEvent,
  lookups: ChangeLookups,
  needFiles: boolean,
): Promise<SourceChange[]> {
  if (event.kind === 'push') {
    const out: SourceChange[] = []
    for (const c of event.changes) {
      if (c.deleted || !c.after) continue
      const e: TriggerEvent = { kind: 'push', ref: { type: c.kind, name: c.name } }
      if (needFiles)
        e.changedFiles =
          event.changedFiles ??
          (await lookups.changedFiles(c.after, c.created ? undefined : c.before))
      out.push({ event: e, commit: c.after, ref: c.name })
    }
    return out
  }
  const source = await lookups.resolveCommit(event.sourceCommit)
  const e: TriggerEvent = {
    kind: 'pull_request',
    action: event.action,
    destinationBranch: event.destinationBranch,
  }
  if (needFiles) {
    const destination = await lookups.resolveCommit(event.destinationCommit)
    // The pull request's own changes: from the merge base, as the provider shows them.
    e.changedFiles = await lookups.changedFiles(source, destination, true)
  }
  return [{ event: e, commit: source, ref: event.sourceBranch }]
}
