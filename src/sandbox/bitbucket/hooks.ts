/**
 * @module sandbox/bitbucket/hooks
 * A repository's webhook subscriptions (`/2.0/repositories/{ws}/{slug}/hooks[/{uid}]`): listed,
 * created, read and deleted by a workspace admin with the `webhook` scope (pull-request events
 * also need `pullrequest`), as Bitbucket allows.
 */
import { HttpError, readJson, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { hasScope, reachesRepo, type Caller } from './auth.js'
import { apiError, now, pageParams, repoJson, type Bb } from './context.js'
import * as render from './render.js'
import type { SbRepository } from './state.js'

const HOOK_EVENTS = new Set([
  'repo:push',
  'repo:fork',
  'repo:updated',
  'pullrequest:created',
  'pullrequest:updated',
  'pullrequest:fulfilled',
  'pullrequest:rejected',
  'pullrequest:approved',
  'pullrequest:unapproved',
  'pullrequest:comment_created',
])

export async function hooks(
  bb: Bb,
  { req, res, url: u, method }: SandboxRequest,
  repo: SbRepository,
  cl: Caller | undefined,
  uid?: string,
): Promise<void> {
  const { state } = bb
  if (!cl) throw apiError(401, 'Authentication required')
  const writes = method === 'POST' || method === 'DELETE' || method === 'PUT'
  const granular = writes ? 'write:webhook:bitbucket' : 'read:webhook:bitbucket'
  if (!hasScope(cl, 'webhook', granular))
    throw apiError(
      403,
      `Your credentials lack one or more required privilege scopes: ${cl.token.kind === 'api' ? granular : 'webhook'}`,
    )
  if (!reachesRepo(state, cl, repo))
    throw apiError(403, 'You do not have access to this repository')
  const w = state.workspace(repo.workspace)!
  if (cl.username && !w.admins.includes(cl.username))
    throw apiError(403, 'You need admin access to the repository to manage webhooks')
  const repoJ = await repoJson(bb, repo)
  const mine = state.data.hooks.filter(
    (h) => h.workspace === repo.workspace && h.slug === repo.slug,
  )
  if (!uid) {
    if (method === 'GET') {
      const { page, pagelen } = pageParams(bb, u)
      const values = mine.map((h) => render.hook(h, repoJ))
      return sendJson(res, 200, render.paginated(values, page, pagelen, u))
    }
    if (method !== 'POST') throw new HttpError(405, 'Method not allowed', { Allow: 'GET, POST' })
    const body = await readJson(req)
    const url = body['url']
    const events = body['events']
    if (typeof url !== 'string' || !/^https?:\/\//.test(url))
      throw apiError(400, 'url: Enter a valid URL.')
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((x) => typeof x === 'string' && HOOK_EVENTS.has(x))
    )
      throw apiError(400, 'events: one or more valid event keys are required')
    if (events.some((x) => String(x).startsWith('pullrequest:')) && !hasScope(cl, 'pullrequest'))
      throw apiError(
        403,
        'Your credentials lack one or more required privilege scopes: pullrequest',
      )
    const h = {
      uuid: state.newUuid(),
      workspace: repo.workspace,
      slug: repo.slug,
      url,
      description: typeof body['description'] === 'string' ? body['description'] : '',
      secret: typeof body['secret'] === 'string' && body['secret'] !== '' ? body['secret'] : null,
      events: events as string[],
      active: body['active'] !== false,
      createdAt: now(),
    }
    state.data.hooks.push(h)
    state.save()
    return sendJson(res, 201, render.hook(h, repoJ))
  }
  const id = decodeURIComponent(uid)
  const h = mine.find((x) => x.uuid === id || x.uuid === `{${id}}`)
  if (!h) throw apiError(404, 'Webhook not found')
  if (method === 'GET') return sendJson(res, 200, render.hook(h, repoJ))
  if (method === 'DELETE') {
    state.data.hooks = state.data.hooks.filter((x) => x !== h)
    state.save()
    res.writeHead(204).end()
    return
  }
  throw new HttpError(405, 'Method not allowed', { Allow: 'GET, DELETE' })
}
