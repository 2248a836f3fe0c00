/**
 * @module providers/github/changes
 * Changed files and archives, and the Git credentials both fall back on: the compare API
 * (`{base}...{head}`), over Git when GitHub truncates it (300 files or more), for a root commit
 * or for a direct diff of diverged commits; the zipball through its redirect to codeload without
 * the token, or over Git when the zip must have no top folder (a CODE_ZIP artifact).
 */
import { ProviderRequestFailed } from '../errors.js'
import { gitArchive } from '../git-archive.js'
import { gitChangedFiles } from '../git-diff.js'
import type { ArchiveOptions, ChangedFile, ProviderCredentials } from '../provider.js'
import { followArchive } from './archive.js'
import { FULL_ID, READ, type GitHubClient } from './client.js'
import { toChangedFiles, type GhComparison } from './convert.js'
import { getCommit } from './repositories.js'
import { GITHUB_HEADERS } from './tokens.js'
import { commitId, repoUrl, splitFullName } from './urls.js'

/** The compare API lists at most this many files (docs: "up to 300 changed files"). */
export const COMPARE_FILES_CAP = 300

export interface GitCredentials {
  url: string
  username: string
  password: string
  /** Epoch ms when a minted installation token stops working. */
  expiresAt?: number
}

function cloneUrl(gh: GitHubClient, fullName: string): string {
  const [owner, repo] = splitFullName(fullName)
  return `${gh.webUrl}/${owner}/${repo}.git`
}

/** `x-access-token` and an installation token narrowed to the repository (contents: read). */
export async function gitCredentials(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
): Promise<GitCredentials> {
  const password = await gh.token(c, fullName, READ)
  const minted =
    c.kind === 'github-installation'
      ? gh.tokens.cached(c.installationId ?? '', splitFullName(fullName)[1], READ)
      : undefined
  return {
    url: cloneUrl(gh, fullName),
    username: 'x-access-token',
    password,
    ...(minted ? { expiresAt: minted.expiresAt } : {}),
  }
}

/**
 * Synchronous: for an installation, a fresh cached token (or the credential's own while it has
 * more than 5 minutes left); otherwise use `gitCredentials`, which mints one.
 * @throws ProviderRequestFailed when no token is at hand
 */
export function cloneCredentials(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
): GitCredentials {
  const url = cloneUrl(gh, fullName)
  let password = c.accessToken
  if (c.kind === 'github-installation') {
    const hit = gh.tokens.cached(c.installationId ?? '', splitFullName(fullName)[1], READ)
    const own = c.accessToken && (c.expiresAt ?? 0) - 5 * 60_000 > Date.now()
    if (hit) password = hit.token
    else if (!own)
      throw new ProviderRequestFailed('No installation token at hand: use gitCredentials')
  }
  return { url, username: 'x-access-token', password }
}

/**
 * The compare API (`{base}...{commit}`: from the merge base, GitHub's only form); without
 * `fromMergeBase` it is used only when the merge base is `base` itself (then both diffs are the
 * same). A commit alone is compared with its first parent. Over Git instead when GitHub cannot
 * list it all (300 files or more), when the commit has no parent, or for a direct diff of
 * diverged commits.
 */
export async function changedFiles(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
  base?: string,
  fromMergeBase = false,
): Promise<ChangedFile[]> {
  commitId(commit)
  if (base !== undefined) commitId(base)
  let head = commit
  let from = base
  if (from === undefined || !FULL_ID.test(head)) {
    const info = await getCommit(gh, c, fullName, commit)
    head = info.id
    if (from === undefined) {
      from = info.parents[0]
      if (!from) return overGit(gh, c, fullName, head)
    }
  }
  const url = repoUrl(gh.apiUrl, fullName, 'compare', `${from}...${head}`)
  const cmp = await gh.json<GhComparison>(c, fullName, READ, `${url}?per_page=1`)
  const files = cmp.files ?? []
  const direct =
    base === undefined || fromMergeBase || cmp.merge_base_commit.sha.startsWith(from.toLowerCase())
  if (files.length < COMPARE_FILES_CAP && direct) return toChangedFiles(files)
  const baseId = FULL_ID.test(from) ? from : (await getCommit(gh, c, fullName, from)).id
  return overGit(gh, c, fullName, head, base === undefined ? undefined : baseId, fromMergeBase)
}

async function overGit(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
  base?: string,
  fromMergeBase?: boolean,
): Promise<ChangedFile[]> {
  const o: { commit: string; base?: string; fromMergeBase?: boolean } = { commit }
  if (base !== undefined) o.base = base
  if (fromMergeBase) o.fromMergeBase = true
  return gitChangedFiles(await gitCredentials(gh, c, fullName), o)
}

/**
 * With a top folder (default): GitHub's zipball (`{owner}-{repo}-{sha7}/`), through its redirect
 * to codeload without the token. Without one (a CODE_ZIP artifact): over Git with
 * `x-access-token`, as only that gives the tree at the zip's root.
 */
export async function downloadArchive(
  gh: GitHubClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
  opts: ArchiveOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  commitId(commit)
  const { topFolder = true, ...rest } = opts
  if (!topFolder) {
    const id = FULL_ID.test(commit) ? commit : (await getCommit(gh, c, fullName, commit)).id
    return gitArchive(await gitCredentials(gh, c, fullName), { commit: id, prefix: '', ...rest })
  }
  const url = repoUrl(gh.apiUrl, fullName, 'zipball', commit)
  const token = await gh.token(c, fullName, READ)
  const o: { maxBytes?: number } = {}
  if (rest.maxBytes !== undefined) o.maxBytes = rest.maxBytes
  return followArchive(gh.http, url, { ...GITHUB_HEADERS, Authorization: `Bearer ${token}` }, o)
}
