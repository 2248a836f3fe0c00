/**
 * @module sandbox/gitlab/render-git
 * GitLab's REST v4 entities read from Git: commits (branches.md, commits.md "Get a single
 * commit"), branches, diffs (commits.md "Get commit diff", repositories.md "Compare") and merge
 * requests.
 */
import type { Caller } from './auth.js'
import type { Gl } from './context.js'
import type { FileDiff, GlCommit } from './gitdata.js'
import { basicUser } from './render.js'
import type { GlMergeRequest, GlProject } from './state.js'

export const title = (message: string) => message.split('\n')[0] ?? ''

export function webUrl(gl: Gl, p: GlProject): string {
  return `${gl.url}/${gl.state.fullPath(p)}`
}

/** The commit as lists and branches show it. */
export function commit(gl: Gl, p: GlProject, c: GlCommit) {
  return {
    id: c.id,
    short_id: c.id.slice(0, 8),
    created_at: c.committedDate,
    parent_ids: c.parents,
    title: title(c.message),
    message: c.message,
    author_name: c.authorName,
    author_email: c.authorEmail,
    authored_date: c.authoredDate,
    committer_name: c.committerName,
    committer_email: c.committerEmail,
    committed_date: c.committedDate,
    trailers: {},
    extended_trailers: {},
    web_url: `${webUrl(gl, p)}/-/commit/${c.id}`,
  }
}

/** `GET /projects/:id/repository/commits/:sha`: with stats, status and last pipeline. */
export function commitDetail(gl: Gl, p: GlProject, c: GlCommit, files: FileDiff[]) {
  const additions = files.reduce((n, f) => n + f.additions, 0)
  const deletions = files.reduce((n, f) => n + f.deletions, 0)
  return {
    ...commit(gl, p, c),
    stats: { additions, deletions, total: additions + deletions },
    status: null,
    project_id: p.id,
    last_pipeline: null,
  }
}

/** The short commit of a compare answer. */
export function compareCommit(gl: Gl, p: GlProject, c: GlCommit) {
  return commit(gl, p, c)
}

export function diff(f: FileDiff) {
  return {
    diff: f.diff,
    collapsed: false,
    too_large: false,
    new_path: f.newPath,
    old_path: f.oldPath,
    a_mode: f.aMode,
    b_mode: f.bMode,
    new_file: f.newFile,
    renamed_file: f.renamedFile,
    deleted_file: f.deletedFile,
    generated_file: false,
  }
}

export function branch(
  gl: Gl,
  p: GlProject,
  name: string,
  c: GlCommit,
  o: { isDefault: boolean; merged: boolean; canPush: boolean },
) {
  return {
    name,
    merged: o.merged,
    protected: o.isDefault,
    default: o.isDefault,
    developers_can_push: false,
    developers_can_merge: false,
    can_push: o.canPush,
    web_url: `${webUrl(gl, p)}/-/tree/${name}`,
    commit: commit(gl, p, c),
  }
}

export interface MrHeads {
  /** The source branch's tip (the merge request's `sha`). */
  head: string | null
  base: string | null
  start: string | null
  hasConflicts: boolean
}

/** A merge request as `GET /projects/:id/merge_requests[/:iid]` answers it. */
export function mergeRequest(
  gl: Gl,
  p: GlProject,
  mr: GlMergeRequest,
  heads: MrHeads,
  _c: Caller | undefined,
  single: boolean,
) {
  const user = (n: string | null) => {
    const u = n ? gl.state.user(n) : undefined
    return u ? basicUser(gl, u) : null
  }
  const users = (ns: string[]) => ns.map(user).filter((u) => u !== null)
  const full = gl.state.fullPath(p)
  const detailed =
    mr.state !== 'opened' ? 'not_open' : heads.hasConflicts ? 'conflict' : 'mergeable'
  const out: Record<string, unknown> = {
    id: mr.id,
    iid: mr.iid,
    project_id: p.id,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    imported: false,
    imported_from: 'none',
    created_at: mr.createdAt,
    updated_at: mr.updatedAt,
    merged_by: user(mr.mergedBy),
    merge_user: user(mr.mergedBy),
    merged_at: mr.mergedAt,
    merge_after: null,
    closed_by: user(mr.closedBy),
    closed_at: mr.closedAt,
    target_branch: mr.target,
    source_branch: mr.source,
    user_notes_count: 0,
    upvotes: 0,
    downvotes: 0,
    author: user(mr.author),
    assignees: users(mr.assignees),
    assignee: user(mr.assignees[0] ?? null),
    reviewers: users(mr.reviewers),
    source_project_id: p.id,
    target_project_id: p.id,
    labels: mr.labels,
    draft: mr.draft,
    work_in_progress: mr.draft,
    milestone: null,
    merge_when_pipeline_succeeds: false,
    merge_status:
      mr.state === 'opened' && heads.hasConflicts ? 'cannot_be_merged' : 'can_be_merged',
    detailed_merge_status: detailed,
    sha: heads.head,
    merge_commit_sha: mr.mergeCommitSha,
    squash_commit_sha: null,
    discussion_locked: null,
    should_remove_source_branch: null,
    force_remove_source_branch: false,
    prepared_at: mr.createdAt,
    reference: `!${mr.iid}`,
    references: { short: `!${mr.iid}`, relative: `!${mr.iid}`, full: `${full}!${mr.iid}` },
    web_url: `${gl.url}/${full}/-/merge_requests/${mr.iid}`,
    time_stats: {
      time_estimate: 0,
      total_time_spent: 0,
      human_time_estimate: null,
      human_total_time_spent: null,
    },
    squash: false,
    squash_on_merge: false,
    task_completion_status: { count: 0, completed_count: 0 },
    has_conflicts: heads.hasConflicts,
    blocking_discussions_resolved: true,
  }
  if (single) {
    out['subscribed'] = false
    out['changes_count'] = null
    out['latest_build_started_at'] = null
    out['latest_build_finished_at'] = null
    out['first_deployed_to_production_at'] = null
    out['pipeline'] = null
    out['head_pipeline'] = null
    out['diff_refs'] = heads.head
      ? { base_sha: heads.base, head_sha: heads.head, start_sha: heads.start }
      : null
    out['merge_error'] = null
    out['first_contribution'] = false
    out['user'] = { can_merge: true }
  }
  return out
}
