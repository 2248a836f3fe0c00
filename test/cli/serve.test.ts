import { mkdtempSync, readFileSync, existsSync, statSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { itWith, needs } from '../helpers/requirements.js'
import {
  CreateConnectionCommand,
  GetConnectionCommand,
  ListConnectionsCommand,
} from '@aws-sdk/client-codestar-connections'
import { readCredentialsFile } from '../../src/bootstrap/root-credentials.js'
import { sdkClient } from '../helpers/client.js'
import { freshPgSchema } from '../helpers/engines.js'
import { runBin, spawnServe } from '../helpers/process.js'

const dirs: string[] = []
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'junction-cli-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('junction serve', () => {
  it('writes credentials and master key with mode 0600 on first start, serves /health and the API, and stops on SIGTERM with exit 0', async () => {
    const dataDir = tempDir()
    const p = await spawnServe(['--data-dir', dataDir])
    const credFile = join(dataDir, 'credentials')
    expect(statSync(credFile).mode & 0o777).toBe(0o600)
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600)
    expect(existsSync(join(dataDir, 'junction.db'))).toBe(true)
    for (let i = 0; i < 100 && !p.stderr().includes('Root credentials'); i++)
      await new Promise((r) => setTimeout(r, 20))
    expect(p.stderr()).toContain(`Root credentials written to ${credFile}`)
    const creds = readCredentialsFile(credFile)!
    expect(readFileSync(credFile, 'utf8')).toMatch(/^\[junction\]$/m)

    const health = await fetch(`${p.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'sqlite' })

    const sdk = sdkClient(p.url, creds)
    const { ConnectionArn } = await sdk.send(
      new CreateConnectionCommand({ ConnectionName: 'cli', ProviderType: 'Bitbucket' }),
    )
    sdk.destroy()

    p.child.kill('SIGTERM')
    expect(await p.exited).toBe(0)
    const lines = p
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const req = lines.find((l) => l['op'] === 'CreateConnection')
    expect(req).toMatchObject({
      msg: 'request',
      status: 200,
      service: 'codestar-connections',
      principal: 'arn:aws:iam::000000000000:root',
    })
    expect(typeof req?.['reqId']).toBe('string')
    expect(typeof req?.['ms']).toBe('number')
    expect(lines.at(-1)).toMatchObject({ msg: 'stopped' })
    // Secrets never reach the logs.
    expect(p.stdout() + p.stderr()).not.toContain(creds.secretAccessKey)
    expect(p.stdout()).not.toContain(readFileSync(join(dataDir, 'master.key'), 'utf8').trim())

    // A restart keeps the credentials and the data.
    const again = await spawnServe(['--data-dir', dataDir])
    expect(readCredentialsFile(credFile)).toEqual({
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
    })
    const sdk2 = sdkClient(again.url, creds)
    expect(
      (await sdk2.send(new GetConnectionCommand({ ConnectionArn }))).Connection?.ConnectionName,
    ).toBe('cli')
    sdk2.destroy()
    again.child.kill('SIGINT')
    expect(await again.exited).toBe(0)
  })

  it('finishes an in-flight request before exiting on SIGTERM', async () => {
    const dataDir = tempDir()
    const p = await spawnServe(['--data-dir', dataDir])
    const creds = readCredentialsFile(join(dataDir, 'credentials'))!
    const sdk = sdkClient(p.url, creds)
    const pending = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sdk.send(new CreateConnectionCommand({ ConnectionName: `f${i}`, ProviderType: 'GitHub' })),
      ),
    )
    await new Promise((r) => setTimeout(r, 5))
    p.child.kill('SIGTERM')
    const settled = await pending.then(
      (v) => v.length,
      () => -1,
    )
    expect(await p.exited).toBe(0)
    sdk.destroy()
    // Every request the server accepted was answered; restart and count what was written.
    const again = await spawnServe(['--data-dir', dataDir])
    const sdk2 = sdkClient(again.url, creds)
    const listed = (await sdk2.send(new ListConnectionsCommand({}))).Connections!.length
    sdk2.destroy()
    again.child.kill('SIGTERM')
    await again.exited
    if (settled === 20) expect(listed).toBe(20)
    else expect(listed).toBeLessThanOrEqual(20)
  })

  it('keeps every acknowledged write across kill -9', async () => {
    const dataDir = tempDir()
    const p = await spawnServe(['--data-dir', dataDir])
    const creds = readCredentialsFile(join(dataDir, 'credentials'))!
    const sdk = sdkClient(p.url, creds)
    const arns: string[] = []
    for (let i = 0; i < 10; i++)
      arns.push(
        (
          await sdk.send(
            new CreateConnectionCommand({ ConnectionName: `k${i}`, ProviderType: 'GitHub' }),
          )
        ).ConnectionArn!,
      )
    p.child.kill('SIGKILL')
    await p.exited
    sdk.destroy()
    const again = await spawnServe(['--data-dir', dataDir])
    const sdk2 = sdkClient(again.url, creds)
    const listed = (await sdk2.send(new ListConnectionsCommand({}))).Connections!.map(
      (c) => c.ConnectionArn,
    )
    expect(listed).toEqual(arns)
    sdk2.destroy()
    again.child.kill('SIGTERM')
    await again.exited
  })

  it('takes root credentials and the master key from the environment', async () => {
    const dataDir = tempDir()
    const env = {
      JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIAENVIRONMENT00001',
      JUNCTION_ROOT_SECRET_ACCESS_KEY: 'env-secret-value-0123456789',
      JUNCTION_MASTER_KEY: 'cd'.repeat(32),
    }
    const p = await spawnServe(['--data-dir', dataDir], env)
    expect(existsSync(join(dataDir, 'credentials'))).toBe(false)
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false)
    const sdk = sdkClient(p.url, {
      accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
      secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
    })
    expect((await sdk.send(new ListConnectionsCommand({}))).Connections).toEqual([])
    sdk.destroy()
    expect(p.stdout()).not.toContain(env.JUNCTION_ROOT_SECRET_ACCESS_KEY)
    p.child.kill('SIGTERM')
    expect(await p.exited).toBe(0)
  })

  itWith(needs.postgres)('runs on PostgreSQL with --database postgres://…', async () => {
    const schema = freshPgSchema()
    const dataDir = tempDir()
    try {
      const p = await spawnServe([
        '--data-dir',
        dataDir,
        '--database',
        schema.url,
        '--region',
        'eu-west-1',
        '--account-id',
        '123456789012',
      ])
      const creds = readCredentialsFile(join(dataDir, 'credentials'))!
      expect(await (await fetch(`${p.url}/health`)).json()).toMatchObject({ store: 'postgres' })
      const sdk = sdkClient(p.url, creds, 'eu-west-1')
      const { ConnectionArn } = await sdk.send(
        new CreateConnectionCommand({ ConnectionName: 'pg', ProviderType: 'GitHub' }),
      )
      expect(ConnectionArn).toMatch(
        /^arn:aws:codestar-connections:eu-west-1:123456789012:connection\//,
      )
      sdk.destroy()
      p.child.kill('SIGTERM')
      expect(await p.exited).toBe(0)
      expect(p.stdout()).not.toContain(schema.url)
    } finally {
      await schema.drop()
    }
  })

  it('refuses to start a second server on the same SQLite data directory', async () => {
    const dataDir = tempDir()
    const p = await spawnServe(['--data-dir', dataDir])
    const second = await runBin(['serve', '--data-dir', dataDir, '--port', '0'])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/in use by another Junction process/)
    p.child.kill('SIGTERM')
    expect(await p.exited).toBe(0)
  })

  it('refuses bad flags with exit code 2 and a message', async () => {
    const bad = await runBin(['serve', '--port', 'eighty'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--port must be an integer/)
    const unknown = await runBin(['serve', '--colour'])
    expect(unknown.code).toBe(2)
    const account = await runBin(['serve', '--account-id', '12'])
    expect(account.stderr).toMatch(/--account-id must be 12 digits/)
    const cmd = await runBin(['frobnicate'])
    expect(cmd.code).toBe(2)
  })

  it('prints help and version', async () => {
    const help = await runBin(['help'])
    expect(help.stdout).toMatch(/--connection-quota/)
    expect((await runBin(['version'])).stdout).toMatch(/^junction \d+\.\d+\.\d+/)
  })
})
