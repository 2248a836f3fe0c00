/**
 * GitHub connections on the sandbox GitHub (its app JWT and installation checks are real):
 * CompleteConnection with an installation id (verified with the app's key, authorized on that
 * InstallationId) and with a personal access token; the one app-level webhook
 * (`/webhooks/github`): verified with the app's secret, size-capped, deduplicated on
 * X-GitHub-Delivery and on the signed body, routed by installation to the account's watched
 * repository; installation events move the connection to ERROR and back.
 */
import { createHmac, randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CodeStarConnectionsClient } from '@aws-sdk/client-codestar-connections'
import { CreateConnectionCommand, GetConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, sdkClient } from '../helpers/client.js'
import { testEngines } from '../helpers/engines.js'
import {
  seedGhWorld,
  startGhSandbox,
  type GhSandbox,
  type GhWorld,
} from '../helpers/github-sandbox.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const ACCOUNT = '000000000000'
const SECRET = 'hook-secret'

for (const engine of testEngines()) {
  describe(`GitHub App connections [${engine}]`, () => {
    let sb: GhSandbox
    let world: GhWorld
    let server: TestServer
    let sdk: CodeStarConnectionsClient
    let raw: RawClient
    let arn: string
    let hookId: string

    beforeAll(async () => {
      sb = await startGhSandbox()
      world = await seedGhWorld(sb)
      const dir = mkdtempSync(join(tmpdir(), 'gh-app-'))
      const key = join(dir, 'app.pem')
      writeFileSync(key, world.app.privateKey)
      // Secrets by flag here (the test's own process environment is not the server's).
      server = await startTestServer(engine, {
        'github-url': sb.url,
        'github-api-url': sb.url,
        'github-app-id': String(world.app.id),
        'github-app-slug': world.app.slug,
        'github-private-key-file': key,
        'github-client-id': world.app.clientId,
        'github-client-secret': world.app.clientSecret,
        'github-webhook-secret': SECRET,
      })
      sdk = sdkClient(server.url, server.credentials)
      raw = new RawClient(server.url, server.credentials)
    })
    afterAll(async () => {
      sdk?.destroy()
      await server?.stop()
      await sb?.stop()
    })

    const ext = (operation: string, body: Record<string, unknown>) =>
      raw.call({
        target: `JunctionConnections_20261128.${operation}`,
        service: 'codestar-connections',
        body,
      })
    const connection = async (name: string) =>
      (
        await sdk.send(
          new CreateConnectionCommand({ ProviderType: 'GitHub', ConnectionName: name }),
        )
      ).ConnectionArn!
    const status = async (a: string) =>
      (await sdk.send(new GetConnectionCommand({ ConnectionArn: a }))).Connection!

    it('completes with an installation id verified with the app key, reaching its account', async () => {
      arn = await connection('gh-app')
      const r = await ext('CompleteConnection', {
        ConnectionArn: arn,
        InstallationId: String(world.installationId),
      })
      expect(r.status).toBe(200)
      const inst = r.json['Installation'] as Record<string, unknown>
      expect(inst).toMatchObject({
        InstallationId: String(world.installationId),
        ProviderType: 'GitHub',
        Workspace: 'acme',
        CredentialType: 'AppInstallation',
        Status: 'AVAILABLE',
      })
      const c = await status(arn)
      expect(c.ConnectionStatus).toBe('AVAILABLE')
    })

    it('refuses an installation the app does not have, and one named for another owner', async () => {
      const other = await connection('gh-none')
      const r = await ext('CompleteConnection', { ConnectionArn: other, InstallationId: '987654' })
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      const wrong = await ext('CompleteConnection', {
        ConnectionArn: other,
        InstallationId: String(world.installationId),
        Owner: 'alice',
      })
      expect(wrong.json['__type']).toBe('ResourceNotFoundException')
      expect((await status(other)).ConnectionStatus).toBe('PENDING')
    })

    it('keeps a route for a watched repository without registering a hook at GitHub', async () => {
      const w = await server.webhooks.ensure(ACCOUNT, arn, 'acme/App')
      expect(w).toMatchObject({ providerHookId: 'app', repository: 'acme/app' })
      expect((await server.webhooks.ensure(ACCOUNT, arn, 'acme/app')).id).toBe(w.id)
      hookId = w.id
      // Its id is no per-repository webhook URL.
      const r = await fetch(`${server.url}/webhooks/${w.id}`, { method: 'POST', body: '{}' })
      expect(r.status).toBe(404)
    })

    const delivery = (event: string, body: unknown, id = randomUUID(), secret = SECRET) => {
      const b = Buffer.from(JSON.stringify(body))
      return {
        id,
        body: b,
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': id,
          'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(b).digest('hex')}`,
        },
      }
    }
    const post = (d: { body: Buffer; headers: Record<string, string> }) =>
      fetch(`${server.url}/webhooks/github`, { method: 'POST', headers: d.headers, body: d.body })
    const push = (after: string) => ({
      ref: 'refs/heads/main',
      before: world.commits.first,
      after,
      created: false,
      deleted: false,
      forced: false,
      commits: [{ id: after, message: 'Second', added: [], removed: [], modified: ['a'] }],
      head_commit: { id: after, message: 'Second' },
      repository: { id: 1, full_name: 'acme/app', name: 'app', owner: { login: 'acme' } },
      installation: { id: world.installationId },
    })

    it('records a signed push once per delivery and once per body', async () => {
      const d = delivery('push', push(world.commits.second))
      const first = await post(d)
      expect(first.status).toBe(202)
      expect((await post(d)).status).toBe(200) // GitHub's redelivery: same X-GitHub-Delivery
      const replay = { ...d, headers: { ...d.headers, 'x-github-delivery': randomUUID() } }
      const again = await post(replay)
      expect(again.status).toBe(200)
      expect(((await again.json()) as { status: string }).status).toBe('duplicate')
      const log = await server.store.webhooks.deliveries(hookId, 0, 10)
      expect(log).toHaveLength(1)
      expect(log[0]).toMatchObject({ deliveryId: d.id, eventKind: 'push' })
      expect(JSON.parse(log[0]!.event)).toMatchObject({
        kind: 'push',
        installationId: String(world.installationId),
        repository: { fullName: 'acme/app' },
      })
    })

    it('refuses forged, unsigned and oversized deliveries, and ignores unwatched ones', async () => {
      const forged = delivery('push', push('f'.repeat(40)), randomUUID(), 'not the secret')
      expect((await post(forged)).status).toBe(401)
      const unsigned = delivery('push', push('e'.repeat(40)))
      delete (unsigned.headers as Record<string, string>)['x-hub-signature-256']
      expect((await post(unsigned)).status).toBe(401)
      const big = await fetch(`${server.url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push' },
        body: Buffer.alloc(25 * 1024 * 1024 + 1, 0x20),
      })
      expect(big.status).toBe(413)
      const lib = delivery('push', {
        ...push('d'.repeat(40)),
        repository: { id: 2, full_name: 'acme/lib', name: 'lib', owner: { login: 'acme' } },
      })
      const ignored = await post(lib)
      expect(ignored.status).toBe(200)
      expect(((await ignored.json()) as { status: string }).status).toBe('ignored')
      expect(await server.store.webhooks.deliveries(hookId, 0, 10)).toHaveLength(1)
    })

    it('moves the connection to ERROR on suspend or uninstall, and back on unsuspend, as GitHub confirms', async () => {
      const event = (action: string) =>
        delivery('installation', {
          action,
          installation: {
            id: world.installationId,
            account: { login: 'acme' },
            repository_selection: 'selected',
          },
          sender: { login: 'alice' },
        })
      const reason = async () =>
        (await server.store.installations.get(ACCOUNT, String(world.installationId)))?.statusReason
      // A genuine but stale delivery (a captured suspend resent while the installation works)
      // changes nothing: GitHub is asked, and says it works.
      expect((await post(event('suspend'))).status).toBe(200)
      expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
      await sb.admin(`installations/${world.installationId}/suspend`, {})
      expect((await post(event('suspend'))).status).toBe(200)
      expect((await status(arn)).ConnectionStatus).toBe('ERROR')
      expect(await reason()).toMatch(/suspended/)
      // A captured unsuspend resent while it is still suspended does not bring it back.
      expect((await post(event('unsuspend'))).status).toBe(200)
      expect((await status(arn)).ConnectionStatus).toBe('ERROR')
      await sb.admin(`installations/${world.installationId}/unsuspend`, {})
      expect((await post(event('unsuspend'))).status).toBe(200)
      expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
      await sb.admin(`installations/${world.installationId}`, undefined, 'DELETE')
      expect((await post(event('deleted'))).status).toBe(200)
      expect((await status(arn)).ConnectionStatus).toBe('ERROR')
      expect(await reason()).toMatch(/uninstalled from acme/)
    })
  })
}
