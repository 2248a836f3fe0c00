/**
 * @module sandbox/bitbucket/admin
 * Bitbucket's endpoints of the `/_sandbox/` admin API: users, workspaces, projects, repositories
 * and commits to them (which send webhooks as a push does), OAuth consumers, access tokens
 * (workspace, project, repository), Atlassian API tokens, revoking and restoring tokens and a
 * user's OAuth grants, and the webhook subscriptions. The core adds settings, failures,
 * deliveries, stats and rate limits.
 */
import { randomBytes } from 'node:crypto'
import type { AdminApi } from '../core/admin.js'
import { commitFiles, refs } from '../core/git.js'
import { HttpError } from '../core/http.js'
import {
  createRepository,
  mainBranch,
  notifyPush,
  now,
  PROJECT_KEY,
  SLUG,
  type Bb,
} from './context.js'
import { addTokenEndpoints } from './admin-tokens.js'

export function addBitbucketEndpoints(api: AdminApi, bb: Bb): void {
  const { state } = bb
  const list = (body: Record<string, unknown>, k: string) =>
    Array.isArray(body[k]) ? (body[k] as unknown[]).map(String) : []

  api.add(
    'POST',
    'users',
    'POST /_sandbox/users {username, password, displayName?, email?}',
    ({ str }) => {
      const username = str('username') ?? ''
      if (!SLUG.test(username))
        throw new HttpError(400, 'username must be lower-case letters, digits, _ . -')
      if (state.user(username)) throw new HttpError(409, `User ${username} exists`)
      const u = {
        username,
        password: str('password') ?? randomBytes(12).toString('base64url'),
        uuid: state.newUuid(),
        accountId: randomBytes(12).toString('hex'),
        displayName: str('displayName') ?? username,
        email: str('email') ?? `${username}@example.com`,
        createdOn: now(),
      }
      state.data.users.push(u)
      state.save()
      return [201, { username: u.username, password: u.password, uuid: u.uuid, email: u.email }]
    },
  )

  api.add(
    'POST',
    'workspaces',
    'POST /_sandbox/workspaces {slug, name?, admins?: [username], members?: [username]}',
    ({ body, str }) => {
      const slug = str('slug') ?? ''
      if (!SLUG.test(slug))
        throw new HttpError(400, 'slug must be lower-case letters, digits, _ . -')
      if (state.workspace(slug)) throw new HttpError(409, `Workspace ${slug} exists`)
      for (const name of [...list(body, 'admins'), ...list(body, 'members')])
        if (!state.user(name)) throw new HttpError(400, `No user '${name}'`)
      const w = {
        slug,
        name: str('name') ?? slug,
        uuid: state.newUuid(),
        admins: list(body, 'admins'),
        members: list(body, 'members'),
        createdOn: now(),
      }
      state.data.workspaces.push(w)
      state.save()
      return [201, { slug: w.slug, uuid: w.uuid, name: w.name }]
    },
  )

  api.add('POST', 'projects', 'POST /_sandbox/projects {workspace, key, name?}', ({ str }) => {
    const ws = str('workspace') ?? ''
    const key = str('key') ?? ''
    if (!state.workspace(ws)) throw new HttpError(404, `No workspace '${ws}'`)
    if (!PROJECT_KEY.test(key))
      throw new HttpError(400, 'key must be a project key (letters, digits, _)')
    if (state.projectsOf(ws).some((p) => p.key === key))
      throw new HttpError(409, `Project ${key} exists in ${ws}`)
    const p = state.ensureProject(ws, key, str('name'))
    state.save()
    return [201, { workspace: ws, key: p.key, uuid: p.uuid, name: p.name }]
  })

  api.add(
    'POST',
    'repositories',
    'POST /_sandbox/repositories {workspace, slug, project?, isPrivate?, mainbranch?, files?: {path: content}}',
    async ({ body }) => {
      const r = await createRepository(bb, body)
      const dir = state.repoDir(r.workspace, r.slug)
      return [
        201,
        {
          fullName: `${r.workspace}/${r.slug}`,
          uuid: r.uuid,
          head: (await refs(dir)).get(`refs/heads/${await mainBranch(bb, r)}`) ?? null,
        },
      ]
    },
  )

  api.add(
    'POST',
    'repositories/:workspace/:slug/commits',
    'POST /_sandbox/repositories/{workspace}/{slug}/commits {branch, message, files: {path: content|null}, author?: username}',
    async ({ params, body, str }) => {
      const ws = params['workspace']!
      const slug = params['slug']!
      const r = state.repository(ws, slug)
      if (!r) throw new HttpError(404, 'Repository not found')
      const branch = str('branch') ?? (await mainBranch(bb, r)) ?? 'main'
      const files = body['files']
      if (!files || typeof files !== 'object' || Array.isArray(files))
        throw new HttpError(400, 'files must be an object of path → content (null deletes)')
      const author = state.user(str('author') ?? '')
      const dir = state.repoDir(ws, slug)
      const before = await refs(dir)
      const id = await commitFiles(
        dir,
        branch,
        files as Record<string, string | null>,
        str('message') ?? 'Update',
        {
          name: author?.displayName ?? 'Sandbox',
          email: author?.email ?? 'sandbox@bitbucket.invalid',
        },
      )
      await notifyPush(bb, r, author?.username, before)
      return [201, { commit: id, branch }]
    },
  )

  api.add(
    'POST',
    'consumers',
    'POST /_sandbox/consumers {key, secret?, callbackUrl}',
    ({ str }) => {
      const key = str('key') ?? ''
      const callbackUrl = str('callbackUrl') ?? ''
      if (!key || !/^https?:\/\//.test(callbackUrl))
        throw new HttpError(400, 'key and an http(s) callbackUrl are required')
      const cons = {
        key,
        secret: str('secret') ?? randomBytes(24).toString('base64url'),
        callbackUrl,
      }
      state.data.consumers = state.data.consumers.filter((x) => x.key !== key).concat(cons)
      state.save()
      return [201, cons]
    },
  )

  addTokenEndpoints(api, bb)

  api.add('GET', 'hooks', '', () => [
    200,
    { hooks: state.data.hooks.map((h) => ({ ...h, secret: h.secret ? '(set)' : null })) },
  ])
}
