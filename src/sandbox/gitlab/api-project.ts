/**
 * @module sandbox/gitlab/api-project
 * One project's endpoints under `/api/v4/projects/:id` (`:id` numeric or the URL-encoded full
 * path): the project, repository branches (a name with `/` URL-encoded), a commit and its diff,
 * compare (with `compare_timeout` and the diff-count cap, both switchable through settings),
 * archives (streamed `git archive` under GitLab's top folder `<path>-<ref>-<sha>/`), merge requests
 * and project hooks (hooks.ts). Reading code takes the Reporter role on a private project,
 * hooks take Maintainer.
 */
import { archive, git, resolveRef } from '../core/git.js'
import type { SandboxRequest } from '../core/server.js'
import { defaultBranchOf, type Send } from './api.js'
import { levelOn, projectFor, READ, requireScope, type Caller } from './auth.js'
import { badRequest, flag, glError, notFound, pageOf, type Gl } from './context.js'
import { branches, commitOf, diffOf, logOf, mergeBase } from './gitdata.js'
import { hooksApi } from './hooks.js'
import { mrHeads } from './events.js'
import { project } from './render.js'
import { branch, commit, commitDetail, diff, mergeRequest } from './render-git.js'
import type { GlProject } from './state.js'

export async function projectApi(
  gl: Gl,
  r: SandboxRequest,
  caller: Caller | undefined,
  ref: string,
  rest: string[],
  send: Send,
): Promise<void> {
  const [what, sub, arg, more] = rest
  if (what === 'hooks') return hooksApi(gl, r, caller, ref, rest.slice(1), send)
  if (r.method !== 'GET') throw notFound()
  if (caller) requireScope(caller, READ)
  if (!what) {
    const p = projectFor(gl, caller, ref)
    return send(200, project(gl, p, await defaultBranchOf(gl, p), caller))
  }
  if (what === 'merge_requests') {
    const p = projectFor(gl, caller, ref, 20)
    return mergeRequests(gl, r.url, p, caller, sub, rest.length > 2, send)
  }
  if (what !== 'repository' || !sub) throw notFound()
  const p = projectFor(gl, caller, ref, 20)
  const dir = gl.state.projectDir(p)
  const u = r.url
  if (sub === 'branches' && rest.length <= 3) {
    const main = await defaultBranchOf(gl, p)
    const merged = new Set(
      main
        ? (
            await git(dir, [
              'for-each-ref',
              `--merged=refs/heads/${main}`,
              '--format=%(refname:strip=2)',
              'refs/heads',
            ])
          ).split('\n')
        : [],
    )
    const level = levelOn(gl, caller, p)
    const show = async (name: string, sha: string) =>
      branch(gl, p, name, (await commitOf(dir, sha))!, {
        isDefault: name === main,
        merged: name !== main && merged.has(name),
        canPush: level >= (name === main ? 40 : 30),
      })
    const all = await branches(dir)
    if (arg !== undefined) {
      const b = all.find((x) => x.name === arg)
      if (!b) throw notFound('Branch')
      return send(200, await show(b.name, b.sha))
    }
    const q = u.searchParams.get('search') ?? ''
    const match = (n: string) => {
      if (q.startsWith('^')) return n.startsWith(q.slice(1))
      if (q.endsWith('$')) return n.endsWith(q.slice(0, -1))
      return n.includes(q)
    }
    const page = pageOf(
      gl,
      u,
      all.filter((b) => match(b.name)),
    )
    const rows = []
    for (const b of page.items) rows.push(await show(b.name, b.sha))
    return send(200, rows, page.headers)
  }
  if (sub === 'commits' && arg !== undefined && (more === undefined || more === 'diff')) {
    if (rest.length > 4) throw notFound()
    const c = await commitOf(dir, arg)
    if (!c) throw notFound('Commit')
    const files = capped(gl, await diffOf(dir, c.id))
    if (more === 'diff') {
      const page = pageOf(gl, u, files)
      return send(200, page.items.map(diff), page.headers)
    }
    return send(200, commitDetail(gl, p, c, files))
  }
  if (sub === 'compare' && rest.length === 2) return compare(gl, u, p, dir, send)
  if (/^archive(\.zip|\.tar\.gz)?$/.test(sub) && rest.length === 2)
    return sendArchive(gl, r, p, dir, sub === 'archive.zip' ? 'zip' : 'tar.gz')
  throw notFound()
}

