/**
 * @module sandbox/github/apps
 * GitHub Apps and their installations, as both the admin API and the web pages (manifest flow,
 * install page) change them: creating an app (a generated RSA key whose PEM is shown once, or the
 * public half of a given one), installing on an account (all or selected repositories),
 * changing the selection, suspending, unsuspending and uninstalling — each sending the
 * `installation` or `installation_repositories` event GitHub sends.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { HttpError } from '../core/http.js'
import { iso, type Gh } from './context.js'
import { sendInstallationEvent, sendInstallationReposEvent } from './events.js'
import {
  DEFAULT_APP_PERMISSIONS,
  LEVELS,
  type GhApp,
  type GhInstallation,
  type Level,
  type Permissions,
} from './state.js'

export interface AppInput {
  name: string
  owner: string
  url?: string
  description?: string
  webhookUrl?: string | null
  webhookSecret?: string | null
  webhookActive?: boolean
  setupUrl?: string | null
  setupOnUpdate?: boolean
  callbackUrls?: string[]
  requestOAuthOnInstall?: boolean
  public?: boolean
  permissions?: Record<string, unknown>
  events?: unknown[]
  /** A PEM private key to use instead of a generated one. */
  privateKey?: string
}

export function checkPermissions(p: Record<string, unknown> | undefined): Permissions {
  if (p === undefined) return { ...DEFAULT_APP_PERMISSIONS }
  const out: Permissions = {}
  for (const [k, v] of Object.entries(p)) {
    if (!/^[a-z_]{1,64}$/.test(k) || !LEVELS.includes(v as Level))
      throw new HttpError(422, `Invalid permission ${k.slice(0, 64)}: ${String(v).slice(0, 20)}`)
    out[k] = v as Level
  }
  // Every app can read metadata.
  out['metadata'] ??= 'read'
  return out
}

const httpUrl = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || !/^https?:\/\/[^\s]+$/.test(v))
    throw new HttpError(422, `${what} must be an http(s) URL`)
  return v
}

/** Creates an app; `pem` is the private key when the sandbox generated it (shown once). */
export function createApp(gh: Gh, input: AppInput): { app: GhApp; pem?: string } {
  const { state } = gh
  const name = input.name.trim()
  if (!name || name.length > 34) throw new HttpError(422, 'Name must be 1–34 characters')
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
  if (!slug) throw new HttpError(422, 'Name must have letters or digits')
  if (state.data.apps.some((a) => a.slug === slug || a.name.toLowerCase() === name.toLowerCase()))
    throw new HttpError(422, 'Name has already been taken')
  if (!state.account(input.owner)) throw new HttpError(404, `No account '${input.owner}'`)
  let pem: string | undefined
  let publicKey: string
  if (input.privateKey) {
    let key
    try {
      key = createPrivateKey(input.privateKey)
    } catch {
      throw new HttpError(422, 'privateKey is not a PEM private key')
    }
    if (key.asymmetricKeyType !== 'rsa') throw new HttpError(422, 'privateKey is not an RSA key')
    publicKey = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString()
  } else {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
    pem = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
    publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
  const events = (input.events ?? ['push', 'pull_request']).map(String)
  const at = iso(gh.now())
  const id = state.newId()
  const app: GhApp = {
    id,
    slug,
    name,
    owner:
      state.account(input.owner)!.type === 'User'
        ? state.userByLogin(input.owner)!.username
        : state.org(input.owner)!.login,
    clientId: `Iv23${randomBytes(8).toString('hex')}`,
    clientSecret: randomBytes(20).toString('hex'),
    publicKey,
    description: input.description ?? '',
    url: input.url ? httpUrl(input.url, 'url') : `${gh.urls.web}/${input.owner}`,
    public: input.public ?? false,
    hookId: state.newId(),
    webhookUrl: input.webhookUrl ? httpUrl(input.webhookUrl, 'hook_attributes.url') : null,
    webhookSecret: input.webhookSecret ?? null,
    webhookActive: input.webhookActive ?? true,
    setupUrl: input.setupUrl ? httpUrl(input.setupUrl, 'setup_url') : null,
    setupOnUpdate: input.setupOnUpdate ?? false,
    callbackUrls: (input.callbackUrls ?? []).map((u) => httpUrl(u, 'callback_urls')),
    requestOAuthOnInstall: input.requestOAuthOnInstall ?? false,
    permissions: checkPermissions(input.permissions),
    events,
    createdAt: at,
    updatedAt: at,
  }
  state.data.apps.push(app)
  state.save()
  return pem ? { app, pem } : { app }
}

/**
 * Installs the app on `account` (or changes an existing installation's selection): `repos` null
 * for all repositories, else the selected ids (each must belong to the account).
 */
export function install(
  gh: Gh,
  app: GhApp,
  account: string,
  repos: number[] | null,
  sender: string,
): { installation: GhInstallation; action: 'install' | 'update' } {
  const { state } = gh
  const a = state.account(account)
  if (!a) throw new HttpError(404, `No account '${account}'`)
  const login = a.type === 'User' ? a.user.username : a.org.login
  if (
    !app.public &&
    app.owner.toLowerCase() !== login.toLowerCase() &&
    !state.administers(sender, app.owner)
  )
    throw new HttpError(403, 'This app is private: only its owner can install it')
  for (const id of repos ?? []) {
    const r = state.repoById(id)
    if (!r || r.owner.toLowerCase() !== login.toLowerCase())
      throw new HttpError(422, `Repository ${id} does not belong to ${login}`)
  }
  const at = iso(gh.now())
  const existing = state.installationOn(app.id, login)
  if (existing) {
    const beforeRepos = state.installationRepos(existing)
    existing.repositorySelection = repos === null ? 'all' : 'selected'
    existing.repositoryIds = repos ?? []
    existing.updatedAt = at
    state.save()
    const afterRepos = state.installationRepos(existing)
    sendInstallationReposEvent(
      gh,
      existing,
      afterRepos.filter((r) => !beforeRepos.some((b) => b.id === r.id)),
      beforeRepos.filter((r) => !afterRepos.some((b) => b.id === r.id)),
      sender,
    )
    return { installation: existing, action: 'update' }
  }
  const i: GhInstallation = {
    id: state.newId(),
    appId: app.id,
    account: login,
    repositorySelection: repos === null ? 'all' : 'selected',
    repositoryIds: repos ?? [],
    permissions: { ...app.permissions },
    events: [...app.events],
    createdAt: at,
    updatedAt: at,
    suspendedAt: null,
    suspendedBy: null,
  }
  state.data.installations.push(i)
  state.save()
  sendInstallationEvent(gh, i, 'created', sender)
  return { installation: i, action: 'install' }
}

export function setSuspended(gh: Gh, i: GhInstallation, suspended: boolean, by: string): void {
  if (!!i.suspendedAt === suspended) return
  i.suspendedAt = suspended ? iso(gh.now()) : null
  i.suspendedBy = suspended ? by : null
  i.updatedAt = iso(gh.now())
  gh.state.save()
  sendInstallationEvent(gh, i, suspended ? 'suspend' : 'unsuspend', by)
}

/** Deletes the installation and revokes its tokens (the event goes out first, as GitHub's). */
export function uninstall(gh: Gh, i: GhInstallation, by: string): void {
  sendInstallationEvent(gh, i, 'deleted', by)
  gh.state.data.installations = gh.state.data.installations.filter((x) => x.id !== i.id)
  for (const t of Object.values(gh.state.data.tokens))
    if (t.installationId === i.id) t.revoked = true
  gh.state.save()
}
