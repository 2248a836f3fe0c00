/**
 * @module sandbox/github/apps-api
 * The REST endpoints a GitHub App calls with its JWT: itself (`/app`), its installations (list,
 * get, delete, suspend), installation access tokens (narrowed by `repositories`,
 * `repository_ids` and `permissions`; 422 beyond the installation, 403 when suspended), the
 * installation of a repository, organization or user, its webhook configuration and deliveries
 * (and redelivery); and the manifest conversion (`POST /app-manifests/{code}/conversions`, no
 * authentication, the code single-use and 1 h).
 */
import { HttpError, readJson, sendJson } from '../core/http.js'
import type { SandboxRequest } from '../core/server.js'
import { uninstall, setSuspended } from './apps.js'
import { appFromJwt, levelAtLeast } from './auth.js'
import { apiError, iso, pageOf, type Gh } from './context.js'
import { redeliver, type HookLogEntry } from './deliver.js'
import { hookConfig, installation, integration, repository } from './render.js'
import { headBranch } from './gitdata.js'
import type { GhApp, GhInstallation, GhRepo, Level, Permissions } from './state.js'

function deliveryItem(e: HookLogEntry) {
  const status = e.record.status
  return {
    id: e.id,
    guid: e.guid,
    delivered_at: iso(e.at),
    redelivery: e.redelivery,
    duration: 0.01,
    status:
      status === 'error'
        ? 'failed to connect'
        : status < 400
          ? 'OK'
          : `Invalid HTTP Response: ${status}`,
    status_code: status === 'error' ? 0 : status,
    event: e.event,
    action: e.action,
    installation_id: e.installationId,
    repository_id: e.repositoryId,
    throttled_at: null,
  }
}

function installationOf(gh: Gh, app: GhApp, id: string | undefined): GhInstallation {
  const i = gh.state.installation(Number(id))
  if (!i || i.appId !== app.id || !/^\d+$/.test(id ?? '')) throw apiError(404, 'Not Found')
  return i
}

async function accessToken(gh: Gh, r: SandboxRequest, app: GhApp, i: GhInstallation) {
  if (i.suspendedAt) throw apiError(403, 'This installation has been suspended')
  const body = await readJson(r.req)
  const repos = gh.state.installationRepos(i)
  let narrowed: GhRepo[] | undefined
  const names = body['repositories']
  const ids = body['repository_ids']
  if (names !== undefined || ids !== undefined) {
    if (
      (names !== undefined && !Array.isArray(names)) ||
      (ids !== undefined && !Array.isArray(ids))
    )
      throw apiError(422, 'repositories and repository_ids must be arrays')
    const wanted: GhRepo[] = []
    for (const n of (names as unknown[] | undefined) ?? []) {
      const found = repos.find((x) => x.name.toLowerCase() === String(n).toLowerCase())
      if (!found)
        throw apiError(
          422,
          'There is at least one repository that does not exist or is not accessible to the parent installation.',
        )
      wanted.push(found)
    }
    for (const n of (ids as unknown[] | undefined) ?? []) {
      const found = repos.find((x) => x.id === Number(n))
      if (!found)
        throw apiError(
          422,
          'There is at least one repository that does not exist or is not accessible to the parent installation.',
        )
      wanted.push(found)
    }
    if (wanted.length > 500) throw apiError(422, 'At most 500 repositories')
    narrowed = [...new Map(wanted.map((x) => [x.id, x])).values()]
  }
  let permissions: Permissions = { ...i.permissions }
  const asked = body['permissions']
  if (asked !== undefined) {
    if (typeof asked !== 'object' || asked === null || Array.isArray(asked))
      throw apiError(422, 'permissions must be an object')
    permissions = {}
    for (const [k, v] of Object.entries(asked)) {
      if (!levelAtLeast(i.permissions[k], v as Level))
        throw apiError(422, 'The permissions requested are not granted to this installation.')
      permissions[k] = v as Level
    }
  }
  const lifetimeMs = 3600_000
  const expiresAt = gh.now() + lifetimeMs
  const token = gh.state.newPrefixedToken('ghs', {
    kind: 'installation',
    appId: app.id,
    installationId: i.id,
    ...(narrowed ? { repositoryIds: narrowed.map((x) => x.id) } : {}),
    permissions,
    expiresAt,
    revoked: false,
  })
  gh.state.stats.tokensMinted++
  gh.state.save()
  const out: Record<string, unknown> = {
    token,
    expires_at: iso(expiresAt),
    permissions,
    repository_selection: narrowed ? 'selected' : i.repositorySelection,
  }
  if (narrowed) {
    const rows = []
    for (const x of narrowed)
      rows.push(repository(gh, x, await headBranch(gh.state.repoDir(x.owner, x.name))))
    out['repositories'] = rows
  }
  return sendJson(r.res, 201, out)
}

