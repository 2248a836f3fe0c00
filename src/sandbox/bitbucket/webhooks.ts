/**
 * @module sandbox/bitbucket/webhooks
 * Builds `repo:push` and `pullrequest:*` payloads shaped like Bitbucket's (compare the samples in
 * shared/fixtures/webhooks/bitbucket) and delivers them the way Bitbucket does: JSON POST with
 * `X-Event-Key`, `X-Hook-UUID`, `X-Request-UUID`, `X-Attempt-Number`, and `X-Hub-Signature:
 * sha256=…` when the hook has a secret; retried twice on failure.
 */
import { randomUUID } from 'node:crypto'
import { signBitbucket } from '../../providers/bitbucket/webhook.js'
import { commitInfo, commitsBetween } from '../git.js'
import * as render from './render.js'
import type { SandboxState, SbDelivery, SbRepository } from './state.js'

/** Bitbucket lists at most 5 commits per change and marks the rest truncated. */
const COMMITS_PER_CHANGE = 5

export async function pushPayload(
  state: SandboxState,
  repo: SbRepository,
  actor: string | undefined,
  before: Map<string, string>,
  after: Map<string, string>,
  urls: render.Urls,
) {
  const dir = state.repoDir(repo.workspace, repo.slug)
  const full = `${repo.workspace}/${repo.slug}`
  const users = state.data.users
  const w = state.workspace(repo.workspace)!
  const refPayload = async (ref: string, id: string) => {
    const c = await commitInfo(dir, id)
    const isTag = ref.startsWith('refs/tags/')
    const name = ref.replace(/^refs\/(heads|tags)\//, '')
    return {
      type: isTag ? 'tag' : 'branch',
      name,
      target: c ? hookCommit(render.commit(c, full, urls, users)) : { type: 'commit', hash: id },
      links: {
        commits: { href: `${urls.api}/repositories/${full}/commits/${encodeURIComponent(name)}` },
        self: {
          href: `${urls.api}/repositories/${full}/refs/${isTag ? 'tags' : 'branches'}/${encodeURIComponent(name)}`,
        },
        html: {
          href: `${urls.web}/${full}/${isTag ? 'commits/tag' : 'branch'}/${encodeURIComponent(name)}`,
        },
      },
    }
  }
  const changes = []
  for (const ref of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(ref)
    const now = after.get(ref)
    if (old === now) continue
    const commits = now ? await commitsBetween(dir, old, now, COMMITS_PER_CHANGE + 1) : []
    changes.push({
      old: old ? await refPayload(ref, old) : null,
      new: now ? await refPayload(ref, now) : null,
      created: !old,
      closed: !now,
      forced: !!(old && now && !(await isAncestor(dir, old, now))),
      truncated: commits.length > COMMITS_PER_CHANGE,
      commits: commits
        .slice(0, COMMITS_PER_CHANGE)
        .map((c) => hookCommit(render.commit(c, full, urls, users))),
      links: {
        html: { href: `${urls.web}/${full}/branches/compare/${now ?? ''}..${old ?? ''}` },
        ...(old && now
          ? { diff: { href: `${urls.api}/repositories/${full}/diff/${now}..${old}` } }
          : {}),
        commits: {
          href: `${urls.api}/repositories/${full}/commits?include=${now ?? ''}&exclude=${old ?? ''}`,
        },
      },
    })
  }
  return {
    actor: actorOf(state, actor, urls),
    repository: repoRef(repo, w, urls),
    push: { changes },
  }
}

/**
 * Webhook commits carry the author's account fields beside `raw` and `user` (as the samples in
 * shared/fixtures show), where the REST API has only `raw` and `user`.
 */
function hookCommit(c: ReturnType<typeof render.commit>) {
  const user = 'user' in c.author ? c.author.user : undefined
  if (!user) return c
  const { type: _type, created_on: _created, ...account } = user
  return { ...c, author: { ...c.author, ...account } }
}

async function isAncestor(dir: string, a: string, b: string): Promise<boolean> {
  const { git } = await import('../git.js')
  try {
    await git(dir, ['merge-base', '--is-ancestor', a, b])
    return true
  } catch {
    return false
  }
}

export function actorOf(state: SandboxState, username: string | undefined, urls: render.Urls) {
  const u = username ? state.user(username) : undefined
  if (u) return render.account(u, urls)
  return {
    type: 'app_user',
    display_name: 'Workspace access token',
    uuid: '{00000000-0000-0000-0000-000000000000}',
  }
}

export function repoRef(
  repo: SbRepository,
  w: { uuid: string; slug: string; name: string },
  urls: render.Urls,
) {
  const full = `${repo.workspace}/${repo.slug}`
  return {
    type: 'repository',
    full_name: full,
    name: repo.slug,
    uuid: repo.uuid,
    scm: 'git',
    is_private: repo.isPrivate,
    workspace: { type: 'workspace', slug: w.slug, name: w.name, uuid: w.uuid },
    links: {
      self: { href: `${urls.api}/repositories/${full}` },
      html: { href: `${urls.web}/${full}` },
      avatar: { href: `${urls.web}/${full}/avatar/` },
    },
  }
}

/** Delivers `payload` to every active hook of the repository subscribed to `event`. */
export function deliver(
  state: SandboxState,
  repo: SbRepository,
  event: string,
  payload: unknown,
): Promise<void>[] {
  const body = Buffer.from(JSON.stringify(payload))
  return sendTo(state, repo, event, body)
}

/**
 * Sends a recorded delivery again, as Bitbucket's "Resend request" does: the same body and the
 * same X-Request-UUID (a receiver sees a retry of a delivery it may already have).
 */
export function redeliver(state: SandboxState, id: string): Promise<void> | undefined {
  const sent = state.deliveries.find((d) => d.id === id || d.id === `{${id}}`)
  const body = sent && state.deliveryBodies.get(sent.id)
  const h = sent && state.data.hooks.find((x) => x.uuid === sent.hook)
  if (!sent || !body || !h) return undefined
  return attempt(state, h, sent, body.event, body.body)
}

function sendTo(
  state: SandboxState,
  repo: SbRepository,
  event: string,
  body: Buffer,
): Promise<void>[] {
  const hooks = state.data.hooks.filter(
    (h) =>
      h.workspace === repo.workspace &&
      h.slug === repo.slug &&
      h.active &&
      h.events.includes(event),
  )
  return hooks.map(async (h) => {
    const record: SbDelivery = {
      id: `{${randomUUID()}}`,
      hook: h.uuid,
      event,
      url: h.url,
      status: 'error',
      attempts: 0,
      at: new Date().toISOString(),
    }
    state.deliveries.push(record)
    state.deliveryBodies.set(record.id, { event, body })
    if (state.deliveries.length > 1000) state.deliveryBodies.delete(state.deliveries.shift()!.id)
    return attempt(state, h, record, event, body)
  })
}

async function attempt(
  _state: SandboxState,
  h: SandboxState['data']['hooks'][number],
  record: SbDelivery,
  event: string,
  body: Buffer,
): Promise<void> {
  {
    for (let attempt = 1; attempt <= 3; attempt++) {
      record.attempts = attempt
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'User-Agent': 'Bitbucket-Webhooks/2.0',
        'X-Event-Key': event,
        'X-Hook-UUID': h.uuid.replace(/^\{|\}$/g, ''),
        'X-Request-UUID': record.id.replace(/^\{|\}$/g, ''),
        'X-Attempt-Number': String(attempt),
      }
      if (h.secret) headers['X-Hub-Signature'] = signBitbucket(h.secret, body)
      try {
        const res = await fetch(h.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(10_000),
        })
        await res.body?.cancel()
        record.status = res.status
        if (res.status < 500) return
      } catch {
        record.status = 'error'
      }
      await new Promise((r) => setTimeout(r, 200 * attempt))
    }
  }
}
