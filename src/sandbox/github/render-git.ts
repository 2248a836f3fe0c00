/**
 * @module sandbox/github/render-git
 * GitHub's JSON shapes for Git data and pull requests (`commit`, `diff-entry`, `short-branch`,
 * `branch-with-protection`, `git-ref`, `pull-request-simple`, `pull-request`), with every member
 * GitHub's OpenAPI description requires.
 */
import type { Gh } from './context.js'
import type { FileChange, GitCommit } from './gitdata.js'
import { nodeId, repository, simpleUser } from './render.js'
import type { GhPull, GhRepo } from './state.js'

const apiOf = (gh: Gh, r: GhRepo) => `${gh.urls.api}/repos/${r.owner}/${r.name}`
const htmlOf = (gh: Gh, r: GhRepo) => `${gh.urls.web}/${r.owner}/${r.name}`

/** The sandbox user whose email a commit carries, as GitHub links authors. */
function author(gh: Gh, email: string) {
  const u = gh.state.data.users.find((x) => x.email.toLowerCase() === email.toLowerCase())
  return u ? simpleUser(gh, u.username) : null
}

export function diffEntry(gh: Gh, r: GhRepo, head: string, f: FileChange) {
  const path = f.filename.split('/').map(encodeURIComponent).join('/')
  const out: Record<string, unknown> = {
    sha: f.sha,
    filename: f.filename,
    status: f.status,
    additions: f.additions,
    deletions: f.deletions,
    changes: f.additions + f.deletions,
    blob_url: `${htmlOf(gh, r)}/blob/${head}/${path}`,
    raw_url: `${htmlOf(gh, r)}/raw/${head}/${path}`,
    contents_url: `${apiOf(gh, r)}/contents/${path}?ref=${head}`,
  }
  if (f.previousFilename !== undefined) out['previous_filename'] = f.previousFilename
  return out
}

/** A commit as `commit`; with `files`, as `GET …/commits/{ref}` answers (stats and files). */
export function commit(gh: Gh, r: GhRepo, c: GitCommit, files?: FileChange[]) {
  const api = apiOf(gh, r)
  const out: Record<string, unknown> = {
    sha: c.sha,
    node_id: nodeId('Commit', parseInt(c.sha.slice(0, 8), 16)),
    commit: {
      author: { name: c.authorName, email: c.authorEmail, date: c.authorDate },
      committer: { name: c.committerName, email: c.committerEmail, date: c.committerDate },
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      url: `${api}/git/commits/${c.sha}`,
      comment_count: 0,
      verification: {
        verified: false,
        reason: 'unsigned',
        signature: null,
        payload: null,
        verified_at: null,
      },
    },
    url: `${api}/commits/${c.sha}`,
    html_url: `${htmlOf(gh, r)}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    author: author(gh, c.authorEmail),
    committer: author(gh, c.committerEmail),
    parents: c.parents.map((p) => ({
      sha: p,
      url: `${api}/commits/${p}`,
      html_url: `${htmlOf(gh, r)}/commit/${p}`,
    })),
  }
  if (files) {
    const additions = files.reduce((n, f) => n + f.additions, 0)
    const deletions = files.reduce((n, f) => n + f.deletions, 0)
    out['stats'] = { total: additions + deletions, additions, deletions }
    out['files'] = files.map((f) => diffEntry(gh, r, c.sha, f))
  }
  return out
}

export function shortBranch(gh: Gh, r: GhRepo, name: string, sha: string) {
  return {
    name,
    commit: { sha, url: `${apiOf(gh, r)}/commits/${sha}` },
    protected: false,
  }
}

export function branch(gh: Gh, r: GhRepo, name: string, c: GitCommit) {
  const self = `${apiOf(gh, r)}/branches/${encodeURIComponent(name)}`
  return {
    name,
    commit: commit(gh, r, c),
    _links: { self, html: `${htmlOf(gh, r)}/tree/${name}` },
    protected: false,
    protection: {
      enabled: false,
      required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] },
    },
    protection_url: `${self}/protection`,
  }
}

export function gitRef(gh: Gh, r: GhRepo, ref: string, type: 'commit' | 'tag', sha: string) {
  const api = apiOf(gh, r)
  return {
    ref,
    node_id: nodeId('Ref', parseInt(sha.slice(0, 8), 16)),
    url: `${api}/git/${ref}`,
    object: { type, sha, url: `${api}/git/${type === 'tag' ? 'tags' : 'commits'}/${sha}` },
  }
}

export interface PullHeads {
  head: string
  base: string
  /** For the full shape: commits, additions, deletions and changed files head vs base. */
  stats?: { commits: number; additions: number; deletions: number; changedFiles: number }
}

/** A pull request as `pull-request-simple`, or with `stats` as `pull-request`. */
export function pull(gh: Gh, r: GhRepo, p: GhPull, heads: PullHeads, defaultBranch: string) {
  const api = apiOf(gh, r)
  const html = `${htmlOf(gh, r)}/pull/${p.number}`
  const issue = `${api}/issues/${p.number}`
  const self = `${api}/pulls/${p.number}`
  const repo = repository(gh, r, defaultBranch)
  const side = (ref: string, sha: string) => ({
    label: `${r.owner}:${ref}`,
    ref,
    sha,
    user: simpleUser(gh, r.owner),
    repo,
  })
  const out: Record<string, unknown> = {
    url: self,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue,
    commits_url: `${self}/commits`,
    review_comments_url: `${self}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: `${api}/statuses/${heads.head}`,
    number: p.number,
    state: p.state,
    locked: false,
    title: p.title,
    user: simpleUser(gh, p.user),
    body: p.body || null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    closed_at: p.closedAt,
    merged_at: p.mergedAt,
    merge_commit_sha: p.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: side(p.head, heads.head),
    base: side(p.base, heads.base),
    _links: {
      self: { href: self },
      html: { href: html },
      issue: { href: issue },
      comments: { href: `${issue}/comments` },
      review_comments: { href: `${self}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${self}/commits` },
      statuses: { href: `${api}/statuses/${heads.head}` },
    },
    author_association: r.owner === p.user ? 'OWNER' : 'MEMBER',
    auto_merge: null,
    draft: false,
  }
  const s = heads.stats
  if (s)
    Object.assign(out, {
      merged: p.merged,
      mergeable: p.state === 'open' ? true : null,
      rebaseable: p.state === 'open' ? true : null,
      mergeable_state: p.state === 'open' ? 'clean' : 'unknown',
      merged_by: p.mergedBy ? simpleUser(gh, p.mergedBy) : null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: s.commits,
      additions: s.additions,
      deletions: s.deletions,
      changed_files: s.changedFiles,
    })
  return out
}
