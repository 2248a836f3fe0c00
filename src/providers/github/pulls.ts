/**
 * @module providers/github/pulls
 * Pull requests: the open ones, newest first, and one by number (read with `pull_requests: read`).
 */
import { ProviderNotFound } from '../errors.js'
import type { Page, ProviderCredentials, PullRequestInfo } from '../provider.js'
import { PULLS, type GitHubClient } from './client.js'
import { toPullRequest, type GhPullRequest } from './convert.js'
import { repoUrl } from './urls.js'

export function listPullRequests(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  next?: string,
): Promise<Page<PullRequestInfo>> {
  const url =
    next ??
    `${repoUrl(gh.apiUrl, fullName, 'pulls')}?state=open&sort=created&direction=desc&per_page=100`
  return gh.page(
    c,
    fullName,
    PULLS,
    url,
    (b) => b as GhPullRequest[],
    (p) => toPullRequest(p, fullName),
  )
}

export async function getPullRequest(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  num: number,
): Promise<PullRequestInfo> {
  if (!Number.isSafeInteger(num) || num < 1)
    throw new ProviderNotFound(`${String(num).slice(0, 20)} is not a pull request number`)
  const url = repoUrl(gh.apiUrl, fullName, 'pulls', String(num))
  return toPullRequest(await gh.json<GhPullRequest>(c, fullName, PULLS, url), fullName)
}
