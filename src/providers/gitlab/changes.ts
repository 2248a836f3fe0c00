/**
 * @module providers/gitlab/changes
 * Changed files and archives, and the Git credentials both fall back on. Changed files come from
 * the compare API (`straight=true`: `base..commit`; `straight=false`: from the merge base,
 * `base...commit`; a commit alone against its first parent), over Git instead when GitLab cannot
 * list them all: the comparison timed out (`compare_timeout`), or it may have reached GitLab's
 * diff limits, which cut the list silently (docs.gitlab.com/administration/diff_limits: at most
 * 1000 files and 50,000 changed lines by default, lower on instances that set them so): from a
 * tenth of those defaults (100 files or 5,000 lines, where GitLab itself starts collapsing) Git
 * answers instead; or the commit has no parent. Archives are `GET …/repository/archive.zip?sha=` streamed (one top folder), or over
 * Git when the zip must have none (a CODE_ZIP artifact).
 */
import { ProviderNotFound, ProviderRequestFailed } from '../errors.js'
import { gitArchive, GitArchiveTooLarge } from '../git-archive.js'
import { gitChangedFiles } from '../git-diff.js'
import type { ArchiveOptions, ChangedFile, ProviderCredentials } from '../provider.js'
import type { GitLabClient } from './client.js'
import { toChangedFile, type GlCompare } from './convert.js'
import { inReach } from './namespaces.js'
import { getCommit } from './repositories.js'
import { commitId, FULL_ID, NUMERIC_ID, projectId } from './urls.js'

export { COMPARE_FILES_CAP } from './client.js'
/** A compare answer with this many changed lines may have been cut by GitLab's diff limits with this many changed lines (the diffs' lines, counted). */
export const COMPARE_LINES_CAP = 5000

/** `oauth2` and the token: GitLab takes any user name with an access token, `oauth2` for OAuth. */
export function cloneCredentials(gl: GitLabClient, c: ProviderCredentials, fullName: string) {
  projectId(fullName)
  if (NUMERIC_ID.test(fullName))
    throw new ProviderNotFound('A clone URL needs the project path, not its numeric id')
  return { url: `${gl.webUrl}/${fullName}.git`, username: 'oauth2', password: c.accessToken }
}

async function fullId(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
): Promise<string> {
  return FULL_ID.test(commit) ? commit : (await getCommit(gl, c, fullName, commit)).id
}

/** The project path a clone URL needs (a numeric id is read once). */
async function pathOf(gl: GitLabClient, c: ProviderCredentials, fullName: string) {
  if (!NUMERIC_ID.test(fullName)) return fullName
  const p = await gl.json<{ path_with_namespace: string }>(c, gl.project(fullName))
  return p.path_with_namespace
}

async function overGit(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  o: { commit: string; base?: string; fromMergeBase?: boolean },
): Promise<ChangedFile[]> {
  const src = cloneCredentials(gl, c, await pathOf(gl, c, fullName))
  const opts: { commit: string; base?: string; fromMergeBase?: boolean } = {
    commit: await fullId(gl, c, fullName, o.commit),
  }
  if (o.base !== undefined) opts.base = await fullId(gl, c, fullName, o.base)
  if (o.fromMergeBase) opts.fromMergeBase = true
  return gitChangedFiles(src, opts)
}

export async function changedFiles(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
  base?: string,
  fromMergeBase = false,
): Promise<ChangedFile[]> {
  commitId(commit)
  if (base !== undefined) commitId(base)
  await inReach(gl, c, fullName)
  let from = base
  let to = commit
  if (from === undefined) {
    const info = await getCommit(gl, c, fullName, commit)
    to = info.id
    from = info.parents[0]
    if (!from) return overGit(gl, c, fullName, { commit: to })
  }
  const q = new URLSearchParams({
    from,
    to,
    straight: base !== undefined && fromMergeBase ? 'false' : 'true',
  })
  const cmp = await gl.json<GlCompare>(
    c,
    `${gl.project(fullName, 'repository', 'compare')}?${q.toString()}`,
  )
  const diffs = cmp.diffs ?? []
  let lines = 0
  for (const d of diffs) if (typeof d.diff === 'string') lines += d.diff.split('\n').length - 1
  if (
    cmp.compare_timeout !== true &&
    diffs.length < gl.compareFilesCap &&
    lines < COMPARE_LINES_CAP
  )
    return diffs.map(toChangedFile)
  // `from` is the given base or the first parent: `git diff from to` either way.
  const o: { commit: string; base?: string; fromMergeBase?: boolean } = { commit: to, base: from }
  if (base !== undefined && fromMergeBase) o.fromMergeBase = true
  return overGit(gl, c, fullName, o)
}

function bounded(res: Response, maxBytes: number | undefined): ReadableStream<Uint8Array> {
  const body = res.body
  if (!body) throw new ProviderRequestFailed('GitLab answered the archive without a body')
  if (maxBytes === undefined) return body
  const length = Number(res.headers.get('content-length'))
  if (res.headers.has('content-length') && Number.isFinite(length) && length > maxBytes) {
    void body.cancel()
    throw new GitArchiveTooLarge(maxBytes)
  }
  let seen = 0
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        seen += chunk.byteLength
        if (seen > maxBytes) ctrl.error(new GitArchiveTooLarge(maxBytes))
        else ctrl.enqueue(chunk)
      },
    }),
  )
}

/**
 * With a top folder (default): GitLab's own zip (`{project}-{sha}-{sha}/`… as GitLab names it),
 * streamed and cut past `maxBytes`. Without one: over Git with `oauth2` and the token.
 */
export async function downloadArchive(
  gl: GitLabClient,
  c: ProviderCredentials,
  fullName: string,
  commit: string,
  opts: ArchiveOptions = {},
): Promise<ReadableStream<Uint8Array>> {
  commitId(commit)
  await inReach(gl, c, fullName)
  const { topFolder = true, ...rest } = opts
  if (!topFolder) {
    const id = await fullId(gl, c, fullName, commit)
    const src = cloneCredentials(gl, c, await pathOf(gl, c, fullName))
    return gitArchive(src, { commit: id, prefix: '', ...rest })
  }
  const url = `${gl.project(fullName, 'repository', 'archive.zip')}?sha=${encodeURIComponent(commit)}`
  return bounded(await gl.call(c, url, { headers: { Accept: '*/*' } }), rest.maxBytes)
}
