/**
 * @module pipelines/isolation/sandbox
 * How a `Commands` build runs isolated from Junction (see README "The Commands action — what it
 * may run"). Junction runs as root; each build gets:
 *
 * - its own unprivileged uid/gid, picked per build from `--commands-uid-range` (no supplementary
 *   groups, no capabilities, no-new-privs): Junction's files (owner-only) are not its files, and
 *   per-uid limits (RLIMIT_NPROC) are per build;
 * - new mount and PID namespaces: a fresh `/proc` shows only the build's own processes (not
 *   Junction's, so not its environment); empty tmpfs cover Junction's data directory, artifact
 *   store, database folder and the folder holding every build's working directory, and fresh
 *   `/tmp`, `/var/tmp` and `/dev/shm`; the build's own working directory is mounted back in place;
 * - a network namespace (`--commands-network private`, the default, and `none`; not `host`): under
 *   `private` its way out is a slirp4netns that cannot reach the host's loopback (network.ts);
 *   `/run` is covered too (local services' Unix sockets);
 * - limits: a memory cgroup (else RLIMIT_AS), a pids cgroup and RLIMIT_NPROC, RLIMIT_NOFILE,
 *   RLIMIT_FSIZE, and a periodic check of the disk its working directory uses.
 *
 * The chain: `setpriv --pdeathsig KILL` (dies with Junction, even by SIGKILL) → `sh` joins the
 * build's cgroups → `unshare --kill-child` (its child is PID 1 of the namespace; when it ends, the
 * kernel kills every process of the namespace) → `sh` as PID 1 mounts the tmpfs, then runs
 * `prlimit … setpriv --reuid … env -i sh <script>` and exits with its status. Only a fixed PATH
 * reaches the root part of the chain; the build's environment is set by its own script.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Duplex } from 'node:stream'
import { alive, CgroupParents, type BuildGroups } from './cgroups.js'
import { BuildNetwork, findSlirp } from './network.js'

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export interface SandboxOptions {
  /** Each build runs as a uid (and gid) from this range. */
  uidRange: { first: number; last: number }
  memoryBytes: number
  processes: number
  openFiles: number
  /** Disk a build's working directory (and its /tmp) may use. */
  diskBytes: number
  /** Folders builds must not see (data directory, artifact store, database folder). */
  hidden: string[]
  /**
   * `private`: a network namespace of its own with outbound access through slirp4netns, and no
   * way to the host's loopback (network.ts); `none`: a network namespace with only its own
   * loopback; `host`: the host's network, loopback services included.
   */
  network: 'private' | 'none' | 'host'
}

/** Isolation cannot work on this host: `--enable-commands` must not start. */
export class SandboxUnavailable extends Error {}

// Runs as root in Junction's namespaces: join the build's cgroups, then new namespaces.
const OUTER = `set -e
inner=$1 memcg=$2 pidcg=$3 network=$4
shift 4
[ "$memcg" = - ] || echo $$ > "$memcg/cgroup.procs"
[ "$pidcg" = - ] || echo $$ > "$pidcg/cgroup.procs"
set -- -- /bin/sh -c "$inner" junction-build "$@"
# --commands-network private or none: a network namespace of its own.
[ "$network" = host ] || set -- --net "$@"
exec unshare --mount --pid --fork --kill-child --mount-proc --propagation private "$@"`

// PID 1 of the build's namespaces, root until the build starts: hide, mount back, drop, run.
const INNER = `set -e
# Junction's own umask (077) would make the folders below unreachable for the build.
umask 022
base=$1 uid=$2 gid=$3 nofile=$4 nproc=$5 fsize=$6 as=$7 tmpsize=$8 network=$9
shift 9
# private: Junction starts slirp4netns for this network namespace (network.ts) meanwhile.
[ "$network" != private ] || echo ns >&3
resolv=$(readlink -f /etc/resolv.conf || echo /etc/resolv.conf)
for entry in "$@"; do
  p=\${entry#?:}
  if [ -d "$p" ] && [ ! -L "$p" ]; then
    case $entry in
      s:*) mount -t tmpfs -o "mode=1777,nosuid,nodev,size=$tmpsize" junction-scratch "$p" ;;
      *) mount -t tmpfs -o mode=0755,nosuid,nodev,size=64k junction-hidden "$p" ;;
    esac
  fi
done
if [ "$network" = private ]; then
  IFS= read -r answer <&3 || answer='fail no answer from Junction'
  exec 3>&-
  if [ "$answer" != ok ]; then
    echo "[junction] the build's network could not be set up: \${answer#fail }" >&2
    exit 125
  fi
  # Link-local addresses (a cloud's instance metadata service, 169.254.169.254, hands out the
  # host's own credentials): no route, and the build has no capability to add one.
  ip route add prohibit 169.254.0.0/16
  # slirp4netns's DNS (its target may be on a covered folder such as /run).
  mkdir -p "\${resolv%/*}"
  [ -e "$resolv" ] || : > "$resolv"
  conf=$(mktemp -p /tmp)
  echo 'nameserver 10.0.2.3' > "$conf"
  chmod 644 "$conf"
  mount --bind "$conf" "$resolv"
  rm "$conf"
elif [ "$network" = none ]; then
  ip link set lo up
fi
mkdir -p "$base"
# The working directory (this process's cwd) back at its own path, through the covering tmpfs.
mount -c --bind . "$base"
cd "$base"
set -- --nofile="$nofile" --nproc="$nproc" --fsize="$fsize"
[ "$as" = - ] || set -- "$@" --as="$as"
set +e
prlimit "$@" -- setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \\
  --bounding-set=-all --inh-caps=-all -- env -i /bin/sh "$base/.junction-run.sh"
exit $?`

