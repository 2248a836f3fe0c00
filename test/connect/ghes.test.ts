/**
 * GitHub Enterprise Server connections through a host (issue 13 item 5), on the sandbox GitHub in
 * enterprise mode: CreateHost → "Set up host" (the manifest flow on the host) → AVAILABLE with the
 * host's own app; CreateConnection with that HostArn → CompleteConnection with an installation of
 * the host's app (verified on the host with its app JWT) → AVAILABLE; GetCloneCredentials and a
 * git clone from the host through them; a push's app webhook, sent by the host to its own route
 * (`/webhooks/github/<host-id>`, set by the host app's manifest) and signed with the host app's
 * secret, recorded; a delivery signed with the github.com app's secret at that route refused.
 */
import { execFile } from 'node:child_process'
import { createHmac, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  CreateConnectionCommand,
  CreateHostCommand,
  GetConnectionCommand,
  GetHostCommand,
  type CodeStarConnectionsClient,
} from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RawClient, sdkClient } from '../helpers/client.js'
import { testEngines } from '../helpers/engines.js'
import { consoleSignIn, FormBrowser, throughGitHub } from '../helpers/github-app.js'
import {
  seedGhWorld,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const run = promisify(execFile)
const ACCOUNT = '000000000000'
/** The github.com app's webhook secret (the seeded app, configured by flags). */
const CLOUD_SECRET = 'hook-secret'

for (const engine of testEngines()) {
  describe(`GitHub Enterprise Server connections through a host [${engine}]`, () => {
    let ghes: GhSandbox
    let world: GhWorld
    let server: TestServer
    let sdk: CodeStarConnectionsClient
    let raw: RawClient
    let hostArn: string
    let hostId: string
    let arn: string
    let installationId: number
    let dir: string

    beforeAll(async () => {
      ghes = await startGhSandbox({ enterprise: true })
      world = await seedGhWorld(ghes)
      dir = mkdtempSync(join(tmpdir(), 'ghes-'))
      const key = join(dir, 'cloud.pem')
      writeFileSync(key, world.app.privateKey)
      // A github.com app too (here the seeded one), so the host's route is seen to use the
      // host's own app and not it.
      server = await startTestServer(engine, {
        'github-url': ghes.url,
        'github-api-url': ghes.apiUrl,
        'github-app-id': String(world.app.id),
        'github-app-slug': world.app.slug,
        'github-private-key-file': key,
        'github-client-id': world.app.clientId,
        'github-client-secret': world.app.clientSecret,
        'github-webhook-secret': CLOUD_SECRET,
      })
      sdk = sdkClient(server.url, server.credentials)
      raw = new RawClient(server.url, server.credentials)
    }, 60_000)
    afterAll(async () => {
      sdk?.destroy()
      await server?.stop()
      await ghes?.stop()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const ext = (operation: string, body: Record<string, unknown>) =>
      raw.call({
        target: `JunctionConnections_20261128.${operation}`,
        service: 'codestar-connections',
        body,
      })

    it('sets up the host through the manifest flow on it: PENDING → AVAILABLE', async () => {
      hostArn = (
        await sdk.send(
          new CreateHostCommand({
            Name: 'ghes',
            ProviderType: 'GitHubEnterpriseServer',
            ProviderEndpoint: ghes.url,
          }),
        )
      ).HostArn!
      hostId = hostArn.slice(hostArn.lastIndexOf('/') + 1)
      expect((await sdk.send(new GetHostCommand({ HostArn: hostArn }))).Status).toBe('PENDING')
      const b = new FormBrowser()
      const csrf = await consoleSignIn(b, server.url, server.credentials)
      const r = await b.go(`${server.url}/console/host/setup`, { form: { csrf, arn: hostArn } })
      expect(r.status).toBe(303)
      const { manifest, back } = await throughGitHub(b, r.location, {
        login: world.alice.username,
        password: world.alice.password,
      })
      // The host's app sends its webhooks to the host's own route.
      expect(manifest['hook_attributes']).toEqual({
        url: `${server.url}/webhooks/github/${hostId}`,
        active: true,
      })
      expect((await b.go(back)).status).toBe(200)
      expect((await sdk.send(new GetHostCommand({ HostArn: hostArn }))).Status).toBe('AVAILABLE')
      const app = (await server.store.providerApps.get('GitHubEnterpriseServer', hostArn))!
      expect(app.slug).toBeTruthy()
      installationId = (
        await ghes.admin<{ id: number }>('installations', {
          app: app.slug,
          account: 'acme',
          repositories: ['app', 'lib'],
        })
      ).id
    })

    it('completes a connection with the HostArn by an installation verified on the host', async () => {
      arn = (
        await sdk.send(
          new CreateConnectionCommand({
            ProviderType: 'GitHubEnterpriseServer',
            ConnectionName: 'ghes-conn',
            HostArn: hostArn,
          }),
        )
      ).ConnectionArn!
      // The seeded github.com app's installation is not one of the host's app.
      const foreign = await ext('CompleteConnection', {
        ConnectionArn: arn,
        InstallationId: String(world.installationId),
      })
      expect(foreign.status).toBeGreaterThanOrEqual(400)
      expect(foreign.status).toBeLessThan(500)
      const r = await ext('CompleteConnection', {
        ConnectionArn: arn,
        InstallationId: String(installationId),
      })
      expect(r.status).toBe(200)
      expect(r.json['Installation']).toMatchObject({
        InstallationId: String(installationId),
        ProviderType: 'GitHubEnterpriseServer',
        Workspace: 'acme',
        Status: 'AVAILABLE',
      })
      const c = (await sdk.send(new GetConnectionCommand({ ConnectionArn: arn }))).Connection!
      expect(c).toMatchObject({ ConnectionStatus: 'AVAILABLE', HostArn: hostArn })
      const inst = await server.store.installations.get(ACCOUNT, String(installationId))
      expect(inst?.hostArn).toBe(hostArn)
    })

    it("sends the handshake's browser to the app's installation page on the host", async () => {
      const pending = (
        await sdk.send(
          new CreateConnectionCommand({
            ProviderType: 'GitHubEnterpriseServer',
            ConnectionName: 'ghes-browser',
            HostArn: hostArn,
          }),
        )
      ).ConnectionArn!
      const start = await ext('StartOAuthHandshake', { ConnectionArn: pending })
      expect(start.status).toBe(200)
      const link = String(start.json['AuthorizationUrl'])
      expect(link.startsWith(`${server.url}/oauth/github/begin?t=`)).toBe(true)
      const begin = await fetch(link, { redirect: 'manual' })
      expect(begin.status).toBe(302)
      const slug = (await server.store.providerApps.get('GitHubEnterpriseServer', hostArn))!.slug!
      const to = new URL(begin.headers.get('location')!)
      expect(`${to.origin}${to.pathname}`).toBe(`${ghes.url}/github-apps/${slug}/installations/new`)
      // The host serves that page (its install flow).
      expect((await fetch(to, { redirect: 'manual' })).status).toBeLessThan(400)
    })

    it('hands out clone credentials for the host that git clones with', async () => {
      const r = await ext('GetCloneCredentials', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
      })
      expect(r.status).toBe(200)
      expect(r.json).toMatchObject({
        CloneUrl: `${ghes.url}/acme/app.git`,
        Username: 'x-access-token',
      })
      const u = new URL(String(r.json['CloneUrl']))
      u.username = String(r.json['Username'])
      u.password = String(r.json['Password'])
      await run('git', ['clone', '-q', u.toString(), join(dir, 'app')], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      })
      const { stdout } = await run('git', ['-C', join(dir, 'app'), 'log', '--format=%H', 'main'])
      expect(stdout.trim().split('\n').slice(-2)).toEqual([
        world.commits.second,
        world.commits.first,
      ])
    })

    it("records a push the host's app delivers to the host's route; refuses the github.com app's signature there", async () => {
      const w = await server.webhooks.ensure(ACCOUNT, arn, 'acme/app')
      expect(w).toMatchObject({ providerHookId: 'app', providerType: 'GitHubEnterpriseServer' })
      const pushed = await ghes.admin<{ sha: string }>('repositories/acme/app/commits', {
        message: 'Third',
        files: { 'c.txt': 'c\n' },
        author: 'alice',
      })
      // Barrier: the sandbox's delivery of that push to the host route has been answered.
      await vi.waitFor(
        async () => {
          const log = await server.store.webhooks.deliveries(w.id, 0, 10)
          expect(log.map((d) => JSON.parse(d.event) as { commitId?: string })).toEqual([
            expect.objectContaining({ kind: 'push', installationId: String(installationId) }),
          ])
        },
        { timeout: 20_000, interval: 100 },
      )
      const [recorded] = await server.store.webhooks.deliveries(w.id, 0, 10)
      expect(recorded!.event).toContain(pushed.sha)
      // The same kind of delivery signed with the github.com app's secret: refused, not recorded.
      const body = Buffer.from(
        JSON.stringify({
          ref: 'refs/heads/main',
          before: pushed.sha,
          after: 'f'.repeat(40),
          created: false,
          deleted: false,
          forced: false,
          commits: [],
          head_commit: { id: 'f'.repeat(40), message: 'x' },
          repository: { id: 1, full_name: 'acme/app', name: 'app', owner: { login: 'acme' } },
          installation: { id: installationId },
        }),
      )
      const id = randomUUID()
      const forged = await fetch(`${server.url}/webhooks/github/${hostId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': id,
          'x-hub-signature-256': `sha256=${createHmac('sha256', CLOUD_SECRET).update(body).digest('hex')}`,
        },
        body,
      })
      expect(forged.status).toBe(401)
      // An unknown host id has no app.
      const unknown = await fetch(`${server.url}/webhooks/github/none-00000000`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
      expect(unknown.status).toBe(404)
      expect(await server.store.webhooks.deliveries(w.id, 0, 10)).toHaveLength(1)
    })
  })
}
