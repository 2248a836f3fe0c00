/**
 * @module sandbox/github/server
 * A local stand-in for GitHub (or, with `enterprise`, GitHub Enterprise Server) built on the
 * sandbox core (core/): the manifest flow (manifest.ts), the app install page and user
 * authorization (install.ts, session.ts), the REST endpoints the adapter calls — app JWT ones
 * (apps-api.ts) and token ones (api.ts) — at the root (github.com mode, where api.github.com and
 * github.com share the sandbox's origin) or under `/api/v3` (enterprise), real Git over HTTP with
 * `x-access-token` or a fine-grained personal access token (web.ts, pat.ts), rate limits
 * (rate-limit.ts), archives on a second listener (codeload, another origin), app
 * webhooks (deliver.ts, events.ts) and an admin API under `/_sandbox/` (admin.ts and the core's).
 */
import { randomBytes } from 'node:crypto'
import { addCommonEndpoints, AdminApi, COMMON_SETTINGS } from '../core/admin.js'
import { Deliveries } from '../core/deliveries.js'
import { Failures } from '../core/failures.js'
import { startSandboxServer } from '../core/server.js'
import { addGitHubEndpoints } from './admin.js'
import { api } from './api.js'
import { ghError, type Gh } from './context.js'
import { deliveryOptions } from './deliver.js'
import { accessTokenEndpoint, authorizePage, installPage } from './install.js'
import { manifestPage } from './manifest.js'
import { addPatEndpoints } from './pat.js'
import { addRateLimitEndpoints } from './rate-limit.js'
import { GitHubState } from './state.js'
import { codeload, gitRoute } from './web.js'

export interface GitHubSandboxOptions {
  host?: string
  /** The web (and API) port; default 7991. */
  port?: number
  /** The codeload listener's port; default any free one. */
  codeloadPort?: number
  dataDir: string
  /** GitHub Enterprise Server: the API under `/api/v3`, install pages under `/github-apps/`. */
  enterprise?: boolean
  /** The real time to start from (a test's clock); the admin API's offset is added to it. */
  now?: () => number
}

export interface GitHubSandbox {
  url: string
  apiUrl: string
  codeloadUrl: string
  enterprise: boolean
  state: GitHubState
  gh: Gh
  /** Resolves when every webhook delivery started so far has finished (tests). */
  settled(): Promise<void>
  close(): Promise<void>
}

export async function startGitHubSandbox(o: GitHubSandboxOptions): Promise<GitHubSandbox> {
  const state = new GitHubState(o.dataDir)
  const enterprise = o.enterprise ?? false
  const host = o.host === undefined ? {} : { host: o.host }
  const errorBody = (message: string) => ghError(message)
  const server = await startSandboxServer({
    name: 'github sandbox',
    port: o.port ?? 7991,
    dataDir: o.dataDir,
    errorBody,
    ...host,
  })
  const cl = await startSandboxServer({
    name: 'github sandbox codeload',
    port: o.codeloadPort ?? 0,
    dataDir: o.dataDir,
    errorBody,
    ...host,
  })
  const real = o.now ?? Date.now
  const gh: Gh = {
    state,
    urls: {
      web: server.url,
      api: enterprise ? `${server.url}/api/v3` : server.url,
      codeload: cl.url,
    },
    enterprise,
    failures: new Failures(),
    deliveries: undefined as unknown as Deliveries,
    now: () => real() + (state.data.settings.clockOffsetMs ?? 0),
    jwtNow: real,
    sessions: new Map(),
    manifestCodes: new Map(),
    hookLog: [],
    track: (p) => server.track(p),
    chain: Promise.resolve(),
    codeloadKey: randomBytes(32),
  }
  gh.deliveries = new Deliveries({ ...deliveryOptions(gh), track: (p) => server.track(p) })

  const admin = new AdminApi()
  addGitHubEndpoints(admin, gh)
  addPatEndpoints(admin, gh)
  addRateLimitEndpoints(admin, gh)
  addCommonEndpoints(admin, {
    service: enterprise ? 'github-enterprise-sandbox' : 'github-sandbox',
    about: () => ({ web: gh.urls.web, api: gh.urls.api, codeload: gh.urls.codeload, enterprise }),
    settings: {
      specs: COMMON_SETTINGS,
      values: state.data.settings as unknown as Record<string, unknown>,
      save: () => state.save(),
    },
    settingsDoc: 'PUT /_sandbox/settings {maxPagelen?}',
    failures: gh.failures,
    deliveries: gh.deliveries,
    stats: () => ({ ...state.stats, deliveries: gh.hookLog.length }),
  })

  const apps = enterprise ? 'github-apps' : 'apps'
  server.route(admin.route, async (r) => {
    const p = r.parts
    const path = r.url.pathname
    if (path === '/settings/apps/new') await manifestPage(gh, r)
    else if (
      p[0] === 'organizations' &&
      p[2] === 'settings' &&
      p[3] === 'apps' &&
      p[4] === 'new' &&
      p.length === 5
    )
      await manifestPage(gh, r, p[1])
    else if (
      (p[0] === apps || p[0] === 'apps') &&
      p[1] &&
      p[2] === 'installations' &&
      p[3] === 'new' &&
      p.length === 4
    )
      await installPage(gh, r, p[1])
    else if (path === '/login/oauth/authorize') await authorizePage(gh, r)
    else if (path === '/login/oauth/access_token') await accessTokenEndpoint(gh, r)
    else if (await gitRoute(gh, r)) return true
    else if (enterprise && p[0] === 'api' && p[1] === 'v3') await api(gh, r, p.slice(2))
    else if (!enterprise) await api(gh, r, p)
    else return false
    return true
  })
  cl.route((r) => {
    if (r.method !== 'GET') return false
    codeload(gh, r)
    return true
  })

  return {
    url: gh.urls.web,
    apiUrl: gh.urls.api,
    codeloadUrl: gh.urls.codeload,
    enterprise,
    state,
    gh,
    settled: () => server.settled(),
    close: async () => {
      await cl.close()
      await server.close()
    },
  }
}
