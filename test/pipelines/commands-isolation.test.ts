/**
 * Commands builds are isolated from Junction, tested as the attacker: a real `junction serve`
 * (the bin, with secrets in its environment) runs builds that try to read its environment, its
 * data directory (master key, database, credentials file, through symlinks from the repository
 * too), another pipeline's artifacts and another running build's working directory; none of it
 * shows. Memory and fork bombs and a disk-filling build are stopped with a clear message while
 * the API keeps answering, and nothing of a build is left behind.
 */
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  ListActionExecutionsCommand,
  ListPipelinesCommand,
  StopPipelineExecutionCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { CreateConnectionCommand } from '@aws-sdk/client-codestar-connections'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import { seedWorld, startSandbox, type Sandbox, type World } from '../helpers/bitbucket.js'
import { RawClient, sdkClient } from '../helpers/client.js'
import { iamClient } from '../helpers/iam.js'
import { BIN, spawnServe, type ServeProcess } from '../helpers/process.js'
import type { ConnectFixture } from '../helpers/connect.js'
import {
  actionLog,
  declaration,
  executions,
  finished,
  pipelineClient,
  pipelineRole,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const UIDS = { first: 2100000000, last: 2100065535 }

/** Commits symbolic links (path → target) on acme/app main, straight into the sandbox's repo. */
function commitLinks(sb: Sandbox, links: Record<string, string>): string {
  const repo = join(sb.dataDir, 'repos', 'acme', 'app.git')
  const index = join(mkdtempSync(join(tmpdir(), 'junction-links-')), 'index')
  const git = (args: string[], input?: string) =>
    execFileSync('git', args, {
      cwd: repo,
      env: {
        PATH: process.env['PATH'],
        GIT_INDEX_FILE: index,
        GIT_AUTHOR_NAME: 'mallory',
        GIT_AUTHOR_EMAIL: 'm@example.com',
        GIT_COMMITTER_NAME: 'mallory',
        GIT_COMMITTER_EMAIL: 'm@example.com',
      },
      ...(input === undefined ? {} : { input }),
    })
      .toString()
      .trim()
  const parent = git(['rev-parse', 'refs/heads/main'])
  git(['read-tree', parent])
  for (const [path, target] of Object.entries(links)) {
    const blob = git(['hash-object', '-w', '--stdin'], target)
    git(['update-index', '--add', '--cacheinfo', `120000,${blob},${path}`])
  }
  const tree = git(['write-tree'])
  const commit = git(['commit-tree', tree, '-p', parent, '-m', 'links'])
  git(['update-ref', 'refs/heads/main', commit, parent])
  rmSync(join(index, '..'), { recursive: true, force: true })
  return commit
}

/** Processes of builds of Junction process `pid`, and their cgroups. */
function leftovers(pid: number): string[] {
  const out: string[] = []
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const uid = statSync(`/proc/${p}`).uid
      // A build of this node (other Junctions on the host may be running builds of their own).
      if (
        uid >= UIDS.first &&
        uid <= UIDS.last &&
        readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`/junction-${pid}-`)
      )
        out.push(`process ${p} (uid ${uid})`)
    } catch {
      // Exited.
    }
  }
  for (const controller of ['memory', 'pids']) {
    const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.split(':')[1]?.split(',').includes(controller))
      ?.split(':')[2]
    if (own === undefined) continue
    const dir = join('/sys/fs/cgroup', controller, own)
    if (!existsSync(dir)) continue
    for (const e of readdirSync(dir))
      if (e.startsWith(`junction-${pid}-`)) out.push(`cgroup ${controller}/${e}`)
  }
  return out
}