// What the startup test build prints (see create).
const PROBE = `id -u
readlink /proc/self/ns/net
if grep -q '^tap0[[:space:]]*00000000' /proc/net/route; then echo tap0; else echo no route; fi
echo $(( $(cat /sys/class/net/lo/flags) & 1 ))
`

const inUse = new Set<number>()

/** How often a node marks its folder of build folders as in use (its modification time). */
const HEARTBEAT_MS = 60_000
/** How often a node looks for build folders that dead nodes left behind. */
const SWEEP_MS = 10 * 60_000
/** A folder untouched this long (five missed heartbeats) may be swept once its owner is gone. */
export const ORPHAN_AGE_MS = 5 * HEARTBEAT_MS

/**
 * Removes the folders of build folders (`junction-builds-<pid>-…` in `dir`) that Junction
 * processes killed mid-build left behind: only those whose owner process is gone AND whose
 * heartbeat stopped at least {@link ORPHAN_AGE_MS} ago. Both, because nodes may share a machine's
 * temporary folder: a live node (even one in another PID namespace, whose pid means nothing here)
 * touches its folder every minute, and a live pid keeps its folder whatever its age. Returns the
 * names removed.
 */
export function sweepBuildFolders(dir: string = tmpdir(), now: number = Date.now()): string[] {
  const removed: string[] = []
  for (const e of readdirSync(dir)) {
    const m = /^junction-builds-(\d+)-/.exec(e)
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue
    try {
      const path = join(dir, e)
      if (now - statSync(path).mtimeMs < ORPHAN_AGE_MS) continue
      rmSync(path, { recursive: true, force: true })
      removed.push(e)
    } catch {
      // Best effort: removed meanwhile, or the next sweep (or the operator) removes it.
    }
  }
  return removed
}

/** Whether a process runs as `uid` (another node on this host may use the same range). */
function uidBusy(uid: number): boolean {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      if (statSync(`/proc/${p}`).uid === uid) return true
    } catch {
      // Exited meanwhile.
    }
  }
  return false
}

export class CommandsSandbox {
  readonly #o: SandboxOptions
  readonly #cgroups = new CgroupParents()
  readonly #root: string
  readonly #slirp: string | undefined
  readonly #timers: NodeJS.Timeout[]
  #n = 0

