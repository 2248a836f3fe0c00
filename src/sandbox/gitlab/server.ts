/**
 * @module sandbox/gitlab/server
 * A local stand-in for GitLab.com (or, with `selfManaged`, a self-managed GitLab) built on the
 * sandbox core (core/): web, REST and Git on one origin as GitLab serves them — the OAuth 2.0
 * provider at `/oauth/*` (oauth.ts), the REST API at `/api/v4` (api.ts, api-project.ts,
 * hooks.ts), Git over HTTP at `/<namespace>/<project>.git` (web.ts) — project webhooks
 * (events.ts, payloads.ts) and the admin API under `/_sandbox/` (admin.ts, admin-mrs.ts and the
 * core's). docs/sandbox-gitlab.md describes it.
 */
import { addCommonEndpoints, AdminApi, COMMON_SETTINGS, type SettingSpec } from '../core/admin.js'
import { handleAuthorize } from '../core/consent.js'
import { Deliveries } from '../core/deliveries.js'
import { Failures } from '../core/failures.js'
import { startSandboxServer } from '../core/server.js'
import { addGitLabEndpoints } from './admin.js'
import { api } from './api.js'
import { errorBody, type Gl } from './context.js'
import { deliveryOptions } from './events.js'
import { consentOptions, revokeEndpoint, tokenEndpoint, tokenInfoEndpoint } from './oauth.js'
import { rateLimitAdmin } from './rate-limit.js'
import { GitLabState } from './state.js'
import { gitRoute } from './web.js'

export interface GitLabSandboxOptions {
  host?: string
  /** Default 7992. */
  port?: number
  dataDir: string
  /** A self-managed instance (an instance administrator, the Applications API). */
  selfManaged?: boolean
  /** The real time to start from (a test's clock); the admin API's offset is added to it. */
  now?: () => number
}

export interface GitLabSandbox {
  url: string
  apiUrl: string
  selfManaged: boolean
  state: GitLabState
  gl: Gl
  settled(): Promise<void>
  close(): Promise<void>
}

const bool = (key: string): SettingSpec => ({
  key,
  check: (v) =>
    v !== null && typeof v !== 'boolean' ? `${key} is true, false or null` : undefined,
})
const count = (key: string): SettingSpec => ({
  key,
  check: (v) =>
    v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      ? `${key} is a whole number or null`
      : undefined,
})

export const GITLAB_SETTINGS: SettingSpec[] = [
  ...COMMON_SETTINGS,
  bool('adminMode'),
  bool('redactAuthorEmails'),
  bool('compareTimeout'),
  count('diffMaxFiles'),
  bool('hideDefaultBranch'),
  count('pushEventHooksLimit'),
]

export async function startGitLabSandbox(o: GitLabSandboxOptions): Promise<GitLabSandbox> {
  const state = new GitLabState(o.dataDir)
  const selfManaged = o.selfManaged ?? false
  const server = await startSandboxServer({
    name: 'gitlab sandbox',
    port: o.port ?? 7992,
    dataDir: o.dataDir,
    errorBody,
    ...(o.host === undefined ? {} : { host: o.host }),
  })
  const real = o.now ?? Date.now
  const gl: Gl = {
    state,
    url: server.url,
    api: `${server.url}/api/v4`,
    selfManaged,
    instance: selfManaged ? server.url : 'https://gitlab.com',
    version: '18.5.0',
    failures: new Failures(),
    deliveries: undefined as unknown as Deliveries,
    now: () => real() + (state.data.settings.clockOffsetMs ?? 0),
    track: (p) => server.track(p),
    codes: new Map(),
    eventUuids: new Map(),
    currentEvent: '',
    rate: new Map(),
  }
  gl.deliveries = new Deliveries({ ...deliveryOptions(gl), track: (p) => server.track(p) })

  const admin = new AdminApi()
  addGitLabEndpoints(admin, gl)
  addCommonEndpoints(admin, {
    service: selfManaged ? 'gitlab-self-managed-sandbox' : 'gitlab-sandbox',
    about: () => ({ web: gl.url, api: gl.api, selfManaged, instance: gl.instance }),
    settings: {
      specs: GITLAB_SETTINGS,
      values: state.data.settings as unknown as Record<string, unknown>,
      save: () => state.save(),
    },
    settingsDoc:
      'PUT /_sandbox/settings {accessTokenLifetimeSeconds?, adminMode?, redactAuthorEmails?, compareTimeout?, diffMaxFiles?, hideDefaultBranch?, pushEventHooksLimit?, maxPagelen?, tokenDelayMs?}',
    failures: gl.failures,
    deliveries: gl.deliveries,
    rateLimits: rateLimitAdmin(gl),
    rateLimitsDoc: 'PUT /_sandbox/rate-limits {limit, windowSeconds} (GET shows, DELETE resets)',
    stats: () => ({ ...state.stats, deliveries: gl.deliveries.records.length }),
  })

  const consent = consentOptions(gl)
  server.route(admin.route, async (r) => {
    const path = r.url.pathname
    if (path === '/oauth/authorize') await handleAuthorize(r, consent)
    else if (path === '/oauth/token') await tokenEndpoint(gl, r)
    else if (path === '/oauth/revoke' && r.method === 'POST') await revokeEndpoint(gl, r)
    else if (path === '/oauth/token/info' && r.method === 'GET') tokenInfoEndpoint(gl, r)
    else if (r.parts[0] === 'api' && r.parts[1] === 'v4') await api(gl, r, r.parts.slice(2))
    else return gitRoute(gl, r)
    return true
  })

  return {
    url: gl.url,
    apiUrl: gl.api,
    selfManaged,
    state,
    gl,
    settled: () => server.settled(),
    close: () => server.close(),
  }
}
