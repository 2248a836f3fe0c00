/**
 * @module sandbox/gitlab/payloads
 * Webhook bodies as GitLab sends them (webhook_events.md; the published examples are in
 * ../shared/spec/gitlab/webhook-examples/): Push Hook and Tag Push Hook (commits: the newest 20,
 * oldest first, `total_commits_count` the real count; author emails `[REDACTED]` when the
 * setting says so) and Merge Request Hook (`object_attributes` with `action`, `oldrev` only on
 * an update that brought commits, `changes` with what changed).
 */
import { resolveRef } from '../core/git.js'
import type { Gl } from './context.js'
import { countOf, logOf, touched, type GlCommit } from './gitdata.js'
import { avatar } from './render.js'
import { title } from './render-git.js'
import type { GlMergeRequest, GlProject, GlUser } from './state.js'

export const ZERO = '0'.repeat(40)
const LEVEL = { private: 0, internal: 10, public: 20 } as const

/** `2013-12-03T17:23:34Z` (hook object dates). */
export const hookDate = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
/** `2017-09-15 16:50:55 UTC` (the dates in `changes`). */
export const changeDate = (isoDate: string | null) =>
  isoDate === null ? null : `${isoDate.slice(0, 10)} ${isoDate.slice(11, 19)} UTC`

export function hookProject(gl: Gl, p: GlProject, defaultBranch: string | null) {
  const full = gl.state.fullPath(p)
  const web = `${gl.url}/${full}`
  const ssh = `git@${new URL(gl.url).hostname}:${full}.git`
  const ns =
    p.namespaceKind === 'group'
      ? gl.state.group(p.groupId!)!.name
      : (gl.state.user(p.owner!)?.displayName ?? p.owner!)
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    web_url: web,
    avatar_url: null,
    git_ssh_url: ssh,
    git_http_url: `${web}.git`,
    namespace: ns,
    visibility_level: LEVEL[p.visibility],
    path_with_namespace: full,
    default_branch: defaultBranch,
    ci_config_path: '',
    homepage: web,
    url: ssh,
    ssh_url: ssh,
    http_url: `${web}.git`,
  }
}

function email(gl: Gl, e: string): string {
  return gl.state.data.settings.redactAuthorEmails ? '[REDACTED]' : e
}

async function pushCommit(gl: Gl, p: GlProject, dir: string, c: GlCommit) {
  return {
    id: c.id,
    message: c.message,
    title: title(c.message),
    timestamp: c.authoredDate,
    url: `${gl.url}/${gl.state.fullPath(p)}/-/commit/${c.id}`,
    author: { name: c.authorName, email: email(gl, c.authorEmail) },
    ...(await touched(dir, c.id)),
  }
}

export interface PushInput {
  project: GlProject
  dir: string
  defaultBranch: string | null
  ref: string
  before: string
  after: string
  user: GlUser
  /** The default branch's tip before the push (a new branch lists what it adds to it). */
  baseTip: string | undefined
}

/** A Push Hook or Tag Push Hook body. */
export async function pushPayload(gl: Gl, i: PushInput) {
  const tag = i.ref.startsWith('refs/tags/')
  let commits: Awaited<ReturnType<typeof pushCommit>>[] = []
  let total = 0
  if (!tag && i.after !== ZERO) {
    // A new branch lists what it adds to the default branch (none when it adds nothing).
    const range =
      i.before !== ZERO
        ? [`${i.before}..${i.after}`]
        : i.baseTip
          ? [i.after, `^${i.baseTip}`]
          : [i.after]
    total = await countOf(i.dir, range)
    const newest = (await logOf(i.dir, range, 20)).reverse()
    for (const c of newest) commits.push(await pushCommit(gl, i.project, i.dir, c))
  } else commits = []
  const u = i.user
  const kind = tag ? 'tag_push' : 'push'
  const project = hookProject(gl, i.project, i.defaultBranch)
  return {
    object_kind: kind,
    event_name: kind,
    before: i.before,
    after: i.after,
    ref: i.ref,
    ref_protected: !tag && i.ref === `refs/heads/${i.defaultBranch}`,
    // An annotated tag's checkout_sha is the commit it points at.
    checkout_sha: i.after === ZERO ? null : ((await resolveRef(i.dir, i.after)) ?? i.after),
    message: null,
    user_id: u.id,
    user_name: u.displayName,
    user_username: u.username,
    user_email: u.publicEmail || '[REDACTED]',
    user_avatar: avatar(gl, u),
    project_id: i.project.id,
    project,
    commits,
    total_commits_count: total,
    push_options: {},
    repository: {
      name: i.project.name,
      url: project.url,
      description: i.project.description,
      homepage: project.homepage,
      git_http_url: project.git_http_url,
      git_ssh_url: project.git_ssh_url,
      visibility_level: project.visibility_level,
    },
  }
}