  private constructor(o: SandboxOptions) {
    this.#o = o
    this.#slirp = o.network === 'private' ? findSlirp(SYSTEM_PATH) : undefined
    this.#root = mkdtempSync(join(tmpdir(), `junction-builds-${process.pid}-`))
    chmodSync(this.#root, 0o700)
    this.#timers = [
      // The heartbeat other nodes' sweeps respect (see sweepBuildFolders).
      setInterval(() => {
        try {
          const now = new Date()
          utimesSync(this.#root, now, now)
        } catch {
          // Removed by an operator: nothing to keep alive.
        }
      }, HEARTBEAT_MS).unref(),
      setInterval(() => sweepBuildFolders(), SWEEP_MS).unref(),
    ]
  }

  /**
   * A sandbox, after running one build (`id -u`) through the whole chain; throws
   * {@link SandboxUnavailable} saying why and what to do when builds cannot be isolated here.
   */
  static async create(o: SandboxOptions): Promise<CommandsSandbox> {
    const uid = process.getuid?.()
    if (uid !== 0)
      throw new SandboxUnavailable(
        `--enable-commands needs Junction to run as root (it runs as uid ${String(uid)}): each build runs as its own unprivileged uid in its own mount and PID namespaces, which only root can set up. Run Junction as root (for example in its own container), or leave --enable-commands off.`,
      )
    if (o.network === 'private' && !findSlirp(SYSTEM_PATH))
      throw new SandboxUnavailable(
        `--enable-commands with --commands-network private (the default) needs slirp4netns (Debian and Ubuntu package slirp4netns), which is not installed: it gives each build outbound network access with no way to this host's loopback, where Junction and its database may listen. Install it, or choose --commands-network none (builds get no network at all), or --commands-network host (builds share this machine's network: they can connect to every service listening on 127.0.0.1 here, such as Junction itself and a PostgreSQL that trusts local connections — only for pipelines you trust completely).`,
      )
    const s = new CommandsSandbox(o)
    await s.#sweep().catch(() => undefined)
    const net = { private: ' --net, slirp4netns', none: ' --net', host: '' }[o.network]
    const needs = {
      private: ', network namespaces, slirp4netns and iproute2 (ip) for --commands-network private',
      none: ', network namespaces and iproute2 (ip) for --commands-network none',
      host: '',
    }[o.network]
    const unavailable = (why: string) => {
      s.#timers.forEach(clearInterval)
      rmSync(s.#root, { recursive: true, force: true })
      return new SandboxUnavailable(
        `--enable-commands: this host cannot isolate builds (a test build through setpriv, unshare --mount --pid${net} and prlimit failed: ${why.slice(0, 500)}). Junction needs util-linux (unshare, setpriv, prlimit, mount), root with its capabilities, and permission to create mount and PID namespaces (in a container: CAP_SYS_ADMIN, or a seccomp profile that allows unshare and mount; not inside a user namespace)${needs}. Fix that, or leave --enable-commands off; builds never run unisolated.`,
      )
    }
    let b: SandboxedBuild
    try {
      b = await s.prepare()
    } catch (err) {
      throw unavailable((err as Error).message)
    }
    try {
      // Its uid; its network namespace; under private, its default route through slirp4netns's
      // tap0; and whether its loopback is up.
      b.writeScript(PROBE)
      await b.handOver()
      const child = b.start()
      let out = ''
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
      const code = await new Promise<number | null>((r) => {
        child.on('error', (err) => {
          out += err.message
          r(-1)
        })
        child.on('close', r)
      })
      const [id, ns, route, lo] = out.trim().split('\n')
      const own = readlinkSync('/proc/self/ns/net')
      if (
        code !== 0 ||
        id !== String(b.uid) ||
        (o.network === 'host' ? ns !== own : ns === own) ||
        (o.network !== 'host' && lo !== '1') ||
        (o.network !== 'host' && route !== (o.network === 'private' ? 'tap0' : 'no route'))
      )
        throw unavailable(out.trim() || `status ${String(code)}`)
    } catch (err) {
      throw err instanceof SandboxUnavailable ? err : unavailable((err as Error).message)
    } finally {
      await b.dispose().catch(() => undefined)
    }
    return s
  }

  /**
   * What builds of Junction processes that died (SIGKILL) left on this host: their cgroups, and
   * their folders (at start, then every ten minutes: see sweepBuildFolders).
   */
  async #sweep(): Promise<void> {
    await this.#cgroups.sweep()
    sweepBuildFolders()
  }

  /** Removes the folder of build folders once no build is left in it. */
  close(): void {
    this.#timers.forEach(clearInterval)
    try {
      rmdirSync(this.#root)
    } catch {
      // A build still running: its own end, or the next start's sweep, removes it.
    }
  }

  /** Which limits the kernel enforces through cgroups here (the others use rlimits). */
  get cgroups(): { memory: boolean; pids: boolean } {
    return { memory: !!this.#cgroups.memory, pids: !!this.#cgroups.pids }
  }

  get limits(): Omit<SandboxOptions, 'hidden' | 'uidRange' | 'network'> {
    const { memoryBytes, processes, openFiles, diskBytes } = this.#o
    return { memoryBytes, processes, openFiles, diskBytes }
  }

  /** A working directory and a uid for one build (and its cgroups). */
  async prepare(): Promise<SandboxedBuild> {
    const { first, last } = this.#o.uidRange
    let uid = -1
    for (let tries = 0; tries < 200 && uid < 0; tries++) {
      const u = first + randomInt(last - first + 1)
      if (!inUse.has(u) && !uidBusy(u)) uid = u
    }
    if (uid < 0) throw new Error('No free uid in --commands-uid-range for this build')
    inUse.add(uid)
    const base = mkdtempSync(join(this.#root, 'b-'))
    let groups: BuildGroups
    try {
      groups = this.#cgroups.create(`junction-${process.pid}-${++this.#n}-${uid}`, this.#o)
    } catch (err) {
      inUse.delete(uid)
      rmSync(base, { recursive: true, force: true })
      throw err
    }
    return new SandboxedBuild(
      this.#o,
      this.#entries(),
      base,
      uid,
      groups,
      () => inUse.delete(uid),
      this.#slirp,
    )
  }

  /** What PID 1 covers: `s:` scratch folders (fresh, writable), `h:` hidden ones; parents first. */
  #entries(): string[] {
    const scratch = ['/tmp', '/var/tmp', '/dev/shm', resolve(tmpdir())]
    // Where Unix sockets of local services live (PostgreSQL's, …): not reachable by a build that
    // may not reach the host's loopback either.
    const sockets = this.#o.network === 'host' ? [] : ['/run', '/var/run']
    const hidden = [...this.#o.hidden, this.#root, ...sockets]
      .map((p) => resolve(p))
      .filter((p) => p !== '/')
    const all = [
      ...[...new Set(scratch)].map((p) => `s:${p}`),
      ...[...new Set(hidden)].filter((p) => !scratch.includes(p)).map((p) => `h:${p}`),
    ]
    return all.sort((a, b) => a.length - b.length)
  }
}

export class SandboxedBuild {
  #network: BuildNetwork | undefined
  constructor(
    readonly o: SandboxOptions,
    readonly entries: string[],
    /** The build's folder: its working directory and other inputs inside. */
    readonly base: string,
    readonly uid: number,
    readonly groups: BuildGroups,
    readonly release: () => void,
    /** Where slirp4netns is (under `private`). */
    readonly slirp?: string,
  ) {}

  get gid(): number {
    return this.uid
  }

  get scriptFile(): string {
    return join(this.base, '.junction-run.sh')
  }

  writeScript(text: string): void {
    writeFileSync(this.scriptFile, text, { mode: 0o600 })
  }

  /** Gives the folder to the build's uid (symbolic links themselves, never their targets). */
  handOver(): Promise<void> {
    return new Promise((done, fail) => {
      const c = spawn('chown', ['-R', '-h', `${this.uid}:${this.gid}`, this.base], {
        env: { PATH: SYSTEM_PATH },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let err = ''
      c.stderr.on('data', (d: Buffer) => (err += d.toString()))
      c.on('error', fail)
      c.on('close', (code) =>
        code === 0 ? done() : fail(new Error(`chown of the build folder failed: ${err.trim()}`)),
      )
    })
  }

  /**
   * Starts the build's script; kill its process group to stop everything. Under `private`, its
   * network comes up before the script starts (and goes when the build ends: see network.ts).
   */
  start(): ChildProcess {
    const o = this.o
    const memory = this.groups.memory ? '-' : String(o.memoryBytes)
    const child = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'KILL',
        '--',
        '/bin/sh',
        '-c',
        OUTER,
        'junction-build',
        INNER,
        this.groups.memory ?? '-',
        this.groups.pids ?? '-',
        o.network,
        this.base,
        String(this.uid),
        String(this.gid),
        String(o.openFiles),
        String(o.processes),
        String(o.diskBytes),
        memory,
        String(o.diskBytes),
        o.network,
        ...this.entries,
      ],
      {
        cwd: this.base,
        env: { PATH: SYSTEM_PATH },
        detached: true,
        // fd 3: the handshake of PID 1 with Junction while slirp4netns sets up its network.
        stdio: ['ignore', 'pipe', 'pipe', ...(o.network === 'private' ? ['pipe' as const] : [])],
      },
    )
    if (o.network === 'private' && child.pid !== undefined) {
      const control = child.stdio[3] as Duplex
      this.#network = new BuildNetwork(
        this.slirp ?? 'slirp4netns',
        SYSTEM_PATH,
        child.pid,
        this.groups,
        control,
      )
      child.once('exit', () => void this.#network?.stop())
    }
    return child
  }

  /** Bytes of disk the build's folder uses (`du`, off the event loop). */
  diskUsed(): Promise<number> {
    return new Promise((done) => {
      const c = spawn('du', ['-s', '-B1', this.base], {
        env: { PATH: SYSTEM_PATH },
        stdio: ['ignore', 'pipe', 'ignore'],
      })
      let out = ''
      c.stdout.on('data', (d: Buffer) => (out += d.toString()))
      c.on('error', () => done(0))
      c.on('close', () => done(Number(out.split('\t')[0]) || 0))
    })
  }

  /** Kills what is left of the build, removes its groups and folder, frees its uid. */
  async dispose(): Promise<void> {
    try {
      await this.#network?.stop()
      await this.groups.dispose()
      rmSync(this.base, { recursive: true, force: true })
    } finally {
      this.release()
    }
  }
}
