/**
 * Build folders that a Junction killed mid-build leaves behind are swept, and only those: a real
 * `junction serve` killed by SIGKILL during a build leaves its `junction-builds-<pid>-…` folder;
 * the next node's start removes it once its heartbeat has stopped long enough, while the folder
 * of another live node's running build stays (its build finishes). The rule itself on real
 * processes: a dead owner with a stale heartbeat is swept; a live owner, a recent heartbeat or
 * another name is not.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  ListActionExecutionsCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ORPHAN_AGE_MS, sweepBuildFolders } from '../../src/pipelines/isolation/sandbox.js'
import { seedWorld, startSandbox, type Sandbox, type World } from '../helpers/bitbucket.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { iamClient } from '../helpers/iam.js'
import { spawnServe, type ServeProcess } from '../helpers/process.js'
import {
  declaration,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  waitFor,
} from '../helpers/pipelines.js'
import { describeWith, needs } from '../helpers/requirements.js'

/** A pid that no process has any more (a child that already exited). */
async function deadPid(): Promise<number> {
  const child = spawn('true')
  await new Promise((r) => child.once('exit', r))
  return child.pid!
}

/** Sets a folder's modification time `ms` in the past (a heartbeat that stopped that long ago). */
function age(path: string, ms: number): void {
  const then = new Date(Date.now() - ms)
  utimesSync(path, then, then)
}

describe('sweepBuildFolders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'junction-sweep-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('removes only folders whose owner is gone and whose heartbeat stopped long ago', async () => {
    const dead = await deadPid()
    const live = spawn('sleep', ['30'])
    try {
      const folders = {
        orphan: `junction-builds-${dead}-orphan`,
        beating: `junction-builds-${dead}-beating`,
        live: `junction-builds-${live.pid!}-live`,
        own: `junction-builds-${process.pid}-own`,
        other: `junction-other-${dead}-x`,
      }
      for (const f of Object.values(folders)) mkdirSync(join(dir, f, 'b-1'), { recursive: true })
      for (const f of [folders.orphan, folders.live, folders.own, folders.other])
        age(join(dir, f), ORPHAN_AGE_MS + 60_000)
      // Dead, but touched a moment ago (a node in another PID namespace, its pid unknown here).
      age(join(dir, folders.beating), ORPHAN_AGE_MS - 60_000)
      expect(sweepBuildFolders(dir)).toEqual([folders.orphan])
      expect(readdirSync(dir).sort()).toEqual(
        [folders.beating, folders.live, folders.own, folders.other].sort(),
      )
      // Live folders keep their contents.
      expect(readdirSync(join(dir, folders.live))).toEqual(['b-1'])
      // Once the heartbeat has been silent long enough, the dead owner's folder goes too.
      expect(sweepBuildFolders(dir, Date.now() + 2 * 60_000)).toEqual([folders.beating])
    } finally {
      live.kill('SIGKILL')
    }
  })
})

describeWith(needs.root)('build folders of a node killed mid-build', () => {
  let sb: Sandbox
  let world: World
  const nodes: ServeProcess[] = []
  const dirs: string[] = []
  const env = {
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIASWEEPSWEEPSWEEP0',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: randomBytes(30).toString('base64url'),
  }
  const credentials = {
    accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
    secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
  }
  beforeAll(async () => {
    sb = await startSandbox()
    world = await seedWorld(sb)
  })
  afterAll(async () => {
    for (const n of nodes) n.child.kill('SIGKILL')
    await Promise.all(nodes.map((n) => n.exited))
    await sb?.stop()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  /** A node of its own (data folder, connection) running builds. */
  async function node(): Promise<{ node: ServeProcess; cp: CodePipelineClient; arn: string }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'junction-sweep-node-'))
    dirs.push(dataDir)
    const n = await spawnServe(
      [
        '--data-dir',
        dataDir,
        '--bitbucket-url',
        sb.url,
        '--enable-commands',
        '--commands-network',
        'none',
        '--work-lease',
        '2',
      ],
      env,
    )
    nodes.push(n)
    const raw = new RawClient(n.url, credentials)
    const sdk = sdkClient(n.url, credentials)
    const { ConnectionArn: arn } = await sdk.send(
      new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'sweep' }),
    )
    const done = await raw.call({
      target: 'JunctionConnections_20261128.CompleteConnection',
      service: 'codestar-connections',
      body: { ConnectionArn: arn, Workspace: 'acme', AccessToken: world.acmeToken },
    })
    expect(done.status, done.text).toBe(200)
    sdk.destroy()
    return { node: n, cp: pipelineClient(n.url, credentials), arn: arn! }
  }

  /** Creates a pipeline whose build sleeps; resolves with the running execution's id. */
  async function building(
    n: { node: ServeProcess; cp: CodePipelineClient; arn: string },
    seconds: number,
  ): Promise<string> {
    const iam = iamClient(n.node.url, credentials)
    const role = await pipelineRole(iam, 'sweep-role')
    iam.destroy()
    await n.cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'sleeper',
          roleArn: role,
          connectionArn: n.arn,
          detectChanges: false,
          commands: [`sleep ${seconds}`],
        }),
      }),
    )
    const [run] = await waitFor('the execution', async () => {
      const e = await executions(n.cp, 'sleeper')
      return e.length ? e : undefined
    })
    const id = run!.pipelineExecutionId!
    await waitFor(
      'the build to run',
      async () => {
        const a = await n.cp.send(
          new ListActionExecutionsCommand({
            pipelineName: 'sleeper',
            filter: { pipelineExecutionId: id },
          }),
        )
        return a.actionExecutionDetails?.some(
          (x) => x.actionName === 'Build' && x.status === 'InProgress',
        ) && folderOf(n.node).some((f) => readdirSync(join(tmpdir(), f)).length > 0)
          ? true
          : undefined
      },
      60_000,
    )
    return id
  }

  /** The folders of build folders of a node. */
  const folderOf = (n: ServeProcess) =>
    readdirSync(tmpdir()).filter((e) => e.startsWith(`junction-builds-${n.child.pid!}-`))

  it('the next start removes the dead node’s folder and never a live build’s', async () => {
    const doomed = await node()
    const live = await node()
    await building(doomed, 300)
    const liveRun = await building(live, 20)
    const [left] = folderOf(doomed.node)
    const [kept] = folderOf(live.node)
    doomed.cp.destroy()
    doomed.node.child.kill('SIGKILL')
    await doomed.node.exited
    // Killed mid-build: its folder (with the build's working directory) stays behind.
    expect(readdirSync(join(tmpdir(), left!)).length).toBeGreaterThan(0)
    // As if both heartbeats were long silent: only the owner's liveness tells them apart.
    age(join(tmpdir(), left!), ORPHAN_AGE_MS + 60_000)
    age(join(tmpdir(), kept!), ORPHAN_AGE_MS + 60_000)
    const next = await node()
    next.cp.destroy()
    expect(existsSync(join(tmpdir(), left!))).toBe(false)
    expect(readdirSync(join(tmpdir(), kept!)).length).toBeGreaterThan(0)
    const done = await finished(live.cp, 'sleeper', liveRun)
    expect(done.status, done.statusSummary).toBe('Succeeded')
    live.cp.destroy()
  }, 120_000)
})