export interface MrEvent {
  action: 'open' | 'update' | 'close' | 'reopen' | 'merge'
  user: GlUser
  /** The source branch's tip and commit (last_commit). */
  head: GlCommit | undefined
  oldrev?: string
  changes: Record<string, { previous: unknown; current: unknown }>
}

const STATE_ID = { opened: 1, closed: 2, merged: 3 } as const

export function labelObjects(gl: Gl, p: GlProject, titles: string[]) {
  return titles.map((t) => {
    const l = gl.state.data.labels.find((x) => x.projectId === p.id && x.title === t)
    return {
      id: l?.id ?? 0,
      title: t,
      color: l?.color ?? '#6699cc',
      project_id: p.id,
      created_at: l?.createdAt ?? hookDate(gl.now()),
      updated_at: l?.createdAt ?? hookDate(gl.now()),
      template: false,
      description: l?.description ?? '',
      type: 'ProjectLabel',
      group_id: null,
    }
  })
}

/** A Merge Request Hook body. */
export function mergeRequestPayload(
  gl: Gl,
  p: GlProject,
  mr: GlMergeRequest,
  defaultBranch: string | null,
  e: MrEvent,
) {
  const idOf = (n: string | null) => (n ? (gl.state.user(n)?.id ?? null) : null)
  const userRow = (n: string) => {
    const u = gl.state.user(n)!
    return { id: u.id, name: u.displayName, username: u.username, avatar_url: avatar(gl, u) }
  }
  const proj = hookProject(gl, p, defaultBranch)
  const labels = labelObjects(gl, p, mr.labels)
  const url = `${gl.url}/${gl.state.fullPath(p)}/-/merge_requests/${mr.iid}`
  const d = (s: string | null) => (s === null ? null : hookDate(Date.parse(s)))
  const attrs: Record<string, unknown> = {
    id: mr.id,
    iid: mr.iid,
    target_branch: mr.target,
    source_branch: mr.source,
    source_project_id: p.id,
    author_id: idOf(mr.author),
    assignee_ids: mr.assignees.map(idOf),
    assignee_id: idOf(mr.assignees[0] ?? null),
    reviewer_ids: mr.reviewers.map(idOf),
    title: mr.title,
    created_at: d(mr.createdAt),
    updated_at: d(mr.updatedAt),
    last_edited_at: d(mr.lastEditedAt),
    last_edited_by_id: idOf(mr.lastEditedBy),
    milestone_id: null,
    state_id: STATE_ID[mr.state],
    state: mr.state,
    blocking_discussions_resolved: true,
    work_in_progress: mr.draft,
    draft: mr.draft,
    first_contribution: false,
    merge_status: mr.state === 'opened' ? 'can_be_merged' : 'unchecked',
    target_project_id: p.id,
    description: mr.description,
    prepared_at: d(mr.createdAt),
    total_time_spent: 0,
    time_change: 0,
    human_total_time_spent: null,
    human_time_change: null,
    human_time_estimate: null,
    time_estimate: 0,
    head_pipeline_id: null,
    merge_commit_sha: mr.mergeCommitSha,
    merge_error: null,
    merge_params: { force_remove_source_branch: '0' },
    merge_user_id: idOf(mr.mergedBy),
    merge_when_pipeline_succeeds: false,
    updated_by_id: idOf(e.user.username),
    discussion_locked: null,
    squash: false,
    url,
    source: proj,
    target: proj,
    last_commit: e.head
      ? {
          id: e.head.id,
          message: e.head.message,
          title: title(e.head.message),
          timestamp: e.head.authoredDate,
          url: `${gl.url}/${gl.state.fullPath(p)}/-/commit/${e.head.id}`,
          author: { name: e.head.authorName, email: email(gl, e.head.authorEmail) },
        }
      : null,
    labels,
    action: e.action,
    detailed_merge_status: mr.state === 'opened' ? 'mergeable' : 'not_open',
  }
  if (e.oldrev) attrs['oldrev'] = e.oldrev
  return {
    object_kind: 'merge_request',
    event_type: 'merge_request',
    user: {
      id: e.user.id,
      name: e.user.displayName,
      username: e.user.username,
      avatar_url: avatar(gl, e.user),
      email: e.user.publicEmail || '[REDACTED]',
    },
    project: proj,
    object_attributes: attrs,
    labels,
    changes: e.changes,
    repository: {
      name: p.name,
      url: proj.url,
      description: p.description,
      homepage: proj.homepage,
    },
    assignees: mr.assignees.map(userRow),
    reviewers: mr.reviewers.map(userRow),
  }
}
