/**
 * @module providers/github/convert
 * GitHub REST answers → the adapter interface's types. The `Gh*` types are the few members read,
 * named as in GitHub's OpenAPI description (`@octokit/openapi`, api.github.com and GHES 3.19,
 * shared/spec/github); `convert.test.ts` feeds each converter the description's own examples after
 * validating them against its schemas. Optional members are read tolerantly.
 */
import type {
  BranchInfo,
  ChangedFile,
  CommitInfo,
  InstallationTarget,
  PullRequestInfo,
  RepositoryInfo,
} from '../provider.js'

/** `simple-user` (or `enterprise`, which has `slug` and `name` instead of `login`). */
export interface GhAccount {
  login?: string
  slug?: string
  name?: string | null
  id?: number
}

/** `repository` / `full-repository`. */
export interface GhRepository {
  id: number
  name: string
  full_name: string
  owner: GhAccount
  private: boolean
  default_branch?: string
  clone_url?: string
  html_url?: string
}

/** `commit` (GET /repos/{o}/{r}/commits/{ref}; also inside `branch-with-protection`). */
export interface GhCommit {
  sha: string
  commit: {
    message: string
    author: { name?: string; date?: string } | null
    committer?: { name?: string; date?: string } | null
  }
  author?: { login?: string } | null
  parents: { sha: string }[]
  files?: GhDiffEntry[]
}

/** `short-branch` (listing: the commit's sha only). */
export interface GhShortBranch {
  name: string
  commit: { sha: string }
}

/** `branch-with-protection` (one branch: the full head commit). */
export interface GhBranch {
  name: string
  commit: GhCommit
}

/** `diff-entry`. */
export interface GhDiffEntry {
  filename: string
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged'
  previous_filename?: string
}

/** `commit-comparison`. */
export interface GhComparison {
  status: 'diverged' | 'ahead' | 'behind' | 'identical'
  merge_base_commit: { sha: string }
  total_commits: number
  files?: GhDiffEntry[]
}

/** `installation`. */
export interface GhInstallation {
  id: number
  account: GhAccount | null
  repository_selection: 'all' | 'selected'
  suspended_at: string | null
  target_type?: string
}

/** `installation-token`. */
export interface GhInstallationToken {
  token: string
  expires_at: string
}

/** `pull-request-simple` / `pull-request`. */
export interface GhPullRequest {
  number: number
  state: 'open' | 'closed'
  title: string
  merged_at: string | null
  head: { ref: string; sha: string; repo: { full_name: string } | null }
  base: { ref: string; sha: string }
}

export function toRepository(r: GhRepository, webUrl: string): RepositoryInfo {
  const owner = r.owner.login ?? r.full_name.split('/')[0] ?? ''
  return {
    fullName: r.full_name,
    owner,
    name: r.name,
    id: String(r.id),
    isPrivate: r.private,
    defaultBranch: r.default_branch ?? null,
    cloneUrl: r.clone_url ?? `${webUrl}/${r.full_name}.git`,
  }
}

export function toCommit(c: GhCommit): CommitInfo {
  return {
    id: c.sha,
    authorDate: c.commit.author?.date ?? c.commit.committer?.date ?? '',
    message: c.commit.message,
    author: c.commit.author?.name ?? c.author?.login ?? '',
    parents: c.parents.map((p) => p.sha),
  }
}

export const toBranch = (b: GhBranch): BranchInfo => ({ name: b.name, commit: toCommit(b.commit) })

/**
 * A listed branch: GitHub's listing names only the head's sha, so the rest of the commit is
 * empty (`getBranch` gives all of it).
 */
export const toShortBranch = (b: GhShortBranch): BranchInfo => ({
  name: b.name,
  commit: { id: b.commit.sha, authorDate: '', message: '', author: '', parents: [] },
})

/**
 * `copied` is a new path (`added`), `changed` a mode or type change (`modified`); `unchanged`
 * entries are dropped.
 */
export function toChangedFiles(files: GhDiffEntry[]): ChangedFile[] {
  const out: ChangedFile[] = []
  for (const f of files) {
    if (f.status === 'unchanged') continue
    const status = f.status === 'copied' ? 'added' : f.status === 'changed' ? 'modified' : f.status
    const c: ChangedFile = { status, path: f.filename }
    if (status === 'renamed' && f.previous_filename) c.oldPath = f.previous_filename
    out.push(c)
  }
  return out
}

/** An installation as the account it is on; its id is the installation id. */
export function toTarget(i: GhInstallation): InstallationTarget {
  const login = i.account?.login ?? i.account?.slug ?? ''
  return {
    id: String(i.id),
    slug: login,
    name: i.account?.name ?? login,
    // Whoever reaches an installation reaches what it was granted; installing is GitHub's check.
    administrator: true,
  }
}

export function toPullRequest(p: GhPullRequest, fullName: string): PullRequestInfo {
  return {
    number: p.number,
    title: p.title,
    state: p.state === 'open' ? 'OPEN' : p.merged_at ? 'MERGED' : 'CLOSED',
    sourceBranch: p.head.ref,
    sourceCommit: p.head.sha,
    sourceRepository: p.head.repo?.full_name ?? fullName,
    destinationBranch: p.base.ref,
    destinationCommit: p.base.sha,
  }
}
