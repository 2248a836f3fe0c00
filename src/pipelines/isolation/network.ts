/**
 * @module pipelines/isolation/network
 * The network of a `Commands` build under `--commands-network private` (the default): the build
 * has its own network namespace, and `slirp4netns`, started here as root outside it, gives that
 * namespace a `tap0` interface (10.0.2.100, gateway 10.0.2.2, DNS 10.0.2.3) whose connections it
 * makes from the host as ordinary sockets. `--disable-host-loopback` stops 10.0.2.2 from reaching
 * the host's 127.0.0.1, and the build's own 127.0.0.1 is its own loopback: services that listen
 * only on the host's loopback (Junction, PostgreSQL, …) are out of reach, and the build's PID 1
 * gives link-local addresses (a cloud's metadata service) no route. slirp4netns runs in the build's
 * cgroups (its memory and processes count against the build's limits), in a mount namespace of its
 * own with its capabilities dropped (`--enable-sandbox`) and a seccomp filter (`--enable-seccomp`);
 * it ends when the build ends (its exit fd is closed) and when Junction dies (the kernel closes
 * that fd).
 *
 * The handshake with the build's PID 1 (sandbox.ts): on fd 3 it writes `ns` once its namespaces
 * exist; once slirp4netns says the interface is configured, Junction answers `ok` (or `fail
 * <why>`), and only then does the build's script start.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import type { BuildGroups } from './cgroups.js'

/** How long slirp4netns may take to configure a build's interface. */
const READY_MS = 10_000

/** Where `slirp4netns` is on `path` (an executable regular file), if anywhere. */
export function findSlirp(path: string): string | undefined {
  for (const dir of path.split(':')) {
    const p = join(dir, 'slirp4netns')
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK)
        return p
      }
    } catch {
      // Not here.
    }
  }
  return undefined
}

// Joins the build's groups, then becomes slirp4netns (fd 3: exit fd, fd 4: ready fd).
const JOIN = `memcg=$1 pidcg=$2
shift 2
[ "$memcg" = - ] || echo $$ > "$memcg/cgroup.procs"
[ "$pidcg" = - ] || echo $$ > "$pidcg/cgroup.procs"
exec "$@"`

/** The slirp4netns of one build, attached to its PID 1's handshake on `control`. */
export class BuildNetwork {
  #slirp: ChildProcess | undefined
  #stopped = false
  #exited: Promise<void> = Promise.resolve()

  constructor(
    readonly slirpPath: string,
    readonly path: string,
    /** A process in the build's network namespace (the `unshare` of its chain). */
    readonly pid: number,
    readonly groups: BuildGroups,
    control: Readable & Writable,
  ) {
    let seen = ''
    const answer = (text: string) => {
      if (!control.destroyed) control.end(`${text.replace(/\s+/g, ' ').slice(0, 500)}\n`)
    }
    const onData = (d: Buffer) => {
      seen += d.toString()
      if (!seen.includes('\n')) return
      control.off('data', onData)
      if (seen.trim() !== 'ns') return answer('fail unexpected handshake')
      this.#start().then(
        () => answer(this.#stopped ? 'fail the build was stopped' : 'ok'),
        (err: Error) => answer(`fail ${err.message}`),
      )
    }
    control.on('data', onData)
    // The build ended (or was killed) before or during the handshake.
    control.on('error', () => undefined)
  }

  #start(): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error('the build was stopped'))
    const slirp = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'KILL',
        '--',
        '/bin/sh',
        '-c',
        JOIN,
        'junction-slirp',
        this.groups.memory ?? '-',
        this.groups.pids ?? '-',
        this.slirpPath,
        '--configure',
        '--mtu=65520',
        '--disable-host-loopback',
        '--enable-sandbox',
        '--enable-seccomp',
        '--exit-fd=3',
        '--ready-fd=4',
        String(this.pid),
        'tap0',
      ],
      { env: { PATH: this.path }, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    )
    this.#slirp = slirp
    this.#exited = new Promise((r) => slirp.once('close', () => r()))
    let err = ''
    // Always read (a full pipe would block it); only the end is kept, for a failure message.
    slirp.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)))
    const exitFd = slirp.stdio[3] as Writable
    const readyFd = slirp.stdio[4] as Readable
    exitFd.on('error', () => undefined)
    readyFd.on('error', () => undefined)
    return new Promise<void>((done, fail) => {
      const timer = setTimeout(() => {
        fail(new Error(`slirp4netns did not configure the network within ${READY_MS / 1000} s`))
        void this.stop()
      }, READY_MS)
      readyFd.once('data', () => {
        clearTimeout(timer)
        done()
      })
      slirp.once('error', (e) => {
        clearTimeout(timer)
        fail(new Error(`slirp4netns could not start: ${e.message}`))
      })
      slirp.once('close', (code) => {
        clearTimeout(timer)
        const lines = err
          .split('\n')
          .filter((l) => l.trim() && !/tapfd|exiting|exitfd event/.test(l))
        const why = lines.length ? `: ${lines.join('; ')}` : ''
        fail(new Error(`slirp4netns exited with status ${String(code)}${why}`))
      })
    })
  }

  /** Stops slirp4netns (closing its exit fd, then SIGKILL after a second); resolves once gone. */
  async stop(): Promise<void> {
    this.#stopped = true
    const slirp = this.#slirp
    if (!slirp) return
    ;(slirp.stdio[3] as Writable | null)?.destroy()
    const timer = setTimeout(() => slirp.kill('SIGKILL'), 1000)
    await this.#exited
    clearTimeout(timer)
  }
}
