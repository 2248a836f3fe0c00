/**
 * @module sandbox/github/admin-pulls
 * Pull requests through the admin API: open one (`opened`), and close, reopen, merge (a merge
 * commit on the base branch: a push, then `closed` with `merged`) or update it (`edited`).
 */
import type { AdminApi, AdminCall } from '../core/admin.js'
import { git, mergeCommit, refs, resolveRef } from '../core/git.js'
import { HttpError } from '../core/http.js'
import { iso, type Gh } from './context.js'
import { notifyPush, sendPullEvent } from './events.js'
import { headBranch } from './gitdata.js'
import type { GhPull, GhRepo } from './state.js'

export function addPullEndpoints(
  api: AdminApi,
  gh: Gh,
  repoOf: (o: string, n: string) => GhRepo,
): void {
  const { state } = gh
  api.add(
    'POST',
    'pulls',
    'POST /_sandbox/pulls {owner, repo, title, head, base?, body?, user}',
    async ({ str }) => {
      const r = repoOf(str('owner') ?? '', str('repo') ?? '')
      const dir = state.repoDir(r.owner, r.name)
      const head = str('head') ?? ''
      const base = str('base') ?? (await headBranch(dir))
      if (
        !(await resolveRef(dir, `refs/heads/${head}`)) ||
        !(await resolveRef(dir, `refs/heads/${base}`))
      )
        throw new HttpError(422, 'head and base must be existing branches')
      if (head === base) throw new HttpError(422, 'head and base are the same branch')
      const user = str('user') ?? r.owner
      if (!state.user(user)) throw new HttpError(422, `No user '${user}'`)
      const at = iso(gh.now())
      const p: GhPull = {
        number: state.data.pulls.filter((x) => x.repoId === r.id).length + 1,
        id: state.newId(),
        repoId: r.id,
        title: str('title') ?? head,
        body: str('body') ?? '',
        user,
        head,
        base,
        state: 'open',
        merged: false,
        mergeCommitSha: null,
        mergedBy: null,
        createdAt: at,
        updatedAt: at,
        closedAt: null,
        mergedAt: null,
      }
      state.data.pulls.push(p)
      state.save()
      await sendPullEvent(gh, r, p, 'opened', user)
      return [201, { number: p.number, id: p.id }]
    },
  )

  api.add(
    'POST',
    'pulls/:owner/:repo/:number/:action',
    'POST /_sandbox/pulls/{owner}/{repo}/{number}/close|reopen|merge|update {title?, body?, base?, user?}',
    async (c: AdminCall) => {
      const r = repoOf(c.params['owner']!, c.params['repo']!)
      const p = state.data.pulls.find(
        (x) => x.repoId === r.id && String(x.number) === c.params['number'],
      )
      if (!p) throw new HttpError(404, 'No such pull request')
      const user = c.str('user') ?? p.user
      const at = iso(gh.now())
      const act = c.params['action']
      let action: string
      if (act === 'close' || act === 'reopen') {
        if (p.merged) throw new HttpError(422, 'A merged pull request cannot change state')
        if ((p.state === 'closed') === (act === 'close'))
          throw new HttpError(422, `The pull request is already ${p.state}`)
        p.state = act === 'close' ? 'closed' : 'open'
        p.closedAt = act === 'close' ? at : null
        action = act === 'close' ? 'closed' : 'reopened'
      } else if (act === 'merge') {
        if (p.state !== 'open') throw new HttpError(405, 'Pull Request is not mergeable')
        const dir = state.repoDir(r.owner, r.name)
        const before = await refs(dir)
        const target = before.get(`refs/heads/${p.base}`)!
        const source = before.get(`refs/heads/${p.head}`)!
        const u = state.user(user)
        const sha = await mergeCommit(
          dir,
          target,
          source,
          `Merge pull request #${p.number} from ${r.owner}/${p.head}\n\n${p.title}`,
          { name: u?.displayName ?? user, email: u?.email ?? 'sandbox@github.invalid' },
        )
        if (!sha) throw new HttpError(405, 'Merge conflict')
        await git(dir, ['update-ref', `refs/heads/${p.base}`, sha, target])
        Object.assign(p, {
          state: 'closed',
          merged: true,
          mergeCommitSha: sha,
          mergedBy: user,
          mergedAt: at,
          closedAt: at,
        })
        action = 'closed'
        p.updatedAt = at
        state.save()
        await notifyPush(gh, r, user, before)
      } else if (act === 'update') {
        if (c.str('title') !== undefined) p.title = c.str('title')!
        if (c.str('body') !== undefined) p.body = c.str('body')!
        if (c.str('base') !== undefined) p.base = c.str('base')!
        action = 'edited'
      } else throw new HttpError(404, 'close, reopen, merge or update')
      p.updatedAt = at
      state.save()
      await sendPullEvent(gh, r, p, action, user)
      return [
        200,
        { number: p.number, state: p.state, merged: p.merged, mergeCommitSha: p.mergeCommitSha },
      ]
    },
  )
}
