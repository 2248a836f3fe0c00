/**
 * @module sandbox/gitlab/events
 * What fires project hooks, and GitLab's delivery headers. A push (over Git, or made through the
 * admin API) fires a Push Hook per moved branch and a Tag Push Hook per moved tag, unless it moved
 * more refs than `push_event_hooks_limit` (3): then none at all (webhook_events.md). Open merge
 * requests whose source branch moved get a Merge Request Hook `update` with `oldrev`. Deliveries
 * (the core's, with retries and resend) carry `X-Gitlab-Event`, `X-Gitlab-Token` (the hook's
 * secret verbatim), `X-Gitlab-Instance`, `X-Gitlab-Webhook-UUID` (per hook),
 * `X-Gitlab-Event-UUID` (per event), `Idempotency-Key` (per delivery, the same on retries and
 * resends) and `User-Agent: GitLab/<version>` (webhooks.md "Delivery headers").
 */
import { randomUUID } from 'node:crypto'
import type { DeliveryOptions } from '../core/deliveries.js'
import { refs, resolveRef } from '../core/git.js'
import { defaultBranchOf } from './api.js'
import { iso, type Gl } from './context.js'
import { commitOf, mergeBase } from './gitdata.js'
import { branchMatches } from './hooks.js'
import { changeDate, mergeRequestPayload, pushPayload, ZERO, type MrEvent } from './payloads.js'
import type { MrHeads } from './render-git.js'
import type { GlHook, GlMergeRequest, GlProject, GlUser } from './state.js'

export function deliveryOptions(gl: Gl): Omit<DeliveryOptions, 'track'> {
  return {
    newId() {
      const id = randomUUID()
      gl.eventUuids.set(id, gl.currentEvent)
      if (gl.eventUuids.size > 2000) gl.eventUuids.delete(gl.eventUuids.keys().next().value!)
      return id
    },
    headers(h, record) {
      const hook = gl.state.data.hooks.find((x) => String(x.id) === h.id)
      const headers: Record<string, string> = {
        'User-Agent': `GitLab/${gl.version}`,
        'X-Gitlab-Event': record.event,
        'X-Gitlab-Instance': gl.instance,
        'X-Gitlab-Webhook-UUID': hook?.uuid ?? '',
        'X-Gitlab-Event-UUID': gl.eventUuids.get(record.id) ?? record.id,
        'Idempotency-Key': record.id,
      }
      if (h.secret) headers['X-Gitlab-Token'] = h.secret
      return headers
    },
    findHook(id) {
      const hook = gl.state.data.hooks.find((x) => String(x.id) === id)
      return hook && { id: String(hook.id), url: hook.url, secret: hook.token || null }
    },
  }
}

/** Sends one event (one X-Gitlab-Event-UUID) to the project's hooks that `want` it. */
export function fire(
  gl: Gl,
  p: GlProject,
  event: string,
  payload: unknown,
  want: (h: GlHook) => boolean,
): void {
  const hooks = gl.state.data.hooks.filter((h) => h.projectId === p.id && want(h))
  if (hooks.length === 0) return
  gl.currentEvent = randomUUID()
  gl.deliveries.deliver(
    hooks.map((h) => ({ id: String(h.id), url: h.url, secret: h.token || null })),
    event,
    payload,
  )
}

/** A merge request's source tip, merge base and target tip. */
export async function mrHeads(gl: Gl, p: GlProject, mr: GlMergeRequest): Promise<MrHeads> {
  const dir = gl.state.projectDir(p)
  const head = (await resolveRef(dir, `refs/heads/${mr.source}`)) ?? null
  const start = (await resolveRef(dir, `refs/heads/${mr.target}`)) ?? null
  const base = head && start ? ((await mergeBase(dir, start, head)) ?? null) : null
  return { head, base, start, hasConflicts: false }
}

/** Fires a Merge Request Hook for `mr`. */
export async function sendMrEvent(
  gl: Gl,
  p: GlProject,
  mr: GlMergeRequest,
  action: MrEvent['action'],
  user: GlUser,
  o: { oldrev?: string; changes?: MrEvent['changes']; head?: string } = {},
): Promise<void> {
  const dir = gl.state.projectDir(p)
  const head = await commitOf(dir, o.head ?? `refs/heads/${mr.source}`)
  const e: MrEvent = { action, user, head, changes: o.changes ?? {} }
  if (o.oldrev) e.oldrev = o.oldrev
  const payload = mergeRequestPayload(gl, p, mr, await defaultBranchOf(gl, p), e)
  fire(gl, p, 'Merge Request Hook', payload, (h) => h.mergeRequestsEvents)
}

/** After a push: the hooks GitLab fires for the refs it moved. */
export async function notifyPush(
  gl: Gl,
  p: GlProject,
  user: GlUser,
  before: Map<string, string>,
): Promise<void> {
  const dir = gl.state.projectDir(p)
  const after = await refs(dir)
  const moved = [...new Set([...before.keys(), ...after.keys()])].filter(
    (ref) => before.get(ref) !== after.get(ref),
  )
  if (moved.length === 0) return
  p.lastActivityAt = iso(gl.now())
  gl.state.save()
  const defaultBranch = await defaultBranchOf(gl, p)
  const baseTip = defaultBranch ? before.get(`refs/heads/${defaultBranch}`) : undefined
  const limit = gl.state.data.settings.pushEventHooksLimit ?? 3
  if (moved.length <= limit)
    for (const ref of moved) {
      const payload = await pushPayload(gl, {
        project: p,
        dir,
        defaultBranch,
        ref,
        before: before.get(ref) ?? ZERO,
        after: after.get(ref) ?? ZERO,
        user,
        baseTip,
      })
      if (ref.startsWith('refs/tags/'))
        fire(gl, p, 'Tag Push Hook', payload, (h) => h.tagPushEvents)
      else fire(gl, p, 'Push Hook', payload, (h) => h.pushEvents && branchMatches(h, ref.slice(11)))
    }
  for (const mr of gl.state.data.mergeRequests) {
    const ref = `refs/heads/${mr.source}`
    if (mr.projectId !== p.id || mr.state !== 'opened' || !moved.includes(ref) || !after.has(ref))
      continue
    const previous = mr.updatedAt
    mr.updatedAt = iso(gl.now())
    gl.state.save()
    await sendMrEvent(gl, p, mr, 'update', user, {
      oldrev: before.get(ref) ?? ZERO,
      changes: {
        updated_at: { previous: changeDate(previous), current: changeDate(mr.updatedAt) },
      },
    })
  }
}
