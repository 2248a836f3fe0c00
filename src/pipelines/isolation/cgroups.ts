/**
 * @module pipelines/isolation/cgroups
 * Per-build control groups (cgroup v1 `memory` and `pids` controllers, nested under Junction's own
 * groups): a memory limit the kernel enforces with its OOM killer inside the group, a process
 * limit, a way to find and kill every process of a build, and counters that say which limit a
 * build hit. Where a controller is not mounted or not writable, the caller falls back to rlimits.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const MOUNT = '/sys/fs/cgroup'

/** The folder of this process's group in a v1 controller, if it is mounted and writable. */
function ownGroup(controller: 'memory' | 'pids'): string | undefined {
  let lines: string[]
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n')
  } catch {
    return undefined
  }
  for (const line of lines) {
    const [, controllers, path] = line.split(':')
    if (controllers === undefined || path === undefined) continue
    if (!controllers.split(',').includes(controller)) continue
    const dir = join(MOUNT, controller, path)
    if (existsSync(join(dir, 'cgroup.procs'))) return dir
  }
  return undefined
}

export interface GroupLimits {
  memoryBytes: number
  processes: number
}

/** Where per-build groups are made, for the controllers that work here. */
export class CgroupParents {
  readonly memory: string | undefined
  readonly pids: string | undefined
  constructor() {
    this.memory = writable(ownGroup('memory'))
    this.pids = writable(ownGroup('pids'))
  }

  /** Removes the groups of builds whose Junction process is gone (killed before cleaning up). */
  async sweep(): Promise<void> {
    const stale = new Map<string, { memory?: string; pids?: string }>()
    for (const controller of ['memory', 'pids'] as const) {
      const parent = this[controller]
      if (!parent) continue
      for (const e of readdirSync(parent)) {
        const m = /^junction-(\d+)-/.exec(e)
        if (!m || alive(Number(m[1]))) continue
        stale.set(e, { ...stale.get(e), [controller]: join(parent, e) })
      }
    }
    for (const g of stale.values())
      await new BuildGroups(g.memory, g.pids).dispose().catch(() => undefined)
  }

  create(name: string, limits: GroupLimits): BuildGroups {
    const memory = this.memory ? join(this.memory, name) : undefined
    const pids = this.pids ? join(this.pids, name) : undefined
    if (memory) {
      mkdirSync(memory)
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes))
      // No swap beyond the limit where the kernel accounts it.
      if (existsSync(join(memory, 'memory.memsw.limit_in_bytes')))
        try {
          writeFileSync(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes))
        } catch {
          // Swap accounting off: the memory limit alone applies.
        }
    }
    if (pids) {
      mkdirSync(pids)
      writeFileSync(join(pids, 'pids.max'), String(limits.processes))
    }
    return new BuildGroups(memory, pids)
  }
}

/** Whether process `pid` exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function writable(dir: string | undefined): string | undefined {
  if (!dir) return undefined
  const probe = join(dir, `junction-probe-${process.pid}`)
  try {
    mkdirSync(probe)
    rmdirSync(probe)
    return dir
  } catch {
    return undefined
  }
}

const readNumber = (file: string, key: string): number => {
  try {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key} `))
    return line ? Number(line.split(' ')[1]) : 0
  } catch {
    return 0
  }
}

/** One build's groups. */
export class BuildGroups {
  constructor(
    readonly memory: string | undefined,
    readonly pids: string | undefined,
  ) {}

  /** How many times the kernel's OOM killer killed a process of the build. */
  oomKills(): number {
    return this.memory ? readNumber(join(this.memory, 'memory.oom_control'), 'oom_kill') : 0
  }

  /** How many times a fork failed at the process limit. */
  processLimitHits(): number {
    return this.pids ? readNumber(join(this.pids, 'pids.events'), 'max') : 0
  }

  #procs(): number[] {
    const out = new Set<number>()
    for (const g of [this.memory, this.pids]) {
      if (!g) continue
      try {
        for (const l of readFileSync(join(g, 'cgroup.procs'), 'utf8').split('\n'))
          if (l.trim()) out.add(Number(l))
      } catch {
        // Gone already.
      }
    }
    return [...out]
  }

  /** Kills every process left in the groups, then removes them. */
  async dispose(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const procs = this.#procs()
      if (procs.length === 0) break
      for (const pid of procs)
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // Exited meanwhile.
        }
      await new Promise((r) => setTimeout(r, 20))
    }
    for (const g of [this.memory, this.pids]) {
      if (!g) continue
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(g)
          break
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    }
  }
}
