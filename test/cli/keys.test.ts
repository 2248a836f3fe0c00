import { readFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ListConnectionsCommand } from '@aws-sdk/client-codestar-connections'
import { PutUserPolicyCommand } from '@aws-sdk/client-iam'
import { readCredentialsFile } from '../../src/bootstrap/root-credentials.js'
import { openSqliteStore } from '../../src/store/sqlite.js'
import { sdkClient } from '../helpers/client.js'
import { iamClient, policy, userWithPolicy } from '../helpers/iam.js'
import { runBin, spawnServe } from '../helpers/process.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('junction keys rotate', () => {
  it('re-encrypts every secret under a new master key; credentials keep working', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'junction-keys-'))
    dirs.push(dataDir)
    const first = await spawnServe(['--data-dir', dataDir])
    const root = readCredentialsFile(join(dataDir, 'credentials'))!
    const iam = iamClient(first.url, root)
    const user = await userWithPolicy(iam, 'rotator')
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'rotator',
        PolicyName: 'list',
        PolicyDocument: policy({
          Effect: 'Allow',
          Action: 'codestar-connections:List*',
          Resource: '*',
        }),
      }),
    )
    iam.destroy()

    // Refused while the server holds the database; nothing changes.
    const oldKey = readFileSync(join(dataDir, 'master.key'), 'utf8')
    const busy = await runBin(['keys', 'rotate', '--data-dir', dataDir])
    expect(busy.code).toBe(1)
    expect(busy.stderr).toMatch(/in use by another Junction process/)
    expect(readFileSync(join(dataDir, 'master.key'), 'utf8')).toBe(oldKey)
    expect(existsSync(join(dataDir, 'master.key.new'))).toBe(false)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    const rotated = await runBin(['keys', 'rotate', '--data-dir', dataDir])
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toMatch(
      /^Re-encrypted 2 secrets: master key [0-9a-f]{8} → [0-9a-f]{8}\./,
    )
    const newKey = readFileSync(join(dataDir, 'master.key'), 'utf8')
    expect(newKey).not.toBe(oldKey)
    expect(readFileSync(join(dataDir, 'master.key.old'), 'utf8')).toBe(oldKey)
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600)
    expect(existsSync(join(dataDir, 'master.key.new'))).toBe(false)
    const newId = /→ ([0-9a-f]{8})/.exec(rotated.stdout)![1]
    const store = await openSqliteStore(join(dataDir, 'junction.db'))
    expect((await store.accessKeys.get(user.accessKeyId))?.secretCiphertext).toMatch(
      new RegExp(`^v1\\.${newId}\\.`),
    )
    expect((await store.accessKeys.get(root.accessKeyId))?.secretCiphertext).toMatch(
      new RegExp(`^v1\\.${newId}\\.`),
    )
    await store.close()

    const second = await spawnServe(['--data-dir', dataDir])
    const asUser = sdkClient(second.url, user)
    expect((await asUser.send(new ListConnectionsCommand({}))).Connections).toEqual([])
    const asRoot = sdkClient(second.url, root)
    expect((await asRoot.send(new ListConnectionsCommand({}))).Connections).toEqual([])
    asUser.destroy()
    asRoot.destroy()
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })

  it('explains its usage', async () => {
    expect((await runBin(['keys'])).code).toBe(2)
    expect((await runBin(['keys', 'rotate', '--help'])).stdout).toMatch(
      /re-encrypts every stored secret/,
    )
  })
})
