/**
 * Junction's GitHub App in one click (issue 13 items 2 and 5), end to end through an HTTP client:
 * the console's button (root, CSRF) or StartGitHubAppRegistration gives a one-time link; the page
 * POSTs the manifest to the sandbox GitHub's manifest page; the sandbox's user confirms; the
 * redirect comes back; Junction converts the code and stores the app sealed. The private key works
 * (an app JWT signed with the stored key passes the sandbox's GET /app), and never appears in a
 * response or a log line. Forged, expired and reused states and another browser are refused with
 * nothing stored; IAM users may not start it. A GitHub Enterprise Server host (sandbox in
 * enterprise mode) goes PENDING → AVAILABLE with its own app.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MasterKey } from '../../src/crypto/master-key.js'
import { createAppJwt } from '../../src/providers/github/app-jwt.js'
import { startGitHubSandbox, type GitHubSandbox } from '../../src/sandbox/github/server.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { testEngines } from '../helpers/engines.js'
import { consoleSignIn, FormBrowser as Browser, throughGitHub } from '../helpers/github-app.js'
import { iamClient, userWithPolicy } from '../helpers/iam.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import {
  CreateHostCommand,
  DeleteHostCommand,
  GetHostCommand,
} from '@aws-sdk/client-codestar-connections'

for (const engine of testEngines()) {
  describe(`GitHub App manifest flow (${engine})`, () => {
    let sb: GitHubSandbox
    let ghes: GitHubSandbox
    let server: TestServer
    let dirs: string[] = []
    let offset = 0
    const logs: string[] = []
    const user = { login: 'octo-admin', password: 'sandbox-pass-1' }
    beforeAll(async () => {
      dirs = [mkdtempSync(join(tmpdir(), 'gh-sb-')), mkdtempSync(join(tmpdir(), 'ghes-sb-'))]
      sb = await startGitHubSandbox({ port: 0, dataDir: dirs[0]!, host: '127.0.0.1' })
      ghes = await startGitHubSandbox({
        port: 0,
        dataDir: dirs[1]!,
        host: '127.0.0.1',
        enterprise: true,
      })
      for (const s of [sb, ghes]) {
        const r = await fetch(`${s.url}/_sandbox/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: user.login, password: user.password }),
        })
        expect(r.status).toBe(201)
        await fetch(`${s.url}/_sandbox/orgs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ login: 'acme', admins: [user.login] }),
        })
      }
      const sink = new Writable({
        write(chunk: Buffer, _e, cb) {
          logs.push(chunk.toString())
          cb()
        },
      })
      server = await startTestServer(
        engine,
        { 'github-url': sb.url, 'github-api-url': sb.apiUrl } as never,
        {},
        { logger: pino({ level: 'debug' }, sink), clock: () => Date.now() + offset },
      )
    }, 60_000)
    afterAll(async () => {
      await server?.stop()
      await sb?.close()
      await ghes?.close()
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    })

    const stored = (host = '') =>
      server.store.providerApps.get(host ? 'GitHubEnterpriseServer' : 'GitHub', host)
    const raw = () => new RawClient(server.url, server.credentials, () => Date.now() + offset)

    it('creates the app from the console settings, stores it sealed, and its key works', async () => {
      const b = new Browser()
      const csrf = await consoleSignIn(b, server.url, server.credentials)
      const settings = await b.go(`${server.url}/console/settings`)
      expect(settings.text).toContain('Create GitHub App')
      // CSRF: without the token nothing starts.
      const forged = await b.go(`${server.url}/console/settings/github-app`, {
        form: { organization: 'acme' },
      })
      expect(forged.status).toBe(403)
      const r = await b.go(`${server.url}/console/settings/github-app`, {
        form: { csrf, organization: 'acme', name: 'Junction test app' },
      })
      expect(r.status).toBe(303)
      expect(r.location).toMatch(new RegExp(`^${server.url}/console/github-app/start\\?t=`))
      const { start, manifest, back } = await throughGitHub(b, r.location, user)
      expect(manifest).toEqual({
        name: 'Junction test app',
        url: server.url,
        hook_attributes: { url: `${server.url}/webhooks/github`, active: true },
        redirect_url: `${server.url}/console/github-app/created`,
        callback_urls: [`${server.url}/oauth/github/callback`],
        setup_url: `${server.url}/oauth/github/callback`,
        setup_on_update: true,
        request_oauth_on_install: true,
        public: false,
        default_permissions: { contents: 'read', metadata: 'read', pull_requests: 'read' },
        default_events: ['push', 'pull_request'],
      })
      expect(start.text).toContain(`${sb.url}/organizations/acme/settings/apps/new?state=`)
      expect(back).toMatch(new RegExp(`^${server.url}/console/github-app/created\\?code=`))
      const browserCookies = new Map(b.jar.get(new URL(server.url).host))
      const created = await b.go(back)
      expect(created.status).toBe(200)
      expect(created.text).toContain('GitHub App registered')
      const rec = (await stored())!
      expect(rec.slug).toBe('junction-test-app')
      // The stored key is the app's: an app JWT signed with it passes GitHub's GET /app.
      const key = MasterKey.load(server.dataDir, {})
      const pem = key.decrypt(rec.privateKeyCiphertext!)
      const jwt = createAppJwt({ issuer: rec.appId!, privateKey: pem })
      const app = await fetch(`${sb.apiUrl}/app`, {
        headers: { authorization: `Bearer ${jwt.token}` },
      })
      expect(app.status).toBe(200)
      expect(((await app.json()) as { slug: string }).slug).toBe('junction-test-app')
      // Sealed, and never shown: not in the row, the pages or the logs.
      const secrets = [
        pem,
        key.decrypt(rec.secretCiphertext),
        key.decrypt(rec.webhookSecretCiphertext!),
      ]
      const body = pem.split('\n')[1]!
      const after = await b.go(`${server.url}/console/settings`)
      expect(after.text).toContain('junction-test-app')
      for (const text of [JSON.stringify(rec), created.text, after.text, logs.join('')])
        for (const s of [...secrets, body]) expect(text).not.toContain(s)
      // Reused (even by the same browser, its cookie restored): refused, nothing more stored.
      b.jar.set(new URL(server.url).host, browserCookies)
      const again = await b.go(back)
      expect(again.status).toBe(400)
      expect(again.text).toContain('used already')
      expect((await stored())!.updatedAt).toBe(rec.updatedAt)
    })

    it('refuses a forged, expired or reused link or state, and another browser; nothing stored', async () => {
      const before = await stored()
      const start = async () => {
        const r = await raw().call({
          target: 'JunctionConnections_20261128.StartGitHubAppRegistration',
          service: 'codestar-connections',
          body: { Name: `Junction refusals ${Math.random().toString(36).slice(2, 8)}` },
        })
        expect(r.status).toBe(200)
        return r.json['Url'] as string
      }
      // A forged link.
      const b = new Browser()
      const link = await start()
      const forgedLink = link.replace(/t=([^.]+)\./, (_m, p: string) => `t=${p.slice(0, -2)}AA.`)
      expect((await b.go(forgedLink)).status).toBe(400)
      // A link used twice.
      const { back } = await throughGitHub(b, link, user)
      expect((await b.go(link)).status).toBe(400)
      // Another browser (no cookie of the one that opened the link).
      const other = new Browser()
      const stolen = await other.go(back)
      expect(stolen.status).toBe(403)
      // A forged state.
      const u = new URL(back)
      const state = u.searchParams.get('state')!
      u.searchParams.set('state', `${state.slice(0, -3)}xyz`)
      expect((await b.go(u.toString())).status).toBe(400)
      // Expired: an hour and a minute later.
      offset += 61 * 60_000
      try {
        const late = await b.go(back)
        expect(late.status).toBe(400)
        expect(late.text).toContain('expired')
        // An expired link too (10 minutes).
        expect((await b.go(await start())).status).toBe(200)
        const old = await start()
        offset += 11 * 60_000
        expect((await b.go(old)).status).toBe(400)
      } finally {
        offset = 0
      }
      expect(await stored()).toEqual(before)
    })

    it('only the account root starts it', async () => {
      const iam = iamClient(server.url, server.credentials)
      const key = await userWithPolicy(
        iam,
        `ghapp-${Date.now() % 100000}`,
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
        }),
      )
      iam.destroy()
      const r = await new RawClient(server.url, key).call({
        target: 'JunctionConnections_20261128.StartGitHubAppRegistration',
        service: 'codestar-connections',
        body: {},
      })
      expect(r.json.__type).toMatch(/AccessDeniedException/)
      const b = new Browser()
      const csrf = await consoleSignIn(b, server.url, key)
      expect((await b.go(`${server.url}/console/settings`)).text).toContain('Only the account root')
      const refused = await b.go(`${server.url}/console/settings/github-app`, { form: { csrf } })
      expect(refused.status).toBe(400)
      expect(refused.text).toContain('AccessDeniedException')
    })

    it('sets up a GitHub Enterprise Server host: PENDING → AVAILABLE with its own app', async () => {
      const sdk = sdkClient(server.url, server.credentials)
      const { HostArn } = await sdk.send(
        new CreateHostCommand({
          Name: 'ghes',
          ProviderType: 'GitHubEnterpriseServer',
          ProviderEndpoint: ghes.url,
        }),
      )
      expect((await sdk.send(new GetHostCommand({ HostArn }))).Status).toBe('PENDING')
      const b = new Browser()
      const csrf = await consoleSignIn(b, server.url, server.credentials)
      const page = await b.go(`${server.url}/console/host?arn=${encodeURIComponent(HostArn!)}`)
      expect(page.text).toContain('Set up host')
      const r = await b.go(`${server.url}/console/host/setup`, { form: { csrf, arn: HostArn! } })
      expect(r.status).toBe(303)
      const { start, back } = await throughGitHub(b, r.location, user)
      expect(start.text).toContain(`${ghes.url}/settings/apps/new?state=`)
      expect((await b.go(back)).status).toBe(200)
      expect((await sdk.send(new GetHostCommand({ HostArn }))).Status).toBe('AVAILABLE')
      const rec = (await stored(HostArn!))!
      const pem = MasterKey.load(server.dataDir, {}).decrypt(rec.privateKeyCiphertext!)
      const jwt = createAppJwt({ issuer: rec.appId!, privateKey: pem })
      const app = await fetch(`${ghes.apiUrl}/app`, {
        headers: { authorization: `Bearer ${jwt.token}` },
      })
      expect(app.status).toBe(200)
      // The github.com app is another one.
      expect(rec.hostArn).toBe(HostArn)
      expect((await stored())?.clientId).not.toBe(rec.clientId)
      // A host that is not GitHub Enterprise Server, or unknown: refused at the start.
      const bad = await raw().call({
        target: 'JunctionConnections_20261128.StartGitHubAppRegistration',
        service: 'codestar-connections',
        body: { HostArn: HostArn!.replace(/host\/.*/, 'host/none-00000000') },
      })
      expect(bad.json.__type).toMatch(/ResourceNotFoundException/)
      // Deleting the host deletes its app, secrets and all.
      await sdk.send(new DeleteHostCommand({ HostArn }))
      expect(await stored(HostArn!)).toBeUndefined()
      expect(await stored()).toBeDefined()
      sdk.destroy()
    })
  })
}
