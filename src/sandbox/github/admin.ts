/**
 * @module sandbox/github/admin
 * GitHub's endpoints of the `/_sandbox/` admin API: users, organizations and their members,
 * repositories and commits to them (a commit sends webhooks as a push does), GitHub Apps (a
 * generated or given key; the PEM is answered once), installations (install, change the
 * repository selection, suspend, unsuspend, uninstall: each sends its event), installation tokens
 * without a JWT, pull requests (open, update, close, reopen, merge) and the sandbox clock. The
 * core adds settings, failures, deliveries, stats. docs/sandbox-github.md describes them.
 */
import { randomBytes } from 'node:crypto'
import type { AdminApi } from '../core/admin.js'
import { commitFiles, refs, resolveRef } from '../core/git.js'
import { HttpError } from '../core/http.js'
import { createApp, install, setSuspended, uninstall, type AppInput } from './apps.js'
import { addPullEndpoints } from './admin-pulls.js'
import { checkLogin, createRepository, iso, type Gh } from './context.js'
import { sendToApp } from './deliver.js'
import { notifyPush } from './events.js'
import { headBranch } from './gitdata.js'
import { pingPayload } from './payload-input.js'
import type { GhInstallation, GhRepo } from './state.js'

const list = (body: Record<string, unknown>, k: string) =>
  Array.isArray(body[k]) ? (body[k] as unknown[]).map(String) : []

