/**
 * A build's network, tested as the attacker. Under `--commands-network private` (the default) a
 * build that tries Junction's own port, PostgreSQL (TCP on 127.0.0.1:5432 and its Unix socket)
 * and a server the test starts on 127.0.0.1 — directly and through slirp4netns's gateway
 * 10.0.2.2 —, an abstract Unix socket the test listens on, or 169.254.169.254 (a cloud's metadata
 * service) reaches none of them, while a server on the host's non-loopback address answers it
 * (outbound works). The same build under `--commands-network host` reaches the loopback servers
 * (so each probe can fail). No slirp4netns outlives its build: after a build ends, after it is
 * abandoned, and when Junction itself is killed. Without slirp4netns, `--enable-commands` refuses
 * to start under `private`, naming the package and the alternatives.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreatePipelineCommand,
  StopPipelineExecutionCommand,
  type CodePipelineClient,
} from '@aws-sdk/client-codepipeline'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeWith, needs } from '../helpers/requirements.js'
import type { ConnectFixture } from '../helpers/connect.js'
import { pgUrl } from '../helpers/engines.js'
import { BIN } from '../helpers/process.js'
import {
  actionLog,
  declaration,
  executions,
  finished,
  startPipelineFixture,
  stopPipelineFixture,
  waitFor,
} from '../helpers/pipelines.js'

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const slirpPath = SYSTEM_PATH.split(':')
  .map((d) => join(d, 'slirp4netns'))
  .find((p) => existsSync(p))
/** The host's first non-loopback IPv4 address, if it has one. */
const hostAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address
/** PostgreSQL's Unix sockets on this host (a build must not reach them either). */
const pgSockets = ['/run/postgresql', '/var/run/postgresql', '/tmp']
  .map((d) => join(d, '.s.PGSQL.5432'))
  .filter((p) => existsSync(p))

/** slirp4netns processes whose parent is `ppid`. */
function slirps(ppid: number): number[] {
  const out: number[] = []
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8')
      if (
        /^Name:\s*slirp4netns$/m.test(status) &&
        new RegExp(`^PPid:\\s*${ppid}$`, 'm').test(status)
      )
        out.push(Number(p))
    } catch {
      // Exited.
    }
  }
  return out
}

const alive = (pid: number) => existsSync(`/proc/${pid}`)

/** The cgroups of the builds of Junction process `pid` (memory and pids, where writable). */
function buildGroups(pid: number): string[] {
  const out: string[] = []
  for (const c of ['memory', 'pids']) {
    const own = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[1]?.split(',').includes(c))
      ?.split(':')[2]
    const dir = own === undefined ? undefined : join('/sys/fs/cgroup', c, own)
    if (!dir || !existsSync(dir)) continue
    for (const e of readdirSync(dir)) if (e.startsWith(`junction-${pid}-`)) out.push(join(dir, e))
  }
  return out
}

/** Whether a TCP connection to host:port is accepted here, on the host. */
const accepts = (host: string, port: number) =>
  new Promise<boolean>((done) => {
    const s = connect({ host, port, timeout: 2000 })
    s.once('connect', () => (s.destroy(), done(true)))
    s.once('error', () => done(false))
    s.once('timeout', () => (s.destroy(), done(false)))
  })

