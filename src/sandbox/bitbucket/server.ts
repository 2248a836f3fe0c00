/**
 * @module sandbox/bitbucket/server
 * A local stand-in for Bitbucket Cloud, on one port, built on the sandbox core (core/): the OAuth
 * consent page and token endpoint (oauth.ts), the REST 2.0 endpoints Junction's adapter calls
 * (api.ts, hooks.ts, pullrequests.ts), archives and real Git over HTTP through `git http-backend`
 * with `x-token-auth` as Bitbucket checks it (web.ts), webhooks on pushes and pull-request events
 * (webhooks.ts, payloads.ts), and an admin API under `/_sandbox/` (admin.ts and the core's).
 */
import { randomBytes } from 'node:crypto'
import { addCommonEndpoints, AdminApi, COMMON_SETTINGS } from '../core/admin.js'
import { handleAuthorize } from '../core/consent.js'
import { Deliveries } from '../core/deliveries.js'
import { Failures } from '../core/failures.js'
import { startSandboxServer } from '../core/server.js'
import { addBitbucketEndpoints } from './admin.js'
import { api } from './api.js'
import type { Bb } from './context.js'
import { accessToken, consentOptions } from './oauth.js'
import { RateLimiter, type RateLimitSettings } from './rate-limit.js'
import * as render from './render.js'
import { SandboxState } from './state.js'
import { web } from './web.js'
import { bitbucketDeliveries } from './webhooks.js'

export interface BitbucketSandboxOptions {
  host?: string
  port?: number
  dataDir: string
  /** The OAuth consumer to make sure exists (Junction's). */
  consumer?: { key: string; secret?: string; callbackUrl: string }
  /** Bitbucket's API request limits (see rate-limit.ts); changed at run time via the admin API. */
  rateLimits?: Partial<RateLimitSettings>
}

export interface BitbucketSandbox {
  url: string
  apiUrl: string
  state: SandboxState
  rateLimits: RateLimiter
  consumer?: { key: string; secret: string; callbackUrl: string }
  /** Resolves when every webhook delivery started so far has finished (tests). */
  settled(): Promise<void>
  close(): Promise<void>
}

export async function startBitbucketSandbox(o: BitbucketSandboxOptions): Promise<BitbucketSandbox> {
  const state = new SandboxState(o.dataDir)
  let consumer: BitbucketSandbox['consumer']
  if (o.consumer) {
    const existing = state.consumer(o.consumer.key)
    const secret = o.consumer.secret ?? existing?.secret ?? randomBytes(24).toString('base64url')
    const c = { key: o.consumer.key, secret, callbackUrl: o.consumer.callbackUrl }
    state.data.consumers = state.data.consumers.filter((x) => x.key !== c.key).concat(c)
    state.save()
    consumer = c
  }
  const server = await startSandboxServer({
    name: 'bitbucket sandbox',
    port: o.port ?? 7990,
    dataDir: o.dataDir,
    errorBody: (message) => render.error(message),
    ...(o.host === undefined ? {} : { host: o.host }),
  })
  const delivery = bitbucketDeliveries(state)
  const bb: Bb = {
    state,
    urls: { web: server.url, api: `${server.url}/2.0` },
    limiter: new RateLimiter(o.rateLimits),
    failures: new Failures(),
    deliveries: new Deliveries({
      ...delivery,
      records: state.deliveries,
      track: (p) => server.track(p),
    }),
  }

  const admin = new AdminApi()
  addBitbucketEndpoints(admin, bb)
  addCommonEndpoints(admin, {
    service: 'bitbucket-sandbox',
    about: () => ({ web: bb.urls.web, api: bb.urls.api }),
    settings: {
      specs: COMMON_SETTINGS,
      values: state.data.settings as unknown as Record<string, unknown>,
      save: () => state.save(),
    },
    settingsDoc: 'PUT /_sandbox/settings {accessTokenLifetimeSeconds?, maxPagelen?, tokenDelayMs?}',
    failures: bb.failures,
    deliveries: bb.deliveries,
    deliveryMatches: delivery.matches,
    stats: () => ({ ...state.stats, hooks: state.data.hooks.length }),
    rateLimits: bb.limiter,
    rateLimitsDoc:
      'GET|PUT|DELETE /_sandbox/rate-limits {enabled?, windowMs?, repositories?, webhooks?, anonymous?, seats?}',
  })

  const consent = consentOptions(state)
  server.route(
    async (r) => {
      if (r.url.pathname === '/site/oauth2/authorize') await handleAuthorize(r, consent)
      else if (r.url.pathname === '/site/oauth2/access_token') await accessToken(state, r)
      else if (r.parts[0] === '2.0') await api(bb, r)
      else return false
      return true
    },
    admin.route,
    async (r) => {
      await web(bb, r)
      return true
    },
  )

  const sandbox: BitbucketSandbox = {
    url: bb.urls.web,
    apiUrl: bb.urls.api,
    state,
    rateLimits: bb.limiter,
    settled: () => server.settled(),
    close: () => server.close(),
  }
  if (consumer) sandbox.consumer = consumer
  return sandbox
}
