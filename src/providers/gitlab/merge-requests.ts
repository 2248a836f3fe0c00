/**
 * @module providers/gitlab/merge-requests
 * Merge requests as pull requests: the open ones, newest first, and one by its `iid` (the number
 * GitLab shows as `!12`, unique within the project).
 */
import { ProviderNotFound } from '../errors.js'
import type { Page, ProviderCredentials, PullRequestInfo } from '../provider.js'
import type { GitLabClient } from './client.js'
import { toPullRequest, type GlMergeRequest } from './convert.js'
import { inReach } from './namespaces.js'

export async function listPullRequests(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  next?: string,
): Promise<Page<PullRequestInfo>> {
  await inReach(gl, c, fullName)
  const url =
    next ??
    `${gl.project(fullName, 'merge_requests')}?state=opened&order_by=created_at&sort=desc&per_page=100`
  return gl.page(c, url, (m: GlMergeRequest) => toPullRequest(m, fullName))
}

export async function getPullRequest(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  num: number,
): Promise<PullRequestInfo> {
  if (!Number.isSafeInteger(num) || num < 1)
    throw new ProviderNotFound(`${String(num).slice(0, 20)} is not a merge request number`)
  await inReach(gl, c, fullName)
  const m = await gl.json<GlMergeRequest>(c, gl.project(fullName, 'merge_requests', String(num)))
  return toPullRequest(m, fullName)
}