/** The diff-count cap (settings.diffMaxFiles), as GitLab's diff limits cut large diffs. */
function capped<T>(gl: Gl, files: T[]): T[] {
  const max = gl.state.data.settings.diffMaxFiles
  return max ? files.slice(0, max) : files
}

async function compare(gl: Gl, u: URL, p: GlProject, dir: string, send: Send) {
  const from = u.searchParams.get('from')
  const to = u.searchParams.get('to')
  const missing = [!from && 'from is missing', !to && 'to is missing'].filter(Boolean)
  if (missing.length > 0) throw badRequest(missing.join(', '))
  const a = await commitOf(dir, from!)
  const b = await commitOf(dir, to!)
  if (!a || !b) throw notFound('Ref')
  const straight = flag(u, 'straight') ?? false
  const base = straight ? a.id : ((await mergeBase(dir, a.id, b.id)) ?? a.id)
  const same = a.id === b.id
  const commits = same ? [] : (await logOf(dir, [`${base}..${b.id}`], 10_000)).reverse()
  const timeout = gl.state.data.settings.compareTimeout === true
  const diffs = same || timeout ? [] : capped(gl, await diffOf(dir, b.id, base))
  return send(200, {
    commit: same && !straight ? null : commit(gl, p, b),
    commits: commits.map((c) => commit(gl, p, c)),
    diffs: diffs.map(diff),
    compare_timeout: timeout,
    compare_same_ref: same,
    web_url: `${gl.url}/${gl.state.fullPath(p)}/-/compare/${a.id}...${b.id}`,
  })
}

async function sendArchive(
  gl: Gl,
  r: SandboxRequest,
  p: GlProject,
  dir: string,
  format: 'zip' | 'tar.gz',
) {
  const ref = r.url.searchParams.get('sha') ?? (await defaultBranchOf(gl, p)) ?? ''
  const sha = ref && !ref.startsWith('-') ? await resolveRef(dir, ref) : undefined
  if (!sha) throw notFound('File')
  // GitLab's API archives append the commit: `<project path>-<ref, / as ->-<sha>`.
  const prefix = `${p.path}-${ref.replace(/\//g, '-')}-${sha}`
  const child = archive(dir, sha, format, prefix)
  r.res.writeHead(200, {
    'Content-Type': format === 'zip' ? 'application/zip' : 'application/gzip',
    'Content-Disposition': `attachment; filename="${prefix}.${format}"`,
    'Content-Transfer-Encoding': 'binary',
  })
  child.stdout.pipe(r.res)
  child.on('error', () => r.res.destroy())
}

async function mergeRequests(
  gl: Gl,
  u: URL,
  p: GlProject,
  caller: Caller | undefined,
  iid: string | undefined,
  deeper: boolean,
  send: Send,
) {
  if (deeper) throw notFound()
  const all = gl.state.data.mergeRequests.filter((m) => m.projectId === p.id)
  if (iid !== undefined) {
    const mr = all.find((m) => String(m.iid) === iid)
    if (!mr) throw notFound('Merge Request')
    return send(200, mergeRequest(gl, p, mr, await mrHeads(gl, p, mr), caller, true))
  }
  const st = u.searchParams.get('state') ?? 'all'
  if (!['opened', 'closed', 'merged', 'locked', 'all'].includes(st))
    throw glError(400, { error: 'state does not have a valid value' })
  // Newest first by default; order_by created_at|updated_at, sort asc|desc.
  const key = u.searchParams.get('order_by') ?? 'created_at'
  const sort = u.searchParams.get('sort') ?? 'desc'
  if (!['created_at', 'updated_at'].includes(key) || !['asc', 'desc'].includes(sort))
    throw glError(400, { error: 'order_by or sort does not have a valid value' })
  const at = (m: (typeof all)[number]) => (key === 'updated_at' ? m.updatedAt : m.createdAt)
  const chosen = all
    .filter((m) => st === 'all' || m.state === st)
    .sort((x, y) => at(x).localeCompare(at(y)) || x.id - y.id)
  if (sort === 'desc') chosen.reverse()
  const page = pageOf(gl, u, chosen)
  const rows = []
  for (const mr of page.items)
    rows.push(mergeRequest(gl, p, mr, await mrHeads(gl, p, mr), caller, false))
  return send(200, rows, page.headers)
}