/** Answers the app endpoints below the API base (`parts` without `/api/v3`); false: not one. */
export async function appsApi(gh: Gh, r: SandboxRequest, parts: string[]): Promise<boolean> {
  const { res, method } = r
  const [a, b, c, d, e] = parts
  if (a === 'app-manifests' && b && c === 'conversions' && !d && method === 'POST') {
    const entry = gh.manifestCodes.get(b)
    gh.manifestCodes.delete(b)
    const app = entry && entry.expiresAt >= gh.now() ? gh.state.app(entry.appId) : undefined
    if (!entry || !app) throw apiError(404, 'Not Found')
    return (
      sendJson(res, 201, {
        ...integration(gh, app),
        client_id: app.clientId,
        client_secret: app.clientSecret,
        webhook_secret: app.webhookSecret,
        pem: entry.pem,
      }),
      true
    )
  }
  const jwtPaths =
    a === 'app' ||
    (a === 'repos' && d === 'installation' && !e) ||
    ((a === 'orgs' || a === 'users') && c === 'installation' && !d)
  if (!jwtPaths) return false
  const app = appFromJwt(gh, r.req)
  if (a === 'repos') {
    const repo = gh.state.repo(b ?? '', c ?? '')
    const i = repo && gh.state.installationOn(app.id, repo.owner)
    if (!repo || !i || !gh.state.installationRepos(i).some((x) => x.id === repo.id))
      throw apiError(404, 'Not Found')
    return (sendJson(res, 200, installation(gh, i)), true)
  }
  if (a === 'orgs' || a === 'users') {
    const acct = gh.state.account(b ?? '')
    const i = gh.state.installationOn(app.id, b ?? '')
    if (!acct || (a === 'orgs') !== (acct.type === 'Organization') || !i)
      throw apiError(404, 'Not Found')
    return (sendJson(res, 200, installation(gh, i)), true)
  }
  if (!b && method === 'GET') return (sendJson(res, 200, integration(gh, app)), true)
  if (b === 'installations' && !c && method === 'GET') {
    const all = gh.state.data.installations.filter((x) => x.appId === app.id)
    const page = pageOf(gh, r.url, all)
    return (
      sendJson(
        res,
        200,
        page.items.map((x) => installation(gh, x)),
        page.headers,
      ),
      true
    )
  }
  if (b === 'installations' && c) {
    const i = installationOf(gh, app, c)
    if (!d && method === 'GET') return (sendJson(res, 200, installation(gh, i)), true)
    if (!d && method === 'DELETE') {
      uninstall(gh, i, app.owner)
      res.writeHead(204).end()
      return true
    }
    if (d === 'access_tokens' && !e && method === 'POST')
      return (await accessToken(gh, r, app, i), true)
    if (d === 'suspended' && !e && (method === 'PUT' || method === 'DELETE')) {
      setSuspended(gh, i, method === 'PUT', app.owner)
      res.writeHead(204).end()
      return true
    }
  }
  if (b === 'hook' && c === 'config' && !d) {
    if (method === 'PATCH') {
      const body = await readJson(r.req)
      if (body['url'] !== undefined) {
        if (typeof body['url'] !== 'string' || !/^https?:\/\//.test(body['url']))
          throw apiError(422, 'url must be an http(s) URL')
        app.webhookUrl = body['url']
      }
      if (body['secret'] !== undefined) app.webhookSecret = String(body['secret']) || null
      app.updatedAt = iso(gh.now())
      gh.state.save()
    } else if (method !== 'GET') throw new HttpError(404, 'Not Found')
    return (sendJson(res, 200, hookConfig(app)), true)
  }
  if (b === 'hook' && c === 'deliveries') {
    const mine = gh.hookLog.filter((x) => x.appId === app.id)
    if (!d && method === 'GET') {
      const perPage = Math.min(Number(r.url.searchParams.get('per_page') ?? '30') || 30, 100)
      const items = [...mine].reverse().slice(0, perPage)
      return (sendJson(res, 200, items.map(deliveryItem)), true)
    }
    const entry = mine.find((x) => String(x.id) === d)
    if (!entry) throw apiError(404, 'Not Found')
    if (!e && method === 'GET') return (sendJson(res, 200, deliveryItem(entry)), true)
    if (e === 'attempts' && method === 'POST') {
      if (!redeliver(gh, entry)) throw apiError(422, 'The webhook is gone: nothing to redeliver')
      return (sendJson(res, 202, {}), true)
    }
  }
  throw apiError(404, 'Not Found')
}