/** An HTTP server on `host` that answers every request with a secret token. */
async function tokenServer(host: string) {
  const token = `token-${randomBytes(12).toString('hex')}`
  let hits = 0
  const server: Server = createServer((_req, res) => {
    hits++
    res.end(`${token}\n`)
  })
  await new Promise<void>((r) => server.listen(0, host, r))
  const port = (server.address() as { port: number }).port
  return {
    token,
    port,
    url: `http://${host}:${port}/`,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

/** A Unix socket server in the abstract namespace (per network namespace, no file to hide). */
async function abstractServer() {
  const name = `junction-test-${randomBytes(8).toString('hex')}`
  // Python's: Node pads abstract names to the whole sun_path, which other clients do not.
  const server = spawn(
    'python3',
    [
      '-c',
      'import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.bind("\\0"+sys.argv[1])\ns.listen()\nprint("ready",flush=True)\nwhile True: s.accept()[0].close()',
      name,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await new Promise<void>((r) => server.stdout.once('data', () => r()))
  return {
    name,
    close: () => {
      server.kill('SIGKILL')
      return new Promise<void>((r) =>
        server.exitCode === null ? server.once('close', () => r()) : r(),
      )
    },
  }
}

/** Shell lines that try each target and print `<name>: reached` or `<name>: unreachable`. */
function probes(targets: Record<string, string>): string[] {
  return Object.entries(targets).map(([name, how]) => {
    const [kind, where] = how.split(' ') as [string, string]
    const attempt =
      kind === 'tcp'
        ? `timeout 5 bash -c 'exec 3<>/dev/tcp/${where.replace(':', '/')}'`
        : kind === 'unix'
          ? `python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' ${where}`
          : kind === 'abstract'
            ? `python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect("\\0" + sys.argv[1])' ${where}`
            : `curl -sS -m 5 ${where}`
    return `if ${attempt} 2>/dev/null; then echo "${name}: reached"; else echo "${name}: unreachable"; fi`
  })
}

/** A Commands pipeline run to its end; its Build action's status and log. */
async function build(
  p: { cp: CodePipelineClient; arn: string; role: string },
  name: string,
  commands: string[],
) {
  await p.cp.send(
    new CreatePipelineCommand({
      pipeline: declaration({
        name,
        roleArn: p.role,
        connectionArn: p.arn,
        detectChanges: false,
        commands,
      }),
    }),
  )
  const [first] = await waitFor('the run', async () => {
    const e = await executions(p.cp, name)
    return e.length ? e : undefined
  })
  const id = first!.pipelineExecutionId!
  const done = await finished(p.cp, name, id)
  const log = await actionLog(p.cp, name, id)
  return { done, log }
}

describeWith(needs.root, needs.slirp4netns)('--commands-network private (the default)', () => {
  let f: ConnectFixture
  let cp: CodePipelineClient
  let arn: string
  let role: string
  let local: Awaited<ReturnType<typeof tokenServer>>
  let outside: Awaited<ReturnType<typeof tokenServer>> | undefined
  let pgTcp = false
  let abstract: Awaited<ReturnType<typeof abstractServer>>
  beforeAll(async () => {
    // On PostgreSQL when the run has one: the build then attacks Junction's own database.
    ;({ f, cp, arn, role } = await startPipelineFixture(pgUrl ? 'postgres' : 'sqlite', {
      'enable-commands': true,
    }))
    local = await tokenServer('127.0.0.1')
    if (hostAddress) outside = await tokenServer(hostAddress)
    pgTcp = await accepts('127.0.0.1', 5432)
    abstract = await abstractServer()
  })
  afterAll(async () => {
    await local?.close()
    await outside?.close()
    await abstract?.close()
    await stopPipelineFixture({ f, cp })
  })

  it("reaches nothing on the host's loopback nor its metadata service: not Junction, PostgreSQL (TCP or socket), a local server (directly, via 10.0.2.2, or an abstract socket), 169.254.169.254", async () => {
    const port = new URL(f.server.url).port
    const { done, log } = await build({ cp, arn, role }, 'private-net', [
      ...probes({
        'junction lo': `tcp 127.0.0.1:${port}`,
        'junction gateway': `tcp 10.0.2.2:${port}`,
        'postgres lo': 'tcp 127.0.0.1:5432',
        'postgres gateway': 'tcp 10.0.2.2:5432',
        ...Object.fromEntries(pgSockets.map((s) => [`postgres socket ${s}`, `unix ${s}`])),
        'local server lo': `curl http://127.0.0.1:${local.port}/`,
        'local server gateway': `curl http://10.0.2.2:${local.port}/`,
        // A cloud's instance metadata service (the host's own credentials).
        metadata: 'tcp 169.254.169.254:80',
        'abstract socket': `abstract ${abstract.name}`,
      }),
      'cat /etc/resolv.conf',
    ])
    expect(done.status, log).toBe('Succeeded')
    for (const name of [
      'junction lo',
      'junction gateway',
      'postgres lo',
      'postgres gateway',
      ...pgSockets.map((s) => `postgres socket ${s}`),
      'local server lo',
      'local server gateway',
      'metadata',
      'abstract socket',
    ])
      expect(log.split('\n')).toContain(`${name}: unreachable`)
    expect(log).not.toContain(local.token)
    expect(local.hits()).toBe(0)
    expect(log).toMatch(/^nameserver 10\.0\.2\.3$/m)
    await waitFor('slirp4netns to end with its build', async () =>
      slirps(process.pid).length === 0 ? true : undefined,
    )
    // Only meaningful if something listens there on the host (see the host-mode control below).
    if (!pgTcp) console.warn('Nothing listens on 127.0.0.1:5432 here: the PostgreSQL probe is moot')
  })

  // Skipped where the host has no non-loopback IPv4 address: there is nothing outside to reach.
  it.skipIf(!hostAddress)(
    "reaches a server on the host's own non-loopback address (outbound works)",
    async () => {
      const { done, log } = await build({ cp, arn, role }, 'outbound-net', [
        `curl -sS -m 10 ${outside!.url}`,
      ])
      expect(done.status, log).toBe('Succeeded')
      expect(log).toContain(outside!.token)
      expect(outside!.hits()).toBe(1)
    },
  )

  it('leaves no slirp4netns behind when a build is abandoned', async () => {
    expect(slirps(process.pid)).toEqual([])
    await cp.send(
      new CreatePipelineCommand({
        pipeline: declaration({
          name: 'abandoned-net',
          roleArn: role,
          connectionArn: arn,
          detectChanges: false,
          commands: ['echo started', 'sleep 300'],
        }),
      }),
    )
    const [first] = await waitFor('the run', async () => {
      const e = await executions(cp, 'abandoned-net')
      return e.length ? e : undefined
    })
    const id = first!.pipelineExecutionId!
    const running = await waitFor('the build and its slirp4netns to run', async () => {
      const s = slirps(process.pid)
      return s.length ? s : undefined
    })
    expect(running).toHaveLength(1)
    await cp.send(
      new StopPipelineExecutionCommand({
        pipelineName: 'abandoned-net',
        pipelineExecutionId: id,
        abandon: true,
        reason: 'test',
      }),
    )
    expect((await finished(cp, 'abandoned-net', id)).status).toBe('Stopped')
    await waitFor('slirp4netns to end with its build', async () =>
      running.some(alive) || slirps(process.pid).length ? undefined : true,
    )
  })
})

describeWith(needs.root)(
  '--commands-network host (the opt-in that exposes loopback services)',
  () => {
    let f: ConnectFixture
    let cp: CodePipelineClient
    let arn: string
    let role: string
    let local: Awaited<ReturnType<typeof tokenServer>>
    let abstract: Awaited<ReturnType<typeof abstractServer>>
    beforeAll(async () => {
      ;({ f, cp, arn, role } = await startPipelineFixture('sqlite', {
        'enable-commands': true,
        'commands-network': 'host',
      }))
      local = await tokenServer('127.0.0.1')
      abstract = await abstractServer()
    })
    afterAll(async () => {
      await local?.close()
      await abstract?.close()
      await stopPipelineFixture({ f, cp })
    })

    it('reaches the same loopback servers and Junction (the probes above can fail)', async () => {
      const port = new URL(f.server.url).port
      const pgTcp = await accepts('127.0.0.1', 5432)
      const { done, log } = await build({ cp, arn, role }, 'host-net', [
        ...probes({
          'junction lo': `tcp 127.0.0.1:${port}`,
          'postgres lo': 'tcp 127.0.0.1:5432',
          'abstract socket': `abstract ${abstract.name}`,
        }),
        `curl -sS -m 5 http://127.0.0.1:${local.port}/`,
      ])
      expect(done.status, log).toBe('Succeeded')
      expect(log).toMatch(/^junction lo: reached$/m)
      expect(log).toMatch(/^abstract socket: reached$/m)
      if (pgTcp) expect(log).toMatch(/^postgres lo: reached$/m)
      expect(log).toContain(local.token)
      expect(slirps(process.pid)).toEqual([])
    })
  },
)

describeWith(needs.root, needs.slirp4netns)('slirp4netns and Junction', () => {
  /** `junction serve --enable-commands` with slirp4netns replaced by `standIn`; it must not start. */
  const serveWithSlirp = async (standIn: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-noslirp-'))
    // In a mount namespace of its own: the host's slirp4netns stays as it is.
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '/bin/sh',
        '-c',
        'mount --bind "$0" "$1" && shift && exec "$@"',
        standIn,
        slirpPath!,
        process.execPath,
        BIN,
        'serve',
        '--port',
        '0',
        '--data-dir',
        join(dir, 'data'),
        '--enable-commands',
      ],
      { env: { PATH: process.env['PATH'] }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    let stdout = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const code = await new Promise<number | null>((r) => child.on('close', r))
    clearTimeout(timer)
    rmSync(dir, { recursive: true, force: true })
    expect(code, stdout + stderr).toBe(1)
    expect(stdout).not.toMatch(/junction is listening/)
    return stderr
  }

  it('refuses to start under private without slirp4netns, naming the package and the alternatives', async () => {
    // /dev/null: not an executable file.
    const stderr = await serveWithSlirp('/dev/null')
    expect(stderr).toMatch(/--commands-network private \(the default\) needs slirp4netns/)
    expect(stderr).toMatch(/package slirp4netns/)
    expect(stderr).toMatch(/--commands-network none/)
    expect(stderr).toMatch(/--commands-network host .*127\.0\.0\.1/)
  })

  it("refuses to start when slirp4netns cannot set up the test build's network", async () => {
    const stderr = await serveWithSlirp('/bin/false')
    expect(stderr).toMatch(/--enable-commands: this host cannot isolate builds \(/)
    expect(stderr).toMatch(
      /the build's network could not be set up: slirp4netns exited with status 1/,
    )
    expect(stderr).toMatch(/builds never run unisolated/)
  })

  it("ends a build's slirp4netns when Junction is killed (SIGKILL)", async () => {
    const sandbox = join(BIN, '..', '..', 'pipelines', 'isolation', 'sandbox.js')
    // Junction's isolation module in a process of its own, running one long build.
    const program = `
      const { CommandsSandbox } = await import(${JSON.stringify(sandbox)})
      const s = await CommandsSandbox.create({
        uidRange: { first: 2100000000, last: 2100065535 }, memoryBytes: 64 << 20, processes: 64,
        openFiles: 256, diskBytes: 20 << 20, hidden: [], network: 'private',
      })
      const b = await s.prepare()
      b.writeScript('echo up; sleep 300\\n')
      await b.handOver()
      b.start().stdout.on('data', (d) => process.stdout.write(d))
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    try {
      await waitFor('the build to run', async () => (out.includes('up') ? true : undefined))
      const running = slirps(child.pid!)
      expect(running, out).toHaveLength(1)
      child.kill('SIGKILL')
      await waitFor('slirp4netns to end with Junction', async () =>
        running.some(alive) ? undefined : true,
      )
      // The build itself too (its chain dies with Junction).
      await waitFor('the build to end with Junction', async () =>
        buildGroups(child.pid!).some(
          (g) => readFileSync(join(g, 'cgroup.procs'), 'utf8').trim() !== '',
        )
          ? undefined
          : true,
      )
    } finally {
      child.kill('SIGKILL')
      // What a restart's sweep would remove: the build's groups and folder.
      await new Promise((r) => setTimeout(r, 200))
      for (const g of buildGroups(child.pid!))
        try {
          rmdirSync(g)
        } catch {
          // Not empty yet: the next start's sweep removes it.
        }
      for (const e of readdirSync(tmpdir()))
        if (e.startsWith(`junction-builds-${child.pid}-`))
          rmSync(join(tmpdir(), e), { recursive: true, force: true })
    }
  })
})
