/**
 * Every file and folder `junction serve` writes is owner-only: the data directory, master.key,
 * credentials, a `--database` file elsewhere (and its WAL), the artifact store with a pipeline's
 * source and output artifacts and its action logs. The test process keeps the usual umask 022,
 * so anything Junction leaves to the default would show group and other bits.
 */
import { spawn } from 'node:child_process'
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { CreatePipelineCommand } from '@aws-sdk/client-codepipeline'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, describe, expect, it } from 'vitest'
import { readCredentialsFile } from '../../src/bootstrap/root-credentials.js'
import { seedWorld, startSandbox, type Sandbox } from '../helpers/bitbucket.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { iamClient } from '../helpers/iam.js'
import {
  declaration,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  waitFor,
} from '../helpers/pipelines.js'
import { BIN, spawnServe, type ServeProcess } from '../helpers/process.js'

const isRoot = process.getuid?.() === 0

/** Every path under `dir` (itself included), with its permission bits. */
function walk(dir: string): { path: string; mode: number; kind: string }[] {
  const out: { path: string; mode: number; kind: string }[] = []
  const visit = (p: string) => {
    const st = lstatSync(p)
    out.push({
      path: p,
      mode: st.mode & 0o777,
      kind: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'file',
    })
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(join(p, e))
  }
  visit(dir)
  return out
}

describe('files junction serve writes', () => {
  const base = mkdtempSync(join(tmpdir(), 'junction-modes-'))
  let sb: Sandbox | undefined
  let node: ServeProcess | undefined
  afterAll(async () => {
    node?.child.kill('SIGKILL')
    await sb?.stop()
    rmSync(base, { recursive: true, force: true })
  })

  it('are owner-only: data directory, keys, a --database elsewhere and its WAL, artifacts and logs', async () => {
    expect(process.umask()).toBe(0o022)
    sb = await startSandbox()
    const world = await seedWorld(sb)
    // An ordinary world-readable folder elsewhere, as /srv or a home directory would be.
    const elsewhere = join(base, 'elsewhere')
    mkdirSync(elsewhere)
    chmodSync(elsewhere, 0o755)
    const dataDir = join(base, 'data')
    const database = join(elsewhere, 'db', 'junction.db')
    const artifactDir = join(elsewhere, 'artifacts')
    node = await spawnServe([
      '--data-dir',
      dataDir,
      '--database',
      database,
      '--artifact-dir',
      artifactDir,
      '--bitbucket-url',
      sb.url,
      ...(isRoot ? ['--enable-commands'] : []),
    ])
    const credentials = readCredentialsFile(join(dataDir, 'credentials'))!
    const sdk = sdkClient(node.url, credentials)
    const iam = iamClient(node.url, credentials)
    const cp = pipelineClient(node.url, credentials)
    try {
      const { ConnectionArn: arn } = await sdk.send(
        new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'modes' }),
      )
      const done = await new RawClient(node.url, credentials).call({
        target: 'JunctionConnections_20261128.CompleteConnection',
        service: 'codestar-connections',
        body: { ConnectionArn: arn, Workspace: 'acme', AccessToken: world.acmeToken },
      })
      expect(done.status, done.text).toBe(200)
      const role = await pipelineRole(iam, 'pipeline-role')
      const pipeline = declaration({
        name: 'modes',
        roleArn: role,
        connectionArn: arn!,
        commands: ['echo built > out.txt', 'mkdir -p dist && echo x > dist/app.js', 'echo logged'],
      })
      pipeline.stages![1]!.actions![0]!.outputArtifacts = [
        { name: 'BuildOut', files: ['out.txt', 'dist/**/*'] },
      ]
      await cp.send(new CreatePipelineCommand({ pipeline }))
      const [run] = await waitFor('the execution at creation', async () => {
        const e = await executions(cp, 'modes')
        return e.length ? e : undefined
      })
      const result = await finished(cp, 'modes', run!.pipelineExecutionId!)
      if (isRoot) expect(result.status, result.statusSummary).toBe('Succeeded')

      const created = [...walk(dataDir), ...walk(join(elsewhere, 'db')), ...walk(artifactDir)]
      const names = created.map((c) => relative(base, c.path))
      // What the walk must have seen for it to mean anything.
      expect(names).toEqual(
        expect.arrayContaining([
          'data',
          'data/master.key',
          'data/credentials',
          'elsewhere/db/junction.db',
          'elsewhere/db/junction.db-wal',
        ]),
      )
      expect(names.some((n) => n.startsWith('elsewhere/artifacts/') && n.endsWith('.zip'))).toBe(
        true,
      )
      if (isRoot) {
        expect(names.some((n) => n.endsWith('.log'))).toBe(true)
        expect(names.filter((n) => n.endsWith('.zip')).length).toBeGreaterThanOrEqual(2)
      }
      const loose = created.filter((c) => c.kind !== 'link' && (c.mode & 0o077) !== 0)
      expect(
        loose.map((c) => `${relative(base, c.path)} ${c.mode.toString(8)}`),
        'files and folders readable by group or others',
      ).toEqual([])
    } finally {
      sdk.destroy()
      iam.destroy()
      cp.destroy()
      node.child.kill('SIGTERM')
      expect(await node.exited).toBe(0)
    }
    // After a clean stop as well (the WAL checkpointed, nothing left behind looser).
    const after = [...walk(dataDir), ...walk(join(elsewhere, 'db')), ...walk(artifactDir)]
    expect(after.filter((c) => (c.mode & 0o077) !== 0).map((c) => c.path)).toEqual([])
  })

  it('are owner-only for the sandbox Bitbucket too (its state and Git repositories)', async () => {
    const dataDir = join(base, 'sandbox')
    const child = spawn(
      process.execPath,
      [BIN, 'sandbox', 'bitbucket', '--port', '0', '--data-dir', dataDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      const url = await waitFor('the sandbox', async () =>
        Promise.resolve(/Bitbucket sandbox at (\S+)/.exec(out)?.[1]),
      )
      const admin = async (path: string, body: unknown) => {
        const r = await fetch(`${url}/_sandbox/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        expect(r.status, await r.text()).toBeLessThan(300)
      }
      await admin('users', { username: 'alice', password: 'alice-pw' })
      await admin('workspaces', { slug: 'acme', name: 'Acme', admins: ['alice'] })
      await admin('repositories', { workspace: 'acme', slug: 'app', files: { 'a.txt': 'a\n' } })
      await admin('repositories/acme/app/commits', {
        branch: 'main',
        author: 'alice',
        files: { 'b.txt': 'b\n' },
      })
      const created = walk(dataDir)
      expect(created.some((c) => c.path.endsWith('bitbucket.json'))).toBe(true)
      expect(created.filter((c) => c.kind === 'file').length).toBeGreaterThan(5)
      expect(
        created
          .filter((c) => c.kind !== 'link' && (c.mode & 0o077) !== 0)
          .map((c) => `${relative(base, c.path)} ${c.mode.toString(8)}`),
      ).toEqual([])
    } finally {
      child.kill('SIGTERM')
    }
  })
})