export function addGitHubEndpoints(api: AdminApi, gh: Gh): void {
  const { state } = gh
  const repoOf = (owner: string, name: string): GhRepo => {
    const r = state.repo(owner, name)
    if (!r) throw new HttpError(404, `No repository ${owner}/${name}`)
    return r
  }
  const installationOf = (id: string): GhInstallation => {
    const i = state.installation(Number(id))
    if (!i) throw new HttpError(404, `No installation ${id}`)
    return i
  }
  const namesToIds = (i: GhInstallation, names: string[]) =>
    names.map((n) => repoOf(i.account, n).id)
  const ownerOf = (login: string) => {
    const a = state.account(login)
    return a?.type === 'Organization' ? (a.org.admins[0] ?? a.org.login) : login
  }

  api.add(
    'POST',
    'users',
    'POST /_sandbox/users {username, password?, name?, email?}',
    ({ str }) => {
      const username = str('username') ?? ''
      checkLogin(username)
      if (state.account(username)) throw new HttpError(422, `Login ${username} is taken`)
      const u = {
        username,
        password: str('password') ?? randomBytes(12).toString('base64url'),
        email: str('email') ?? `${username}@users.noreply.sandbox`,
        displayName: str('name') ?? username,
        id: state.newId(),
        createdAt: iso(gh.now()),
      }
      state.data.users.push(u)
      state.save()
      return [201, { username, password: u.password, id: u.id, email: u.email }]
    },
  )

  api.add(
    'POST',
    'orgs',
    'POST /_sandbox/orgs {login, name?, admins?: [username], members?: [username]}',
    ({ body, str }) => {
      const login = str('login') ?? ''
      checkLogin(login)
      if (state.account(login)) throw new HttpError(422, `Login ${login} is taken`)
      for (const n of [...list(body, 'admins'), ...list(body, 'members')])
        if (!state.user(n)) throw new HttpError(422, `No user '${n}'`)
      const o = {
        login,
        id: state.newId(),
        name: str('name') ?? login,
        admins: list(body, 'admins'),
        members: list(body, 'members'),
        createdAt: iso(gh.now()),
      }
      state.data.orgs.push(o)
      state.save()
      return [201, { login, id: o.id }]
    },
  )

  api.add(
    'PUT',
    'orgs/:org/members/:username',
    'PUT /_sandbox/orgs/{org}/members/{username} {role: admin|member} (DELETE removes)',
    ({ params, str }) => {
      const o = state.org(params['org']!)
      const u = state.user(params['username']!)
      if (!o || !u) throw new HttpError(404, 'No such organization or user')
      const role = str('role') ?? 'member'
      if (role !== 'admin' && role !== 'member') throw new HttpError(422, 'role is admin or member')
      o.admins = o.admins.filter((x) => x !== u.username)
      o.members = o.members.filter((x) => x !== u.username)
      ;(role === 'admin' ? o.admins : o.members).push(u.username)
      state.save()
      return [200, { login: o.login, admins: o.admins, members: o.members }]
    },
  )
  api.add('DELETE', 'orgs/:org/members/:username', '', ({ params }) => {
    const o = state.org(params['org']!)
    if (!o) throw new HttpError(404, 'No such organization')
    o.admins = o.admins.filter((x) => x !== params['username'])
    o.members = o.members.filter((x) => x !== params['username'])
    state.save()
    return [200, { login: o.login, admins: o.admins, members: o.members }]
  })

  api.add(
    'POST',
    'repositories',
    'POST /_sandbox/repositories {owner, name, private?, defaultBranch?, description?, files?: {path: content}}',
    async ({ body }) => {
      const r = await createRepository(gh, body)
      const dir = state.repoDir(r.owner, r.name)
      const branch = await headBranch(dir)
      return [
        201,
        {
          id: r.id,
          fullName: `${r.owner}/${r.name}`,
          defaultBranch: branch,
          head: (await resolveRef(dir, `refs/heads/${branch}`)) ?? null,
        },
      ]
    },
  )

  api.add(
    'POST',
    'repositories/:owner/:name/commits',
    'POST /_sandbox/repositories/{owner}/{name}/commits {branch?, message?, files: {path: content|null}, author?: username}',
    async ({ params, body, str }) => {
      const r = repoOf(params['owner']!, params['name']!)
      const files = body['files']
      if (!files || typeof files !== 'object' || Array.isArray(files))
        throw new HttpError(422, 'files must be an object of path → content (null deletes)')
      const dir = state.repoDir(r.owner, r.name)
      const branch = str('branch') ?? (await headBranch(dir))
      const author = state.user(str('author') ?? '')
      const before = await refs(dir)
      const sha = await commitFiles(
        dir,
        branch,
        files as Record<string, string | null>,
        str('message') ?? 'Update',
        {
          name: author?.displayName ?? 'Sandbox',
          email: author?.email ?? 'sandbox@github.invalid',
        },
      )
      await notifyPush(gh, r, author?.username, before)
      return [201, { sha, branch }]
    },
  )

  api.add(
    'POST',
    'apps',
    'POST /_sandbox/apps {name, owner, url?, webhookUrl?, webhookSecret?, setupUrl?, setupOnUpdate?, callbackUrls?, requestOAuthOnInstall?, public?, permissions?, events?, privateKey?}',
    ({ body, str }) => {
      const input: AppInput = { name: str('name') ?? '', owner: str('owner') ?? '' }
      for (const k of [
        'url',
        'webhookUrl',
        'webhookSecret',
        'setupUrl',
        'privateKey',
        'description',
      ] as const)
        if (str(k) !== undefined) (input as unknown as Record<string, unknown>)[k] = str(k)
      if (typeof body['public'] === 'boolean') input.public = body['public']
      if (typeof body['setupOnUpdate'] === 'boolean') input.setupOnUpdate = body['setupOnUpdate']
      if (typeof body['requestOAuthOnInstall'] === 'boolean')
        input.requestOAuthOnInstall = body['requestOAuthOnInstall']
      if (Array.isArray(body['callbackUrls'])) input.callbackUrls = list(body, 'callbackUrls')
      if (Array.isArray(body['events'])) input.events = list(body, 'events')
      if (body['permissions'] && typeof body['permissions'] === 'object')
        input.permissions = body['permissions'] as Record<string, unknown>
      const { app, pem } = createApp(gh, input)
      return [
        201,
        {
          id: app.id,
          slug: app.slug,
          clientId: app.clientId,
          clientSecret: app.clientSecret,
          webhookSecret: app.webhookSecret,
          hookId: app.hookId,
          ...(pem ? { privateKey: pem } : {}),
        },
      ]
    },
  )

  api.add('GET', 'apps', 'GET /_sandbox/apps', () => [
    200,
    {
      apps: state.data.apps.map((a) => ({
        ...a,
        clientSecret: '(set)',
        webhookSecret: a.webhookSecret ? '(set)' : null,
      })),
    },
  ])

  api.add(
    'PUT',
    'apps/:app',
    'PUT /_sandbox/apps/{id|slug} {webhookUrl?, webhookSecret?, webhookActive?, setupUrl?, events?, permissions?}',
    ({ params, body, str }) => {
      const a = state.app(params['app']!)
      if (!a) throw new HttpError(404, 'No such app')
      if (body['webhookUrl'] !== undefined) a.webhookUrl = str('webhookUrl') ?? null
      if (body['webhookSecret'] !== undefined) a.webhookSecret = str('webhookSecret') ?? null
      if (typeof body['webhookActive'] === 'boolean') a.webhookActive = body['webhookActive']
      if (body['setupUrl'] !== undefined) a.setupUrl = str('setupUrl') ?? null
      if (Array.isArray(body['events'])) a.events = list(body, 'events')
      a.updatedAt = iso(gh.now())
      state.save()
      return [200, { id: a.id, slug: a.slug }]
    },
  )

  api.add('POST', 'apps/:app/ping', 'POST /_sandbox/apps/{id|slug}/ping', ({ params }) => {
    const a = state.app(params['app']!)
    if (!a) throw new HttpError(404, 'No such app')
    const e = sendToApp(gh, a, { event: 'ping', payload: pingPayload(gh, a) })
    return [202, { delivery: e?.guid ?? null }]
  })

  api.add(
    'POST',
    'installations',
    'POST /_sandbox/installations {app, account, repositories?: [name] (absent: all), sender?}',
    ({ body, str }) => {
      const a = state.app(str('app') ?? String(body['app'] ?? ''))
      if (!a) throw new HttpError(404, 'No such app')
      const account = str('account') ?? ''
      const names = Array.isArray(body['repositories']) ? list(body, 'repositories') : null
      const ids = names?.map((n) => repoOf(account, n).id) ?? null
      const done = install(gh, a, account, ids, str('sender') ?? ownerOf(account))
      return [201, { id: done.installation.id, action: done.action }]
    },
  )

  api.add(
    'PUT',
    'installations/:id/repositories',
    'PUT /_sandbox/installations/{id}/repositories {add?: [name], remove?: [name], all?: true}',
    ({ params, body }) => {
      const i = installationOf(params['id']!)
      const a = state.app(i.appId)!
      const current = state.installationRepos(i).map((r) => r.id)
      let next: number[] | null
      if (body['all'] === true) next = null
      else {
        const remove = namesToIds(i, list(body, 'remove'))
        next = [...new Set([...current, ...namesToIds(i, list(body, 'add'))])].filter(
          (x) => !remove.includes(x),
        )
      }
      install(gh, a, i.account, next, ownerOf(i.account))
      return [
        200,
        {
          id: i.id,
          repositorySelection: i.repositorySelection,
          repositories: state.installationRepos(i).map((r) => r.name),
        },
      ]
    },
  )

  api.add(
    'POST',
    'installations/:id/:action',
    'POST /_sandbox/installations/{id}/suspend|unsuspend',
    ({ params }) => {
      const i = installationOf(params['id']!)
      const act = params['action']
      if (act !== 'suspend' && act !== 'unsuspend') throw new HttpError(404, 'suspend or unsuspend')
      setSuspended(gh, i, act === 'suspend', ownerOf(i.account))
      return [200, { id: i.id, suspendedAt: i.suspendedAt }]
    },
  )

  api.add('DELETE', 'installations/:id', 'DELETE /_sandbox/installations/{id}', ({ params }) => {
    const i = installationOf(params['id']!)
    uninstall(gh, i, ownerOf(i.account))
    return [200, { deleted: i.id }]
  })

  addPullEndpoints(api, gh, repoOf)

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
        { now: iso(gh.now()), offsetSeconds: (state.data.settings.clockOffsetMs ?? 0) / 1000 },
      ]
    },
  )
}