describeWith(needs.root)('Commands builds, isolated from Junction', () => {
  let sb: Sandbox
  let world: World
  let node: ServeProcess
  let cp: CodePipelineClient
  let arn: string
  let role: string
  // Outside /tmp (which builds get fresh anyway): the data and artifact folders are hidden as such.
  let shared: string
  let dataDir: string
  let artifactDir: string
  const env = {
    JUNCTION_ROOT_ACCESS_KEY_ID: 'JKIAISOLATIONTEST000',
    JUNCTION_ROOT_SECRET_ACCESS_KEY: `root-secret-${randomBytes(18).toString('hex')}`,
    JUNCTION_BITBUCKET_CLIENT_ID: 'junction',
    JUNCTION_BITBUCKET_CLIENT_SECRET: `client-secret-${randomBytes(18).toString('hex')}`,
  }
  const fileSecret = `file-secret-${randomBytes(18).toString('hex')}`
  const credentials = {
    accessKeyId: env.JUNCTION_ROOT_ACCESS_KEY_ID,
    secretAccessKey: env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
  }
  const compute = (name: string, commands: string[], extra: Record<string, unknown> = {}) => ({
    name,
    actionTypeId: { category: 'Compute', owner: 'AWS', provider: 'Commands', version: '1' },
    inputArtifacts: [{ name: 'SourceArtifact' }],
    commands,
    ...extra,
  })
  const pipeline = (
    name: string,
    actions: ReturnType<typeof compute>[],
    format?: 'CODE_ZIP' | 'CODEBUILD_CLONE_REF',
  ) => {
    const base = declaration({
      name,
      roleArn: role,
      connectionArn: arn,
      detectChanges: false,
      ...(format ? { format } : {}),
    })
    return { ...base, stages: [base.stages![0]!, { name: 'Build', actions }] }
  }
  const run = async (p: ReturnType<typeof pipeline>) => {
    await cp.send(new CreatePipelineCommand({ pipeline: p as never }))
    const [first] = await waitFor(
      `the run of ${p.name}`,
      async () => {
        const e = await executions(cp, p.name!)
        return e.length ? e : undefined
      },
      30_000,
    )
    return first!.pipelineExecutionId!
  }
  const actionsOf = async (name: string, id: string) =>
    (
      await cp.send(
        new ListActionExecutionsCommand({
          pipelineName: name,
          filter: { pipelineExecutionId: id },
        }),
      )
    ).actionExecutionDetails!
  const logOf = async (name: string, id: string, action: string) => {
    const a = (await actionsOf(name, id)).find((x) => x.actionName === action)!
    return (await fetch(a.output!.executionResult!.externalExecutionUrl!)).text()
  }
  /** /health and an API call answer, each within a second. */
  const responsive = async () => {
    const t0 = Date.now()
    const h = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(1000) })
    expect(h.status).toBe(200)
    const t1 = Date.now()
    await cp.send(new ListPipelinesCommand({}), { abortSignal: AbortSignal.timeout(1000) })
    expect(t1 - t0).toBeLessThan(1000)
    expect(Date.now() - t1).toBeLessThan(1000)
  }

  beforeAll(async () => {
    shared = mkdtempSync(
      join(existsSync('/var/lib') ? '/var/lib' : tmpdir(), 'junction-isolation-'),
    )
    dataDir = join(shared, 'data')
    artifactDir = join(shared, 'artifacts')
    sb = await startSandbox()
    world = await seedWorld(sb)
    mkdirSync(dataDir, { recursive: true })
    // World-readable on purpose: the build must not reach it even so.
    writeFileSync(
      join(dataDir, 'credentials'),
      `[junction]\naws_access_key_id = JKIAFILE\naws_secret_access_key = ${fileSecret}\n`,
      { mode: 0o644 },
    )
    node = await spawnServe(
      [
        '--data-dir',
        dataDir,
        '--artifact-dir',
        artifactDir,
        '--bitbucket-url',
        sb.url,
        '--enable-commands',
        '--commands-memory',
        '64',
        '--commands-processes',
        '64',
        '--commands-disk',
        '20',
        '--commands-timeout',
        '60',
      ],
      env,
    )
    for (const f of ['master.key', 'junction.db']) chmodSync(join(dataDir, f), 0o644)
    chmodSync(dataDir, 0o755)
    const raw = new RawClient(node.url, credentials)
    const sdk = sdkClient(node.url, credentials)
    const iam = iamClient(node.url, credentials)
    cp = pipelineClient(node.url, credentials)
    ;({ ConnectionArn: arn } = (await sdk.send(
      new CreateConnectionCommand({ ProviderType: 'Bitbucket', ConnectionName: 'isolated' }),
    )) as { ConnectionArn: string })
    const done = await raw.call({
      target: 'JunctionConnections_20261128.CompleteConnection',
      service: 'codestar-connections',
      body: { ConnectionArn: arn, Workspace: 'acme', AccessToken: world.acmeToken },
    })
    expect(done.status, done.text).toBe(200)
    role = await pipelineRole(iam, 'pipeline-role')
    for (const c of [raw, sdk, iam] as { destroy?: () => void }[]) c.destroy?.()
    commitLinks(sb, {
      'key-link': join(dataDir, 'master.key'),
      'db-link': join(dataDir, 'junction.db'),
      'creds-link': join(dataDir, 'credentials'),
    })
  }, 90_000)
  afterAll(async () => {
    cp?.destroy()
    node?.child.kill('SIGTERM')
    await node?.exited
    await sb?.stop()
    if (shared) rmSync(shared, { recursive: true, force: true })
  })

  it("cannot read Junction's environment, data, artifacts, processes or another build's files", async () => {
    const masterKey = readFileSync(join(dataDir, 'master.key'), 'utf8').trim()
    // A build that holds a secret in its working directory while the attacker runs.
    const victimSecret = `victim-secret-${randomBytes(12).toString('hex')}`
    const victim = await run(
      pipeline('victim', [
        compute('Build', [`echo ${victimSecret} > victim.txt`, 'sleep 20'], {
          outputArtifacts: [{ name: 'Out', files: ['victim.txt'] }],
        }),
      ]),
    )
    await waitFor('the victim build to start', async () =>
      (await actionsOf('victim', victim)).some(
        (a) => a.actionName === 'Build' && a.status === 'InProgress',
      )
        ? true
        : undefined,
    )
    // Artifacts of the victim pipeline exist on the host, readable by all (mode aside).
    execFileSync('chmod', ['-R', 'a+rX', artifactDir])
    const attack = [
      'set +e',
      'echo "== ppid $PPID"; cat /proc/$PPID/environ | tr "\\0" "\\n"',
      'echo "== all environ"; for f in /proc/*/environ; do cat "$f" | tr "\\0" "\\n"; done',
      'echo "== processes"; ls /proc | grep -E "^[0-9]+$" | tr "\\n" " "; echo',
      'echo "== cmdlines"; for f in /proc/[0-9]*/cmdline; do cat "$f" | tr "\\0" " "; echo; done',
      `echo "== data"; ls -la ${dataDir}; cat ${dataDir}/master.key ${dataDir}/credentials`,
      `head -c 100000 ${dataDir}/junction.db | tr -c "[:print:]\\n" "."`,
      `echo "== artifacts"; ls -laR ${artifactDir}; find ${artifactDir} -type f -exec cat {} +`,
      'echo "== links"; ls -la key-link db-link creds-link; cat key-link creds-link; head -c 100000 db-link | tr -c "[:print:]\\n" "."',
      `echo "== builds"; ls -la ${tmpdir()} /tmp; find / -xdev -name victim.txt 2>/dev/null -exec cat {} +`,
      'find /tmp /var/tmp /dev/shm /run -name victim.txt -exec cat {} + 2>/dev/null',
      'echo "== env"; env',
      'echo "== id"; id',
      'echo "== done"',
    ]
    const attacker = await run(
      pipeline('attacker', [compute('Build', attack)], 'CODEBUILD_CLONE_REF'),
    )
    const zipAttacker = await run(pipeline('zip-attacker', [compute('Build', attack)], 'CODE_ZIP'))
    for (const [name, id] of [
      ['attacker', attacker],
      ['zip-attacker', zipAttacker],
    ] as const) {
      const done = await finished(cp, name, id)
      expect(done.status, done.statusSummary).toBe('Succeeded')
      const log = await logOf(name, id, 'Build')
      // The attack ran to the end, as a build uid, with the links in place (full clone).
      expect(log).toContain('== done')
      expect(log).toMatch(/uid=21000\d{5}/)
      if (name === 'attacker') expect(log).toMatch(/key-link -> .*master\.key/)
      for (const secret of [
        env.JUNCTION_ROOT_SECRET_ACCESS_KEY,
        env.JUNCTION_BITBUCKET_CLIENT_SECRET,
        fileSecret,
        masterKey,
        victimSecret,
        'SQLite format 3',
        'JUNCTION_ROOT',
        'JUNCTION_BITBUCKET',
      ])
        expect(log, `${name} read ${secret.slice(0, 20)}`).not.toContain(secret)
      // Junction's process is not among those the build sees.
      const procs = log.split('== processes\n')[1]!.split('\n')[0]!.trim().split(' ')
      expect(procs).not.toContain(String(node.child.pid))
      expect(procs.length).toBeLessThan(10)
    }
    const v = await finished(cp, 'victim', victim)
    expect(v.status, v.statusSummary).toBe('Succeeded')
    // The victim really ran at the same time: the attackers' builds started before it ended
    // (their end depends on the machine's load; their start is what puts them beside it).
    const build = async (name: string, id: string) =>
      (await actionsOf(name, id)).find((a) => a.actionName === 'Build')!
    const victimEnd = (await build('victim', victim)).lastUpdateTime!.getTime()
    for (const [name, id] of [
      ['attacker', attacker],
      ['zip-attacker', zipAttacker],
    ] as const)
      expect((await build(name, id)).startTime!.getTime()).toBeLessThan(victimEnd)
    expect(leftovers(node.child.pid!)).toEqual([])
  }, 90_000)

  it("reads a build's outputs back without following the links it left", async () => {
    // The output variables file, made a link to Junction's credentials file.
    const vars = await run(
      pipeline('vars-link', [
        compute('Build', [`ln -s ${join(dataDir, 'credentials')} ../.vars`], {
          namespace: 'B',
        }),
      ]),
    )
    const v = await finished(cp, 'vars-link', vars)
    expect(v.status, v.statusSummary).toBe('Succeeded')
    const details = JSON.stringify(await actionsOf('vars-link', vars))
    expect(details).not.toContain(fileSecret)
    expect(details).not.toContain('aws_access_key_id')
    // The working directory, replaced by a link to the data directory before outputs are zipped.
    const dir = await run(
      pipeline('dir-link', [
        compute('Build', ['cd ..', 'mv src src.old', `ln -s ${dataDir} src`], {
          outputArtifacts: [{ name: 'Out', files: ['**/*'] }],
        }),
      ]),
    )
    const d = await finished(cp, 'dir-link', dir)
    expect(d.status).toBe('Failed')
    expect(d.statusSummary).toMatch(/working directory was replaced/)
    const zips = execFileSync('find', [artifactDir, '-path', '*dir-link*', '-name', 'Out.zip'])
      .toString()
      .trim()
    expect(zips).toBe('')
  })

  it('leaves no process, group or folder behind when a build with daemons is abandoned', async () => {
    const id = await run(
      pipeline('daemons', [
        compute('Build', [
          'setsid sleep 300 > /dev/null 2>&1 &',
          'nohup sleep 301 > /dev/null 2>&1 &',
          '(trap "" TERM HUP; sleep 302) &',
          'echo started',
          'sleep 303',
        ]),
      ]),
    )
    await waitFor('the build and its daemons to run', async () =>
      (await actionsOf('daemons', id)).some(
        (a) => a.actionName === 'Build' && a.status === 'InProgress',
      ) && leftovers(node.child.pid!).filter((l) => l.startsWith('process')).length >= 4
        ? true
        : undefined,
    )
    await cp.send(
      new StopPipelineExecutionCommand({
        pipelineName: 'daemons',
        pipelineExecutionId: id,
        abandon: true,
        reason: 'test',
      }),
    )
    expect((await finished(cp, 'daemons', id)).status).toBe('Stopped')
    await waitFor('the build to be cleaned up', async () =>
      leftovers(node.child.pid!).length === 0 ? true : undefined,
    )
    const builds = readdirSync(tmpdir()).filter((e) =>
      e.startsWith(`junction-builds-${node.child.pid!}-`),
    )
    for (const b of builds) expect(readdirSync(join(tmpdir(), b))).toEqual([])
  })

  it('stops a memory bomb, a fork bomb and a disk-filling build; the API keeps answering', async () => {
    const bombs = {
      memory: [`x=$(head -c 400000000 /dev/zero | tr "\\0" a); echo "\${#x}"`],
      fork: ['bomb() { bomb | bomb & }; bomb; sleep 30'],
      disk: ['for i in $(seq 1 60); do head -c 1000000 /dev/zero > "f$i"; done', 'sleep 30'],
      bigfile: ['head -c 100000000 /dev/zero > big', 'sleep 30'],
    }
    const ids: Record<string, string> = {}
    for (const [name, commands] of Object.entries(bombs))
      ids[name] = await run(pipeline(`${name}-bomb`, [compute('Build', commands)]))
    const started = Date.now()
    await responsive()
    const results: Record<string, string> = {}
    for (const name of Object.keys(bombs)) {
      const done = await finished(cp, `${name}-bomb`, ids[name]!)
      await responsive()
      expect(done.status).toBe('Failed')
      results[name] = done.statusSummary!
    }
    expect(results['memory']).toMatch(/ran out of memory \(the limit is 64 MiB\)/)
    expect(results['fork']).toMatch(/reached the limit of 64 processes/)
    expect(results['disk']).toMatch(/used more than 20 MiB of disk/)
    expect(results['bigfile']).toMatch(/file larger than the limit of 20 MiB/)
    // Stopped long before their sleeps (30 s) or the time limit (60 s) would end them.
    expect(Date.now() - started).toBeLessThan(25_000)
    await responsive()
    await waitFor('the builds to be cleaned up', async () =>
      leftovers(node.child.pid!).length === 0 ? true : undefined,
    )
  }, 90_000)
})

