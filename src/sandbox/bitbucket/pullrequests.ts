/**
 * @module sandbox/bitbucket/pullrequests
 * A repository's pull requests (`/2.0/repositories/{ws}/{slug}/pullrequests[/{id}[/merge|decline]]`):
 * listed (open ones), created, read, edited, declined and merged (a real merge commit), each
 * change sending its `pullrequest:*` webhook, and a merge its `repo:push` too.
 */
import { git, mergeCommit, refs, resolveRef } from '../core/git.js'
import { HttpError, readJson, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import type { Caller } from './auth.js'
import {
  apiError,
  deliver,
  mainBranch,
  notifyPush,
  now,
  pageParams,
  prPayload,
  type Bb,
} from './context.js'
import * as render from './render.js'
import type { SbPullRequest, SbRepository } from './state.js'

type Branch = { branch?: { name?: string } } | undefined

export async function pullRequests(
  bb: Bb,
  { req, res, url: u, method }: SandboxRequest,
  repo: SbRepository,
  cl: Caller | undefined,
  id?: string,
  action?: string,
): Promise<void> {
  const { state } = bb
  const dir = state.repoDir(repo.workspace, repo.slug)
  const mine = state.data.pullRequests.filter(
    (p) => p.workspace === repo.workspace && p.slug === repo.slug,
  )
  /** Saves a change, sends its webhook and answers the pull request. */
  const changed = async (p: SbPullRequest, event: string, actor: string) => {
    state.save()
    const out = await prPayload(bb, repo, p, actor)
    deliver(bb, repo, event, out.hook)
    return out.json
  }
  if (!id) {
    if (method === 'GET') {
      const { page, pagelen } = pageParams(bb, u, 50)
      const values = []
      for (const p of mine.filter((x) => x.state === 'OPEN'))
        values.push((await prPayload(bb, repo, p, undefined)).json)
      return sendJson(res, 200, render.paginated(values, page, pagelen, u))
    }
    if (method !== 'POST') throw new HttpError(405, 'Method not allowed', { Allow: 'GET, POST' })
    if (!cl?.username) throw apiError(401, 'A user is needed to create a pull request')
    const body = await readJson(req)
    const title = body['title']
    const source = (body['source'] as Branch)?.branch?.name
    const destination =
      (body['destination'] as Branch)?.branch?.name ?? (await mainBranch(bb, repo))
    if (typeof title !== 'string' || title === '')
      throw apiError(400, 'title: This field is required.')
    if (!source || !(await resolveRef(dir, `refs/heads/${source}`)))
      throw apiError(400, 'source: branch not found')
    if (!destination || !(await resolveRef(dir, `refs/heads/${destination}`)))
      throw apiError(400, 'destination: branch not found')
    const p: SbPullRequest = {
      id: state.data.nextPullRequestId++,
      workspace: repo.workspace,
      slug: repo.slug,
      title,
      description: typeof body['description'] === 'string' ? body['description'] : '',
      author: cl.username,
      sourceBranch: source,
      destinationBranch: destination,
      state: 'OPEN',
      mergeCommit: null,
      createdOn: now(),
      updatedOn: now(),
    }
    state.data.pullRequests.push(p)
    return sendJson(res, 201, await changed(p, 'pullrequest:created', cl.username))
  }
  const p = mine.find((x) => String(x.id) === id)
  if (!p) throw apiError(404, 'Pull request not found')
  if (!action && method === 'GET')
    return sendJson(res, 200, (await prPayload(bb, repo, p, undefined)).json)
  if (!cl?.username) throw apiError(401, 'A user is needed to change a pull request')
  if (p.state !== 'OPEN') throw apiError(400, `The pull request is ${p.state}`)
  if (!action && method === 'PUT') {
    const body = await readJson(req)
    if (typeof body['title'] === 'string') p.title = body['title']
    if (typeof body['description'] === 'string') p.description = body['description']
    p.updatedOn = now()
    return sendJson(res, 200, await changed(p, 'pullrequest:updated', cl.username))
  }
  if (action === 'decline' && method === 'POST') {
    p.state = 'DECLINED'
    p.closedBy = cl.username
    p.updatedOn = now()
    return sendJson(res, 200, await changed(p, 'pullrequest:rejected', cl.username))
  }
  if (action === 'merge' && method === 'POST') {
    const before = await refs(dir)
    const target = before.get(`refs/heads/${p.destinationBranch}`)
    const src = before.get(`refs/heads/${p.sourceBranch}`)
    const user = state.user(cl.username)!
    const merged =
      target &&
      src &&
      (await mergeCommit(dir, target, src, `Merged in ${p.sourceBranch} (pull request #${p.id})`, {
        name: user.displayName,
        email: user.email,
      }))
    if (!merged) throw apiError(409, 'The pull request has conflicts')
    await git(dir, ['update-ref', `refs/heads/${p.destinationBranch}`, merged, target!])
    p.state = 'MERGED'
    p.mergeCommit = merged
    p.closedBy = cl.username
    p.updatedOn = now()
    const json = await changed(p, 'pullrequest:fulfilled', cl.username)
    await notifyPush(bb, repo, cl.username, before)
    return sendJson(res, 200, json)
  }
  throw apiError(404, 'Resource not found')
}
