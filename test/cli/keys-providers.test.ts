/**
 * `junction keys rotate` re-encrypts provider credentials too: a connection completed before the
 * rotation still reaches Bitbucket after it, and the database holds only the new key's ciphertexts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, describe, expect, it } from 'vitest'
import { readCredentialsFile } from '../../src/bootstrap/root-credentials.js'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { seedWorld, startSandbox } from '../helpers/bitbucket.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { runBin, spawnServe } from '../helpers/process.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('junction keys rotate with provider credentials', () => {
  it('keeps a completed connection working across the rotation', async () => {
    const sb = await startSandbox()
    try {
      const world = await seedWorld(sb)
      const dataDir = mkdtempSync(join(tmpdir(), 'junction-keys-bb-'))
      dirs.push(dataDir)
      const flags = ['--data-dir', dataDir, '--bitbucket-url', sb.url]
      const first = await spawnServe(flags)
      const root = readCredentialsFile(join(dataDir, 'credentials'))!
      const sdk = sdkClient(first.url, root)
      const arn = (
        await sdk.send(
          new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'rot' }),
        )
      ).ConnectionArn!
      sdk.destroy()
      const call = (url: string, operation: string, body: unknown) =>
        new RawClient(url, root).call({
          target: `JunctionConnections_20261128.${operation}`,
          service: 'codestar-connections',
          body,
        })
      const done = await call(first.url, 'CompleteConnection', {
        ConnectionArn: arn,
        Workspace: 'acme',
        AccessToken: world.acmeToken,
      })
      expect(done.status, done.text).toBe(200)
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)

      const rotated = await runBin(['keys', 'rotate', '--data-dir', dataDir])
      expect(rotated.code, rotated.stderr).toBe(0)
      // Root secret + the installation's credential.
      expect(rotated.stdout).toMatch(/^Re-encrypted 2 secrets/)
      const newId = /→ ([0-9a-f]{8})/.exec(rotated.stdout)![1]
      const store = await openSqliteStore(join(dataDir, 'junction.db'))
      const inst = (await store.installations.list('000000000000', 'Bitbucket'))[0]!
      expect(inst.credentialCiphertext).toMatch(new RegExp(`^v1\\.${newId}\\.`))
      await store.close()

      const second = await spawnServe(flags)
      const head = await call(second.url, 'GetBranch', {
        ConnectionArn: arn,
        FullRepositoryId: 'acme/app',
        BranchName: 'main',
      })
      expect(head.status, head.text).toBe(200)
      expect(head.json['CommitId']).toBe(world.commits.second)
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    } finally {
      await sb.stop()
    }
  })
})