describeWith(needs.root)('--enable-commands where builds cannot be isolated', () => {
  /** Runs `junction serve --enable-commands` under `wrapper`; it must not start. */
  const serveUnder = (wrapper: string[], dataDir: string) =>
    new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = spawn(
        wrapper[0]!,
        [
          ...wrapper.slice(1),
          process.execPath,
          BIN,
          'serve',
          '--port',
          '0',
          '--data-dir',
          dataDir,
          '--enable-commands',
        ],
        { env: { PATH: process.env['PATH'] }, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        done({ code, stderr })
      })
    })

  it('refuses to start when not root, saying why and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-noroot-'))
    chmodSync(dir, 0o777)
    const r = await serveUnder(
      ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
      join(dir, 'data'),
    )
    rmSync(dir, { recursive: true, force: true })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /--enable-commands needs Junction to run as root \(it runs as uid 65534\)/,
    )
    expect(r.stderr).toMatch(/or leave --enable-commands off/)
  })

  it('refuses to start when the test build cannot be isolated (root of a user namespace)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-userns-'))
    const r = await serveUnder(['unshare', '--user', '--map-root-user'], join(dir, 'data'))
    rmSync(dir, { recursive: true, force: true })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/--enable-commands: this host cannot isolate builds \(/)
    expect(r.stderr).toMatch(/builds never run unisolated/)
    expect(r.stderr).not.toMatch(/junction is listening/)
  })
})

describeWith(needs.root)('--commands-network none', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  beforeAll(async () => {
    ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', {
      'enable-commands': true,
      'commands-network': 'none',
    }))
  })
  afterAll(() => stopPipelineFixture({ f, cp }))

  it('gives builds no network: not even Junction on the loopback', async () => {
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'offline',
          roleArn: role,
          connectionArn: arn,
          detectChanges: false,
          commands: [
            'test -f README.md && echo "source: here"',
            `if curl -sS -m 5 -o /dev/null ${f.server.url}/health; then echo "junction: reached"; else echo "junction: unreachable"; fi`,
            'ls /sys/class/net',
          ],
        }),
      }),
    )
    const [first] = await waitFor('the run', async () => {
      const e = await executions(cp, 'offline')
      return e.length ? e : undefined
    })
    const done = await finished(cp, 'offline', first!.pipelineExecutionId!)
    expect(done.status, done.statusSummary).toBe('Succeeded')
    const log = await actionLog(cp, 'offline', first!.pipelineExecutionId!)
    expect(log).toContain('source: here')
    expect(log).toContain('junction: unreachable')
    expect(log).toMatch(/^lo$/m)
  })
})
