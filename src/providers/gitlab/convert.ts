/**
 * @module providers/gitlab/convert
 * GitLab REST answers (API v4) → the adapter interface's types. The `Gl*` types are the few members
 * read, named as GitLab's API documentation names them (shared/spec/gitlab); optional members are
 * read tolerantly.
 */
import type {
  BranchInfo,
  ChangedFile,
  CommitInfo,
  InstallationTarget,
  PullRequestInfo,
  RepositoryInfo,
} from '../provider.js'

/** `GET /projects/:id` (and the items of project listings). */
export interface GlProject {
  id: number
  path: string
  path_with_namespace: string
  name?: string
  default_branch?: string | null
  visibility?: string
  http_url_to_repo?: string
  web_url?: string
  namespace?: GlNamespace
  /** The caller's roles (present on `GET /projects/:id` and non-simple listings). */
  permissions?: {
    project_access?: { access_level?: number } | null
    group_access?: { access_level?: number } | null
  }
}

/** A project's `namespace`, or `GET /namespaces/:id`. */
export interface GlNamespace {
  id: number
  name?: string
  path?: string
  kind?: 'group' | 'user' | string
  full_path: string
}

/** `GET /groups/:id` and the items of `GET /groups`. */
export interface GlGroup {
  id: number
  name?: string
  path?: string
  full_name?: string
  full_path: string
}

/** `GET /user`. */
export interface GlUser {
  id: number
  username: string
  name?: string
  /** Present for administrators' own `GET /user`. */
  is_admin?: boolean
}

/** A commit (`GET /projects/:id/repository/commits/:sha`; also a branch's `commit`). */
export interface GlCommit {
  id: string
  title?: string
  message?: string
  author_name?: string
  author_email?: string
  authored_date?: string
  committed_date?: string
  created_at?: string
  parent_ids?: string[]
}

export interface GlBranch {
  name: string
  commit: GlCommit
}

/** One file of a compare or commit diff. */
export interface GlDiff {
  old_path: string
  new_path: string
  new_file?: boolean
  renamed_file?: boolean
  deleted_file?: boolean
  /** The patch (empty when collapsed or too large). */
  diff?: string
}

/** `GET /projects/:id/repository/compare`. */
export interface GlCompare {
  diffs?: GlDiff[]
  compare_timeout?: boolean
}

/** `GET /projects/:id/merge_requests[/:iid]`. */
export interface GlMergeRequest {
  iid: number
  title?: string
  state?: 'opened' | 'closed' | 'locked' | 'merged' | string
  source_branch?: string
  target_branch?: string
  source_project_id?: number
  target_project_id?: number
  sha?: string | null
  diff_refs?: { base_sha?: string | null; head_sha?: string | null } | null
}

/** The caller's role on a project: the higher of its project and group memberships. */
export function accessLevel(p: GlProject): number {
  return Math.max(
    p.permissions?.project_access?.access_level ?? 0,
    p.permissions?.group_access?.access_level ?? 0,
  )
}

/** `owner` is the project's own namespace (everything before its last `/`). */
export function toRepository(p: GlProject, webUrl: string): RepositoryInfo {
  const full = p.path_with_namespace
  const cut = full.lastIndexOf('/')
  return {
    fullName: full,
    owner: p.namespace?.full_path ?? full.slice(0, cut),
    name: p.path ?? full.slice(cut + 1),
    id: String(p.id),
    isPrivate: p.visibility !== 'public',
    defaultBranch: p.default_branch ?? null,
    cloneUrl: p.http_url_to_repo ?? `${webUrl}/${full}.git`,
  }
}

export function toCommit(c: GlCommit): CommitInfo {
  const email = c.author_email ? ` <${c.author_email}>` : ''
  return {
    id: c.id,
    authorDate: c.authored_date ?? c.created_at ?? c.committed_date ?? '',
    message: c.message ?? c.title ?? '',
    author: `${c.author_name ?? ''}${email}`.trim(),
    parents: c.parent_ids ?? [],
  }
}

export function toBranch(b: GlBranch): BranchInfo {
  return { name: b.name, commit: toCommit(b.commit) }
}

export function toChangedFile(d: GlDiff): ChangedFile {
  if (d.new_file) return { status: 'added', path: d.new_path }
  if (d.deleted_file) return { status: 'removed', path: d.old_path }
  if (d.renamed_file && d.old_path !== d.new_path)
    return { status: 'renamed', path: d.new_path, oldPath: d.old_path }
  return { status: 'modified', path: d.new_path }
}

export function groupTarget(g: GlGroup, administrator: boolean): InstallationTarget {
  return {
    id: `group:${g.id}`,
    slug: g.full_path,
    name: g.full_name ?? g.name ?? g.full_path,
    administrator,
  }
}

/** A user's own namespace: they administer it. */
export function userTarget(u: GlUser): InstallationTarget {
  return { id: `user:${u.id}`, slug: u.username, name: u.name ?? u.username, administrator: true }
}

const STATES: Record<string, PullRequestInfo['state']> = {
  opened: 'OPEN',
  merged: 'MERGED',
  closed: 'CLOSED',
  locked: 'CLOSED',
}

/**
 * A merge request as a pull request. The source repository is `fullName` when the source branch
 * lives in the same project; a fork's is named by its numeric project id (GitLab answers only that).
 */
export function toPullRequest(m: GlMergeRequest, fullName: string): PullRequestInfo {
  const fork =
    m.source_project_id !== undefined &&
    m.target_project_id !== undefined &&
    m.source_project_id !== m.target_project_id
  return {
    number: m.iid,
    title: m.title ?? '',
    state: STATES[m.state ?? ''] ?? 'OPEN',
    sourceBranch: m.source_branch ?? '',
    sourceCommit: m.sha ?? m.diff_refs?.head_sha ?? '',
    sourceRepository: fork ? String(m.source_project_id) : fullName,
    destinationBranch: m.target_branch ?? '',
    destinationCommit: m.diff_refs?.base_sha ?? '',
  }
}
