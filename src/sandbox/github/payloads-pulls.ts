/**
 * @module sandbox/github/payloads-pulls
 * `pull_request` payloads for the actions Junction acts on (see payloads.ts for the contract).
 */
import { context, legacyNodeId, repositoryObject, userObject } from './payloads-objects.js'
import type {
  HookPullRequest,
  HookPullRequestSide,
  HookRepository,
  HookUrls,
  PullRequestInput,
} from './payloads-types.js'

/** A pull request's `head`/`base` repository: the REST one with its merge settings. */
function sideObject(urls: HookUrls, s: HookPullRequestSide) {
  return {
    label: `${s.repository.owner.login}:${s.ref}`,
    ref: s.ref,
    sha: s.sha,
    user: userObject(urls, s.repository.owner),
    repo: {
      ...repositoryObject(urls, s.repository),
      allow_merge_commit: true,
      allow_squash_merge: true,
      allow_rebase_merge: true,
      allow_auto_merge: false,
      delete_branch_on_merge: false,
    },
  }
}

function association(pr: HookPullRequest, repo: HookRepository): string {
  if (pr.user.login === repo.owner.login) return 'OWNER'
  return repo.owner.type === 'Organization' ? 'MEMBER' : 'CONTRIBUTOR'
}

/** The `pull_request` object of a pull_request event. */
export function pullRequestObject(urls: HookUrls, repo: HookRepository, pr: HookPullRequest) {
  const full = `${repo.owner.login}/${repo.name}`
  const api = `${urls.api}/repos/${full}`
  const html = `${urls.web}/${full}/pull/${pr.number}`
  const self = `${api}/pulls/${pr.number}`
  const issue = `${api}/issues/${pr.number}`
  const statuses = `${api}/statuses/${pr.head.sha}`
  const merged = pr.merged ?? false
  return {
    url: self,
    id: pr.id,
    node_id: legacyNodeId('PullRequest', pr.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: userObject(urls, pr.user),
    body: pr.body ?? null,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt ?? null,
    merged_at: merged ? (pr.mergedAt ?? pr.closedAt ?? pr.updatedAt) : null,
    merge_commit_sha: pr.mergeCommitSha ?? null,
    assignee: null,
    assignees: [] as unknown[],
    requested_reviewers: [] as unknown[],
    requested_teams: [] as unknown[],
    labels: [] as unknown[],
    milestone: null,
    draft: pr.draft ?? false,
    commits_url: `${self}/commits`,
    review_comments_url: `${self}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: statuses,
    head: sideObject(urls, pr.head),
    base: sideObject(urls, pr.base),
    _links: {
      self: { href: self },
      html: { href: html },
      issue: { href: issue },
      comments: { href: `${issue}/comments` },
      review_comments: { href: `${self}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${self}/commits` },
      statuses: { href: statuses },
    },
    author_association: association(pr, repo),
    auto_merge: null,
    active_lock_reason: null,
    merged,
    mergeable: null,
    rebaseable: null,
    mergeable_state: 'unknown',
    merged_by: merged && pr.mergedBy ? userObject(urls, pr.mergedBy) : null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: pr.commits ?? 1,
    additions: pr.additions ?? 0,
    deletions: pr.deletions ?? 0,
    changed_files: pr.changedFiles ?? 0,
  }
}

/**
 * `pull_request` with `opened`, `synchronize` (`before`/`after`), `reopened`, `closed` (merged
 * or not, as the pull request says) or `edited` (`changes` with the previous values).
 */
export function pullRequestPayload(p: PullRequestInput) {
  const { urls, repository: repo, pullRequest: pr } = p
  const changes = p.changes ?? {}
  return {
    action: p.action,
    number: pr.number,
    ...(p.action === 'edited'
      ? {
          changes: {
            ...(changes.title !== undefined ? { title: { from: changes.title } } : {}),
            ...(changes.body !== undefined ? { body: { from: changes.body ?? '' } } : {}),
            ...(changes.baseRef !== undefined
              ? {
                  base: {
                    ref: { from: changes.baseRef },
                    sha: { from: changes.baseSha ?? pr.base.sha },
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(p.action === 'synchronize'
      ? { before: p.before ?? pr.head.sha, after: p.after ?? pr.head.sha }
      : {}),
    pull_request: pullRequestObject(urls, repo, pr),
    repository: repositoryObject(urls, repo),
    ...context(urls, repo, p.installation),
    sender: userObject(urls, p.sender),
  }
}
