/**
 * @module providers/gitlab/repositories
 * One project, its branches (each name one encoded segment: `release%2F1.0`), the poller's branch
 * heads and commits by full or abbreviated id (or a branch name, which GitLab's `commits/:sha`
 * resolves too: a merge request event names its target branch, not a commit).
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
import type { GitLabClient } from './client.js'
import {
  toBranch,
  toCommit,
  toRepository,
  type GlBranch,
  type GlCommit,
  type GlProject,
} from './convert.js'
import { inReach } from './namespaces.js'
import { revision } from './urls.js'

export async function getRepository(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
): Promise<RepositoryInfo> {
  await inReach(gl, c, fullName)
  return toRepository(await gl.json<GlProject>(c, gl.project(fullName)), gl.webUrl)
}

export async function listBranches(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  next?: string,
): Promise<Page<BranchInfo>> {
  await inReach(gl, c, fullName)
  const url = next ?? `${gl.project(fullName, 'repository', 'branches')}?per_page=100`
  return gl.page(c, url, toBranch)
}

export async function getBranch(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  branch: string,
): Promise<BranchInfo> {
  await inReach(gl, c, fullName)
  if (branch === '') throw new ProviderNotFound('A branch name is empty')
  const b = await gl.json<GlBranch>(c, gl.project(fullName, 'repository', 'branches', branch))
  if (b.name !== branch)
    throw new ProviderNotFound(`GitLab has no branch '${branch.slice(0, 200)}' in ${fullName}`)
  return toBranch(b)
}

/** Reads GitLab's `RateLimit-Limit` (per minute) and `RateLimit-Remaining` into `out`. */
function readRateLimit(res: Response, out: BranchHeads): void {
  const limit = Number(res.headers.get('ratelimit-limit'))
  const remaining = res.headers.get('ratelimit-remaining')
  if (!Number.isInteger(limit) || limit <= 0) return
  out.limitPerHour = limit * 60
  if (remaining !== null && Number.isFinite(Number(remaining)))
    out.nearLimit = Number(remaining) < limit / 10
}

/**
 * The heads of the watched branches in as few requests as GitLab allows: one `GET …/branches/:b`
 * each for one or two branches, else the branch listing (100 a page) until all are seen. A 429
 * is not retried in line (ProviderRateLimited with GitLab's `Retry-After`).
 */
export async function branchHeads(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  branches: string[],
): Promise<BranchHeads> {
  await inReach(gl, c, fullName)
  const out: BranchHeads = { heads: new Map() }
  const wanted = new Set(branches)
  const found = (b: GlBranch) => {
    if (wanted.has(b.name))
      out.heads.set(b.name, { id: b.commit.id, message: b.commit.message ?? b.commit.title ?? '' })
  }
  if (wanted.size <= 2) {
    for (const branch of wanted) {
      if (branch === '') continue
      const url = gl.project(fullName, 'repository', 'branches', branch)
      const res = await gl.call(c, url, { accept: [404], retry429: false })
      readRateLimit(res, out)
      if (res.status === 404) {
        await res.body?.cancel()
        continue
      }
      found((await res.json()) as GlBranch)
    }
    return out
  }
  let next: string | undefined = `${gl.project(fullName, 'repository', 'branches')}?per_page=100`
  while (next && out.heads.size < wanted.size) {
    const url: string = next
    const res = await gl.call(c, url, { retry429: false })
    readRateLimit(res, out)
    const page = await gl.pageOf(res, url, (b: GlBranch) => b)
    page.items.forEach(found)
    next = page.next
  }
  return out
}

/** A commit by full or abbreviated id (or a branch name); unknown ones are ProviderNotFound. */
export async function getCommit(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
): Promise<CommitInfo> {
  revision(commit)
  await inReach(gl, c, fullName)
  return toCommit(await gl.json<GlCommit>(c, gl.project(fullName, 'repository', 'commits', commit)))
}
