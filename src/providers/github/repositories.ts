/**
 * @module providers/github/repositories
 * Repositories, branches and commits: an installation's repositories (`/installation/repositories`,
 * a user token's `/user/installations/{id}/repositories`, a personal access token's
 * `/user/repos`), one repository, branches (one encoded segment each: `release%2F1.0`), the
 * poller's branch heads, and commits by full or abbreviated id.
 */
import { ProviderNotFound } from '../errors.js'
import type {
  BranchHeads,
  BranchInfo,
  CommitInfo,
  Page,
  ProviderCredentials,
  RepositoryInfo,
} from '../provider.js'
import { METADATA, READ, type GitHubClient } from './client.js'
import {
  toBranch,
  toCommit,
  toRepository,
  toShortBranch,
  type GhBranch,
  type GhCommit,
  type GhRepository,
  type GhShortBranch,
} from './convert.js'
import { commitId, repoUrl } from './urls.js'

/** The credential's repositories of `owner` (an installation's, or a token's own). */
export async function listRepositories(
  gh: GitHubClient,
  c: ProviderCredentials,
  owner: string,
  next?: string,
): Promise<Page<RepositoryInfo>> {
  let url = next
  if (!url) {
    if (c.kind === 'github-installation')
      url = `${gh.apiUrl}/installation/repositories?per_page=100`
    else if (c.installationId && /^\d+$/.test(c.installationId))
      url = `${gh.apiUrl}/user/installations/${c.installationId}/repositories?per_page=100`
    // A personal access token: the repositories it reaches (a fine-grained one's selection).
    else url = `${gh.apiUrl}/user/repos?per_page=100`
  }
  // `/user/repos` answers an array; the installation listings wrap it in `repositories`.
  const flat = new URL(url).pathname.endsWith('/user/repos')
  const items = (b: unknown) =>
    flat ? (b as GhRepository[]) : ((b as { repositories?: GhRepository[] }).repositories ?? [])
  const page = await gh.page(c, undefined, METADATA, url, items, (r: GhRepository) =>
    toRepository(r, gh.webUrl),
  )
  page.items = page.items.filter((r) => r.owner.toLowerCase() === owner.toLowerCase())
  return page
}

export async function getRepository(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
): Promise<RepositoryInfo> {
  const url = repoUrl(gh.apiUrl, fullName)
  const res = await gh.call(c, fullName, METADATA, url, { accept: [301] })
  if (res.status === 301) {
    await res.body?.cancel()
    throw new ProviderNotFound(`GitHub repository ${fullName} was renamed or moved`, 301)
  }
  return toRepository((await res.json()) as GhRepository, gh.webUrl)
}

export function listBranches(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  next?: string,
): Promise<Page<BranchInfo>> {
  const url = next ?? `${repoUrl(gh.apiUrl, fullName, 'branches')}?per_page=100`
  return gh.page(c, fullName, READ, url, (b) => b as GhShortBranch[], toShortBranch)
}

/** One branch, its name sent as one encoded segment (`release%2F1.0`); a 301 (renamed) is 404. */
export async function getBranch(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  branch: string,
): Promise<BranchInfo> {
  const url = repoUrl(gh.apiUrl, fullName, 'branches', branch)
  const res = await gh.call(c, fullName, READ, url, { accept: [301] })
  if (res.status === 301) {
    await res.body?.cancel()
    throw new ProviderNotFound(`GitHub branch '${branch.slice(0, 200)}' was renamed`, 404)
  }
  const b = (await res.json()) as GhBranch
  if (b.name !== branch)
    throw new ProviderNotFound(`GitHub has no branch '${branch.slice(0, 200)}' in ${fullName}`)
  return toBranch(b)
}

/**
 * The heads of the watched branches for the poller: one `GET …/branches/{branch}` each (GitHub's
 * REST API has no filtered branch listing that carries commit messages), a missing branch left
 * absent; a rate limit is not retried in line (ProviderRateLimited with GitHub's wait). Reads
 * `x-ratelimit-limit`/`-remaining`: near the limit below a tenth of it.
 */
export async function branchHeads(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  branches: string[],
): Promise<BranchHeads> {
  const out: BranchHeads = { heads: new Map() }
  for (const branch of branches) {
    const url = repoUrl(gh.apiUrl, fullName, 'branches', branch)
    const res = await gh.call(c, fullName, READ, url, { accept: [301, 404], retry429: false })
    const limit = Number(res.headers.get('x-ratelimit-limit'))
    const remaining = Number(res.headers.get('x-ratelimit-remaining'))
    if (Number.isInteger(limit) && limit > 0) {
      out.limitPerHour = limit
      if (res.headers.get('x-ratelimit-remaining') !== null && Number.isFinite(remaining))
        out.nearLimit = remaining < limit / 10
    }
    if (!res.ok) {
      await res.body?.cancel()
      continue
    }
    const b = (await res.json()) as GhBranch
    if (b.name === branch)
      out.heads.set(branch, { id: b.commit.sha, message: b.commit.commit.message })
  }
  return out
}

/** A commit by full or abbreviated id; GitHub's 422 for an unknown id is ProviderNotFound. */
export async function getCommit(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
): Promise<CommitInfo> {
  const url = repoUrl(gh.apiUrl, fullName, 'commits', commitId(commit))
  const res = await gh.call(c, fullName, READ, url, { accept: [422] })
  if (res.status === 422) {
    await res.body?.cancel()
    throw new ProviderNotFound(`GitHub has no commit ${commit} in ${fullName}`, 422)
  }
  return toCommit((await res.json()) as GhCommit)
}
