/**
 * @module sandbox/gitlab/admin-mrs
 * Merge requests through the `/_sandbox/` admin API, each firing its Merge Request Hook as GitLab
 * does: open (`open`), edit title, description, labels or draft (`update` with `changes`, no
 * `oldrev`: no new commits), close, reopen and merge (a real merge commit on the target branch,
 * which also fires that branch's Push Hook).
 */
import type { AdminApi } from '../core/admin.js'
import { mergeCommit, refs, resolveRef, git } from '../core/git.js'
import { HttpError } from '../core/http.js'
import { iso, type Gl } from './context.js'
import { headBranch } from './gitdata.js'
import { notifyPush, sendMrEvent } from './events.js'
import { changeDate, labelObjects } from './payloads.js'
import type { GlMergeRequest, GlProject, GlUser } from './state.js'

type Changes = Record<string, { previous: unknown; current: unknown }>

const names = (v: unknown) => (Array.isArray(v) ? v.map(String) : [])

export function addMergeRequestEndpoints(
  api: AdminApi,
  gl: Gl,
  projectOf: (ref: string) => GlProject,
  userOf: (name: string | undefined) => GlUser,
): void {
  const { state } = gl
  const mrOf = (p: GlProject, iid: string): GlMergeRequest => {
    const mr = state.data.mergeRequests.find((m) => m.projectId === p.id && String(m.iid) === iid)
    if (!mr) throw new HttpError(404, `No merge request !${iid}`)
    return mr
  }
  const ensureLabels = (p: GlProject, titles: string[]) => {
    for (const t of titles)
      if (!state.data.labels.some((l) => l.projectId === p.id && l.title === t))
        state.data.labels.push({
          id: state.newId(),
          projectId: p.id,
          title: t,
          color: '#6699cc',
          description: '',
          createdAt: iso(gl.now()),
        })
  }

  api.add(
    'POST',
    'projects/:project/merge_requests',
    'POST /_sandbox/projects/{id|path}/merge_requests {source, target?, title?, description?, author, assignees?, reviewers?, labels?, draft?}',
    async ({ params, body, str }) => {
      const p = projectOf(params['project']!)
      const dir = state.projectDir(p)
      const author = userOf(str('author'))
      const source = str('source') ?? ''
      const target = str('target') ?? (await headBranch(dir))
      if (!(await resolveRef(dir, `refs/heads/${source}`)))
        throw new HttpError(404, `No branch ${source}`)
      for (const n of [...names(body['assignees']), ...names(body['reviewers'])]) userOf(n)
      ensureLabels(p, names(body['labels']))
      const at = iso(gl.now())
      const iid = state.data.mergeRequests.filter((m) => m.projectId === p.id).length + 1
      const mr: GlMergeRequest = {
        id: state.newId(),
        iid,
        projectId: p.id,
        title: str('title') ?? source,
        description: str('description') ?? '',
        author: author.username,
        assignees: names(body['assignees']),
        reviewers: names(body['reviewers']),
        labels: names(body['labels']),
        source,
        target,
        state: 'opened',
        draft: body['draft'] === true,
        mergeCommitSha: null,
        mergedBy: null,
        closedBy: null,
        createdAt: at,
        updatedAt: at,
        mergedAt: null,
        closedAt: null,
        lastEditedAt: null,
        lastEditedBy: null,
      }
      state.data.mergeRequests.push(mr)
      state.save()
      await sendMrEvent(gl, p, mr, 'open', author)
      return [201, { id: mr.id, iid: mr.iid }]
    },
  )

  api.add(
    'PUT',
    'projects/:project/merge_requests/:iid',
    'PUT /_sandbox/projects/{id|path}/merge_requests/{iid} {user, title?, description?, labels?, draft?}',
    async ({ params, body, str }) => {
      const p = projectOf(params['project']!)
      const mr = mrOf(p, params['iid']!)
      const user = userOf(str('user'))
      const changes: Changes = {}
      const before = { ...mr }
      if (str('title') !== undefined && str('title') !== mr.title) {
        changes['title'] = { previous: mr.title, current: str('title') }
        mr.title = str('title')!
      }
      if (str('description') !== undefined && str('description') !== mr.description) {
        changes['description'] = { previous: mr.description, current: str('description') }
        mr.description = str('description')!
      }
      if (typeof body['draft'] === 'boolean' && body['draft'] !== mr.draft) {
        changes['draft'] = { previous: mr.draft, current: body['draft'] }
        mr.draft = body['draft']
      }
      if (Array.isArray(body['labels'])) {
        ensureLabels(p, names(body['labels']))
        changes['labels'] = {
          previous: labelObjects(gl, p, mr.labels),
          current: labelObjects(gl, p, names(body['labels'])),
        }
        mr.labels = names(body['labels'])
      }
      const at = iso(gl.now())
      if (changes['title'] || changes['description']) {
        changes['last_edited_at'] = {
          previous: changeDate(mr.lastEditedAt),
          current: changeDate(at),
        }
        changes['last_edited_by_id'] = {
          previous: state.user(mr.lastEditedBy ?? '')?.id ?? null,
          current: user.id,
        }
        mr.lastEditedAt = at
        mr.lastEditedBy = user.username
      }
      changes['updated_by_id'] = { previous: null, current: user.id }
      changes['updated_at'] = { previous: changeDate(before.updatedAt), current: changeDate(at) }
      mr.updatedAt = at
      state.save()
      await sendMrEvent(gl, p, mr, 'update', user, { changes })
      return [200, { iid: mr.iid, changes: Object.keys(changes) }]
    },
  )

  api.add(
    'POST',
    'projects/:project/merge_requests/:iid/:action',
    'POST /_sandbox/projects/{id|path}/merge_requests/{iid}/close|reopen|merge {user}',
    async ({ params, str }) => {
      const p = projectOf(params['project']!)
      const mr = mrOf(p, params['iid']!)
      const user = userOf(str('user'))
      const action = params['action']
      const at = iso(gl.now())
      const stateChange = (from: number, to: number): Changes => ({
        state_id: { previous: from, current: to },
        updated_at: { previous: changeDate(mr.updatedAt), current: changeDate(at) },
      })
      if (action === 'close' || action === 'reopen') {
        if ((action === 'close') !== (mr.state === 'opened'))
          throw new HttpError(409, `Merge request !${mr.iid} is ${mr.state}`)
        const changes = action === 'close' ? stateChange(1, 2) : stateChange(2, 1)
        mr.state = action === 'close' ? 'closed' : 'opened'
        mr.closedAt = action === 'close' ? at : null
        mr.closedBy = action === 'close' ? user.username : null
        mr.updatedAt = at
        state.save()
        await sendMrEvent(gl, p, mr, action, user, { changes })
        return [200, { iid: mr.iid, state: mr.state }]
      }
      if (action !== 'merge') throw new HttpError(404, 'close, reopen or merge')
      if (mr.state !== 'opened') throw new HttpError(405, `Merge request !${mr.iid} is ${mr.state}`)
      const dir = state.projectDir(p)
      const before = await refs(dir)
      const head = before.get(`refs/heads/${mr.source}`)
      const target = before.get(`refs/heads/${mr.target}`)
      if (!head || !target) throw new HttpError(404, 'Source or target branch is gone')
      const sha = await mergeCommit(
        dir,
        target,
        head,
        `Merge branch '${mr.source}' into '${mr.target}'\n\n${mr.title}\n\nSee merge request ${state.fullPath(p)}!${mr.iid}`,
        { name: user.displayName, email: user.email },
      )
      if (!sha) throw new HttpError(406, 'Branch cannot be merged')
      await git(dir, ['update-ref', `refs/heads/${mr.target}`, sha, target])
      const changes = stateChange(1, 3)
      mr.state = 'merged'
      mr.mergeCommitSha = sha
      mr.mergedBy = user.username
      mr.mergedAt = at
      mr.updatedAt = at
      state.save()
      await notifyPush(gl, p, user, before)
      await sendMrEvent(gl, p, mr, 'merge', user, { changes, head })
      return [200, { iid: mr.iid, state: mr.state, mergeCommitSha: sha }]
    },
  )
}
