/**
 * @module sandbox/gitlab/admin
 * GitLab's endpoints of the `/_sandbox/` admin API: users, groups, projects, memberships, access
 * tokens (personal, group, project; revocation), OAuth applications, commits and multi-ref pushes
 * (each fires hooks as a `git push` does), the clock; merge requests are in admin-mrs.ts. The core
 * adds settings, failures, rate limits, deliveries and their resend, stats.
 * docs/sandbox-gitlab.md describes them.
 */
import type { AdminApi } from '../core/admin.js'
import { commitFiles, git, refs, resolveRef } from '../core/git.js'
import { HttpError } from '../core/http.js'
import { addMergeRequestEndpoints } from './admin-mrs.js'
import { iso, type Gl } from './context.js'
import { notifyPush } from './events.js'
import { headBranch } from './gitdata.js'
import type { GlProject, GlUser } from './state.js'
import {
  checkLevel,
  checkScopes,
  createApp,
  createGroup,
  createProject,
  createToken,
  createUser,
} from './world.js'

export function addGitLabEndpoints(api: AdminApi, gl: Gl): void {
  const { state } = gl
  const projectOf = (ref: string): GlProject => {
    const p = state.projectByRef(ref)
    if (!p) throw new HttpError(404, `No project ${ref}`)
    return p
  }
  const userOf = (name: string | undefined): GlUser => {
    const u = state.user(name ?? '')
    if (!u) throw new HttpError(404, `No user ${name ?? ''}`)
    return u
  }

  api.add(
    'POST',
    'users',
    'POST /_sandbox/users {username, password?, name?, email?, publicEmail?, admin?}',
    ({ body, str }) => {
      const u = createUser(gl, {
        username: str('username') ?? '',
        ...(str('password') ? { password: str('password')! } : {}),
        ...(str('name') ? { name: str('name')! } : {}),
        ...(str('email') ? { email: str('email')! } : {}),
        ...(str('publicEmail') ? { publicEmail: str('publicEmail')! } : {}),
        admin: body['admin'] === true,
      })
      return [201, { id: u.id, username: u.username, password: u.password }]
    },
  )

  api.add(
    'POST',
    'groups',
    'POST /_sandbox/groups {path, name?, parent? (full path), visibility?}',
    ({ str }) => {
      const g = createGroup(gl, {
        path: str('path') ?? '',
        ...(str('name') ? { name: str('name')! } : {}),
        ...(str('parent') ? { parent: str('parent')! } : {}),
        ...(str('visibility') ? { visibility: str('visibility')! } : {}),
      })
      return [201, { id: g.id, fullPath: g.fullPath }]
    },
  )

  api.add(
    'POST',
    'projects',
    'POST /_sandbox/projects {namespace, path, name?, visibility?, defaultBranch?, files?: {path: content}}',
    async ({ body, str }) => {
      const files = body['files']
      const p = await createProject(gl, {
        namespace: str('namespace') ?? '',
        path: str('path') ?? '',
        ...(str('name') ? { name: str('name')! } : {}),
        ...(str('visibility') ? { visibility: str('visibility')! } : {}),
        ...(str('defaultBranch') ? { defaultBranch: str('defaultBranch')! } : {}),
        ...(files && typeof files === 'object' ? { files: files as Record<string, string> } : {}),
      })
      const dir = state.projectDir(p)
      return [
        201,
        {
          id: p.id,
          fullPath: state.fullPath(p),
          head: (await resolveRef(dir, `refs/heads/${await headBranch(dir)}`)) ?? null,
        },
      ]
    },
  )

  api.add(
    'PUT',
    'members',
    'PUT /_sandbox/members {group|project (full path), username, accessLevel: 10|20|30|40|50} (DELETE removes)',
    ({ body, str }) => {
      const src = membershipSource(gl, str('group'), str('project'))
      userOf(str('username'))
      state.setMember(src, str('username')!, checkLevel(body['accessLevel']))
      state.save()
      return [200, { source: src, username: str('username'), accessLevel: body['accessLevel'] }]
    },
  )
  api.add('DELETE', 'members', '', ({ str }) => {
    const src = membershipSource(gl, str('group'), str('project'))
    state.data.members = state.data.members.filter(
      (m) => !(m.source === src && m.username === str('username')),
    )
    state.save()
    return [200, { source: src, removed: str('username') }]
  })

  api.add(
    'POST',
    'tokens',
    'POST /_sandbox/tokens {kind: personal|group|project, username? | target?, scopes, accessLevel?, name?, expiresInSeconds?}',
    ({ body, str }) => {
      const kind = str('kind') ?? 'personal'
      if (kind !== 'personal' && kind !== 'group' && kind !== 'project')
        throw new HttpError(400, 'kind is personal, group or project')
      const made = createToken(gl, {
        kind,
        scopes: checkScopes(body['scopes']),
        ...(str('username') ? { username: str('username')! } : {}),
        ...(str('target') ? { target: str('target')! } : {}),
        ...(body['accessLevel'] !== undefined ? { level: checkLevel(body['accessLevel']) } : {}),
        ...(str('name') ? { name: str('name')! } : {}),
        ...(typeof body['expiresInSeconds'] === 'number'
          ? { expiresInSeconds: body['expiresInSeconds'] }
          : {}),
      })
      return [201, made]
    },
  )

  api.add('POST', 'tokens/revoke', 'POST /_sandbox/tokens/revoke {token}', ({ str }) => {
    const t = state.token(str('token') ?? '')
    if (!t) throw new HttpError(404, 'No such token')
    t.revoked = true
    state.save()
    return [200, { revoked: t.id }]
  })

  api.add(
    'POST',
    'applications',
    'POST /_sandbox/applications {name, redirectUri, scopes, confidential?, owner? (username; absent: instance)}',
    ({ body, str }) => {
      if (!str('name') || !str('redirectUri')) throw new HttpError(400, 'name and redirectUri')
      const a = createApp(gl, {
        name: str('name')!,
        redirectUri: str('redirectUri')!,
        scopes: checkScopes(body['scopes']),
        confidential: body['confidential'] !== false,
        ...(str('owner') ? { owner: userOf(str('owner')).username } : {}),
      })
      return [201, { id: a.id, application_id: a.uid, secret: a.secret }]
    },
  )

  api.add(
    'POST',
    'projects/:project/commits',
    'POST /_sandbox/projects/{id|url-encoded path}/commits {branch?, files: {path: content|null}, message?, author?, count?}',
    async ({ params, body, str }) => {
      const p = projectOf(params['project']!)
      const files = body['files']
      if (!files || typeof files !== 'object' || Array.isArray(files))
        throw new HttpError(400, 'files must be an object of path → content (null deletes)')
      const dir = state.projectDir(p)
      const branch = str('branch') ?? (await headBranch(dir))
      const author = userOf(str('author') ?? state.data.users.find((u) => u.admin)?.username)
      const count = typeof body['count'] === 'number' ? Math.min(body['count'], 200) : 1
      const before = await refs(dir)
      let sha = ''
      for (let i = 1; i <= count; i++) {
        const f = Object.fromEntries(
          Object.entries(files as Record<string, string | null>).map(([k, v]) => [
            k,
            v === null || count === 1 ? v : `${v}\n${i}\n`,
          ]),
        )
        const message = str('message') ?? 'Update'
        sha = await commitFiles(
          dir,
          branch,
          f,
          count === 1 ? message : `${message} (${i}/${count})`,
          { name: author.displayName, email: author.email },
          new Date(gl.now()),
        )
      }
      await notifyPush(gl, p, author, before)
      return [201, { sha, branch }]
    },
  )

  api.add(
    'POST',
    'projects/:project/push',
    'POST /_sandbox/projects/{id|path}/push {refs: {"refs/heads/x"|"refs/tags/v1": rev|null}, user?} (one push, many refs)',
    async ({ params, body, str }) => {
      const p = projectOf(params['project']!)
      const dir = state.projectDir(p)
      const want = body['refs']
      if (!want || typeof want !== 'object') throw new HttpError(400, 'refs is an object')
      const user = userOf(str('user') ?? state.data.users.find((u) => u.admin)?.username)
      const before = await refs(dir)
      for (const [ref, rev] of Object.entries(want as Record<string, string | null>)) {
        if (!/^refs\/(heads|tags)\/./.test(ref)) throw new HttpError(400, `Bad ref ${ref}`)
        if (rev === null) await git(dir, ['update-ref', '-d', ref])
        else {
          const sha = await resolveRef(dir, rev)
          if (!sha) throw new HttpError(404, `No revision ${rev}`)
          await git(dir, ['update-ref', ref, sha])
        }
      }
      await notifyPush(gl, p, user, before)
      return [200, { refs: Object.fromEntries(await refs(dir)) }]
    },
  )

  addMergeRequestEndpoints(api, gl, projectOf, userOf)

  api.add(
    'GET|POST',
    'clock',
    'POST /_sandbox/clock {advanceSeconds} (GET shows it)',
    ({ method, body }) => {
      if (method === 'POST') {
        const s = body['advanceSeconds']
        if (typeof s !== 'number' || !Number.isFinite(s))
          throw new HttpError(400, 'advanceSeconds is a number')
        state.data.settings.clockOffsetMs = (state.data.settings.clockOffsetMs ?? 0) + s * 1000
        state.save()
      }
      return [
        200,
        { now: iso(gl.now()), offsetSeconds: (state.data.settings.clockOffsetMs ?? 0) / 1000 },
      ]
    },
  )
}

function membershipSource(gl: Gl, group: string | undefined, project: string | undefined) {
  if (group) {
    const g = gl.state.groupByRef(group)
    if (!g) throw new HttpError(404, `No group ${group}`)
    return `group:${g.id}`
  }
  const p = gl.state.projectByRef(project ?? '')
  if (!p) throw new HttpError(404, 'group or project (full path) is required')
  return `project:${p.id}`
}
