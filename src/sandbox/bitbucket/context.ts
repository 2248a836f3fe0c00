/**
 * @module sandbox/bitbucket/context
 * What every part of the Bitbucket sandbox shares (state, URLs, limiter, failures, deliveries),
 * and the repository helpers its REST API, Git and admin API all use: a repository's main branch
 * and JSON, paging, creating repositories, and the webhooks a push or pull request change sends.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Deliveries } from '../core/deliveries.js'
import type { Failures } from '../core/failures.js'
import { commitFiles, git, initBare, refs, resolveRef } from '../core/git.js'
import { HttpError } from '../core/http.js'
import { pullRequestPayload, pushPayload } from './payloads.js'
import type { RateLimiter } from './rate-limit.js'
import * as render from './render.js'
import type { SandboxState, SbPullRequest, SbRepository } from './state.js'
import { hookTargets } from './webhooks.js'

export interface Bb {
  state: SandboxState
  /** Filled in once the server listens. */
  urls: render.Urls
  limiter: RateLimiter
  failures: Failures
  deliveries: Deliveries
}

export const SLUG = /^[a-z0-9][a-z0-9_.-]{0,61}$/
export const PROJECT_KEY = /^[A-Za-z0-9_]{1,64}$/
export const now = () => new Date().toISOString()

export const apiError = (status: number, message: string, headers: Record<string, string> = {}) =>
  new HttpError(status, message, headers)

export async function mainBranch(bb: Bb, r: SbRepository): Promise<string | null> {
  const dir = bb.state.repoDir(r.workspace, r.slug)
  try {
    const head = (await git(dir, ['symbolic-ref', '--short', 'HEAD'])).trim()
    return (await resolveRef(dir, `refs/heads/${head}`)) ? head : null
  } catch {
    return null
  }
}

export async function repoJson(bb: Bb, r: SbRepository) {
  const w = bb.state.workspace(r.workspace)!
  return render.repository(r, w, await mainBranch(bb, r), bb.urls, r.project)
}

/** `page` and `pagelen` of a listing (400 when out of range; capped by the maxPagelen knob). */
export function pageParams(bb: Bb, u: URL, max = 100) {
  const pagelen = Number(u.searchParams.get('pagelen') ?? '10')
  const page = Number(u.searchParams.get('page') ?? '1')
  if (!Number.isInteger(pagelen) || pagelen < 1 || pagelen > max)
    throw apiError(400, `Invalid pagelen: must be between 1 and ${max}`)
  if (!Number.isInteger(page) || page < 1) throw apiError(400, 'Invalid page')
  const cap = bb.state.data.settings.maxPagelen
  return { page, pagelen: cap ? Math.min(cap, pagelen) : pagelen }
}

export async function createRepository(
  bb: Bb,
  input: Record<string, unknown>,
): Promise<SbRepository> {
  const { state } = bb
  const workspace = String(input['workspace'] ?? '')
  const slug = String(input['slug'] ?? '')
  if (!state.workspace(workspace)) throw new HttpError(404, `No workspace '${workspace}'`)
  if (!SLUG.test(slug)) throw new HttpError(400, 'slug must be lower-case letters, digits, _ . -')
  if (state.repository(workspace, slug))
    throw new HttpError(409, `Repository ${workspace}/${slug} exists`)
  const branch = typeof input['mainbranch'] === 'string' ? input['mainbranch'] : 'main'
  const dir = state.repoDir(workspace, slug)
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 })
  await initBare(dir, branch)
  const r: SbRepository = {
    workspace,
    slug,
    uuid: state.newUuid(),
    isPrivate: input['isPrivate'] !== false,
    description: typeof input['description'] === 'string' ? input['description'] : '',
    createdOn: now(),
  }
  const project = input['project']
  if (project !== undefined) {
    if (typeof project !== 'string' || !PROJECT_KEY.test(project))
      throw new HttpError(400, 'project must be a project key (letters, digits, _)')
    const p = state.projectsOf(workspace).find((x) => x.key === project)
    if (!p) throw new HttpError(404, `No project '${project}' in ${workspace}`)
    r.project = { key: p.key, uuid: p.uuid, name: p.name }
  }
  state.data.repositories.push(r)
  state.save()
  const files = input['files']
  if (files && typeof files === 'object')
    await commitFiles(dir, branch, files as Record<string, string>, 'Initial commit', {
      name: 'Sandbox',
      email: 'sandbox@bitbucket.invalid',
    })
  return r
}

/** Sends `payload` as `event` to the repository's subscribed hooks (in the background). */
export function deliver(bb: Bb, repo: SbRepository, event: string, payload: unknown): void {
  bb.deliveries.deliver(hookTargets(bb.state, repo, event), event, payload)
}

/**
 * Sends `repo:push` for the refs that moved between the two snapshots, then
 * `pullrequest:updated` for each open pull request whose source branch moved (Bitbucket Cloud
 * sends both for a push to a pull request's branch).
 */
export async function notifyPush(
  bb: Bb,
  r: SbRepository,
  actor: string | undefined,
  before: Map<string, string>,
): Promise<void> {
  const { state } = bb
  const after = await refs(state.repoDir(r.workspace, r.slug))
  const payload = await pushPayload(state, r, actor, before, after, bb.urls)
  if (payload.push.changes.length === 0) return
  deliver(bb, r, 'repo:push', payload)
  const moved = state.data.pullRequests.filter((p) => {
    if (p.workspace !== r.workspace || p.slug !== r.slug || p.state !== 'OPEN') return false
    const ref = `refs/heads/${p.sourceBranch}`
    return after.has(ref) && after.get(ref) !== before.get(ref)
  })
  for (const p of moved) {
    p.updatedOn = now()
    const out = await prPayload(bb, r, p, actor)
    deliver(bb, r, 'pullrequest:updated', out.hook)
  }
  if (moved.length > 0) state.save()
}

/** A pull request as the REST API answers it (`json`) and as its webhooks carry it (`hook`). */
export async function prPayload(
  bb: Bb,
  r: SbRepository,
  p: SbPullRequest,
  actor: string | undefined,
) {
  const { state, urls } = bb
  const dir = state.repoDir(r.workspace, r.slug)
  const src = (await resolveRef(dir, `refs/heads/${p.sourceBranch}`)) ?? '0'.repeat(40)
  const dst = (await resolveRef(dir, `refs/heads/${p.destinationBranch}`)) ?? '0'.repeat(40)
  const author = state.user(p.author)
  return {
    json: render.pullRequest(
      p,
      await repoJson(bb, r),
      src,
      dst,
      author
        ? render.account(author, urls)
        : {
            type: 'app_user',
            display_name: 'Workspace access token',
            uuid: '{00000000-0000-0000-0000-000000000000}',
          },
      urls,
    ),
    hook: pullRequestPayload(state, r, p, actor, src, dst, urls),
  }
}
