/**
 * GitHub connections completed with a fine-grained personal access token (`AccessToken` with
 * `Owner`, the weaker option for teams that cannot install apps) against the sandbox GitHub,
 * whose tokens are real: AVAILABLE with CredentialType PersonalAccessToken; the connection reaches
 * what the token reaches and no more (a repository outside its selection is refused); a token
 * that expires sends the connection to ERROR on its next use.
 */
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

for (const engine of testEngines()) {
  describe(`GitHub connections with a personal access token [${engine}]`, () => {
    let sb: GhSandbox
    let world: GhWorld
    let server: TestServer
    let sdk: CodeStarConnectionsClient
    let raw: RawClient

    beforeAll(async () => {
      sb = await startGhSandbox()
      world = await seedGhWorld(sb)
      const dir = mkdtempSync(join(tmpdir(), 'gh-pat-'))
      const key = join(dir, 'app.pem')
      writeFileSync(key, world.app.privateKey)
      server = await startTestServer(engine, {
        'github-url': sb.url,
        'github-api-url': sb.url,
        'github-app-id': String(world.app.id),
        'github-app-slug': world.app.slug,
        'github-private-key-file': key,
        'github-client-id': world.app.clientId,
        'github-client-secret': world.app.clientSecret,
        'github-webhook-secret': 'hook-secret',
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
    const pat = async (body: Record<string, unknown>) =>
      (await sb.admin<{ token: string }>('users/alice/tokens', body)).token
    const branch = (arn: string, repo: string) =>
      ext('GetBranch', { ConnectionArn: arn, FullRepositoryId: repo, BranchName: 'main' })

    it('completes AVAILABLE as PersonalAccessToken and reaches only what the token reaches', async () => {
      const arn = await connection('gh-pat')
      const token = await pat({ owner: 'acme', repositories: ['app'] })
      const r = await ext('CompleteConnection', {
        ConnectionArn: arn,
        AccessToken: token,
        Owner: 'acme',
      })
      expect(r.status, JSON.stringify(r.json)).toBe(200)
      expect(r.json['Installation']).toMatchObject({
        ProviderType: 'GitHub',
        Workspace: 'acme',
        CredentialType: 'PersonalAccessToken',
        Status: 'AVAILABLE',
      })
      expect(JSON.stringify(r.json)).not.toContain(token)
      expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
      const repos = await ext('ListRepositories', { ConnectionArn: arn })
      expect(repos.status, JSON.stringify(repos.json)).toBe(200)
      const names = (repos.json['Repositories'] as { FullRepositoryId: string }[]).map(
        (x) => x.FullRepositoryId,
      )
      expect(names).toEqual(['acme/app'])
      const head = await branch(arn, 'acme/app')
      expect(head.status, JSON.stringify(head.json)).toBe(200)
      expect(head.json['CommitId']).toBe(world.commits.second)
      // acme/lib is outside the token's selection (the app's installation reaches it: not this).
      // GitHub itself answers 404 for it.
      const lib = await branch(arn, 'acme/lib')
      expect(lib.status).toBe(400)
      expect(lib.json['__type']).toBe('ResourceNotFoundException')
      expect(String(lib.json['Message'])).toMatch(/GitHub answered 404/)
      expect(JSON.stringify(lib.json)).not.toContain(token)
      expect((await status(arn)).ConnectionStatus).toBe('AVAILABLE')
    })

    it('refuses an organization the token reaches no repository of (GitHub shows any organization)', async () => {
      const arn = await connection('gh-pat-other-owner')
      // Made for alice's own account: GET /orgs/acme answers 200 to it all the same.
      const token = await pat({ owner: 'alice' })
      const r = await ext('CompleteConnection', {
        ConnectionArn: arn,
        AccessToken: token,
        Owner: 'acme',
      })
      expect(r.status, JSON.stringify(r.json)).toBe(400)
      expect(String(r.json['Message'])).toMatch(
        /reaches no repository of the GitHub organization acme/,
      )
      expect(JSON.stringify(r.json)).not.toContain(token)
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
    })

    it('refuses an expired token at completion', async () => {
      const arn = await connection('gh-pat-expired')
      const r = await ext('CompleteConnection', {
        ConnectionArn: arn,
        AccessToken: await pat({ owner: 'acme', expiresInSeconds: -1 }),
        Owner: 'acme',
      })
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      expect((await status(arn)).ConnectionStatus).toBe('PENDING')
    })

    it('goes ERROR on use once the token has expired', async () => {
      const arn = await connection('gh-pat-expiring')
      const r = await ext('CompleteConnection', {
        ConnectionArn: arn,
        AccessToken: await pat({ owner: 'acme', repositories: ['app'], expiresInSeconds: 120 }),
        Owner: 'acme',
      })
      expect(r.status, JSON.stringify(r.json)).toBe(200)
      expect((await branch(arn, 'acme/app')).status).toBe(200)
      await sb.admin('clock', { advanceSeconds: 121 })
      try {
        const used = await branch(arn, 'acme/app')
        expect(used.status).toBeGreaterThanOrEqual(400)
        const c = await status(arn)
        expect(c.ConnectionStatus).toBe('ERROR')
      } finally {
        await sb.admin('clock', { advanceSeconds: -121 })
      }
    })
  })
}
