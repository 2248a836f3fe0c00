/**
 * @module pipelines/actions/commands
 * The `Commands` compute action: shell commands from the pipeline definition, run in a fresh
 * working directory holding the input artifacts (the first at the root, others under
 * `<root>/../<name>`, each path in `JUNCTION_SRC_DIR_<name>`), with a clean environment (PATH,
 * HOME, LANG, the execution's ids, and the action's declared environment variables) and a time
 * limit; output goes to the action's log. Output artifacts are zipped from the declared `files`
 * globs; output variables are read from the shell's environment at the end. It runs only when the
 * operator started Junction with `--enable-commands`, and always isolated (pipelines/isolation:
 * its own uid, mount and PID namespaces, limits); `#{…}` values reach the commands as data
 * (shell-references.ts), never as script text. Files the build leaves are read back without
 * following its links.
 */
import { spawn } from 'node:child_process'
import { createWriteStream, lstatSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { AwsError } from '../../errors/aws-error.js'
import { extractZip, writeOutputArtifact } from '../artifacts.js'
import { inside, segment } from '../paths.js'
import { resolveVariables } from '../variables.js'
import { type CommandsSandbox } from '../isolation/sandbox.js'
import { readBuildFile } from '../isolation/read-back.js'
import { failed, type ActionResult, type ActionRun } from './action.js'
import { bindCommandReferences, commandsScript, shellQuote as quote } from './shell-references.js'

const LOG_LIMIT = 5 * 1024 * 1024
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export interface CommandsOptions {
  enabled: boolean
  maxTimeoutMs: number
  /** Isolation for the builds (set whenever `enabled` is). */
  sandbox?: CommandsSandbox | undefined
}

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const MiB = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`

/** Runs `git` with an Authorization header from the environment (never in argv or the log). */
function git(args: string[], cwd: string, auth: string | undefined, signal: AbortSignal) {
  return new Promise<void>((resolveGit, reject) => {
    const env: NodeJS.ProcessEnv = { PATH, HOME: cwd, GIT_TERMINAL_PROMPT: '0' }
    if (auth) {
      env['GIT_CONFIG_COUNT'] = '1'
      env['GIT_CONFIG_KEY_0'] = 'http.extraHeader'
      env['GIT_CONFIG_VALUE_0'] = `Authorization: Basic ${auth}`
    }
    const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], signal })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)))
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolveGit() : reject(new Error(`git ${args[0]} failed: ${err.trim()}`)),
    )
  })
}

async function cloneInto(r: ActionRun, refPath: string, dir: string): Promise<void> {
  const ref = JSON.parse(readFileSync(refPath, 'utf8')) as {
    connectionArn: string
    fullRepositoryId: string
    commitId: string
  }
  const caller = r.caller(ref.connectionArn)
  const c = await r.connect.cloneCredentials(caller, ref.connectionArn, ref.fullRepositoryId)
  const auth = Buffer.from(`${c.username}:${c.password}`).toString('base64')
  mkdirSync(dir, { recursive: true })
  await git(['clone', '--quiet', '--no-checkout', c.url, '.'], dir, auth, r.signal)
  await git(['checkout', '--quiet', '--detach', ref.commitId], dir, undefined, r.signal)
}

export async function runCommands(r: ActionRun, o: CommandsOptions): Promise<ActionResult> {
  if (!o.enabled)
    return failed(
      'The Commands action runs only when the operator starts Junction with --enable-commands (it executes shell commands from the pipeline definition on the Junction host)',
      'CommandsDisabled',
    )
  if (!o.sandbox)
    return failed('Commands cannot run: builds are not isolated on this node', 'CommandsDisabled')
  const build = await o.sandbox.prepare()
  const base = build.base
  const work = join(base, 'src')
  const varsFile = join(base, '.vars')
  mkdirSync(dirname(r.logFile), { recursive: true, mode: 0o700 })
  const log = createWriteStream(r.logFile, { mode: 0o600 })
  let written = 0
  const append = (b: Buffer | string) => {
    if (written >= LOG_LIMIT) return
    const buf = typeof b === 'string' ? Buffer.from(b) : b
    const room = LOG_LIMIT - written
    log.write(buf.length > room ? buf.subarray(0, room) : buf)
    written += Math.min(buf.length, room)
    if (written >= LOG_LIMIT) log.write('\n[log truncated at 5 MiB]\n')
  }
  const started = Date.now()
  try {
    const env: Record<string, string> = {
      PATH,
      HOME: work,
      LANG: 'C.UTF-8',
      CODEPIPELINE_PIPELINE_NAME: r.pipelineName,
      CODEPIPELINE_EXECUTION_ID: r.executionId,
      CODEPIPELINE_ACTION_EXECUTION_ID: r.actionExecutionId,
    }
    for (const [i, input] of (r.action.inputArtifacts ?? []).entries()) {
      const a = r.state.artifacts[input.name]
      if (!a) return failed(`Input artifact ${input.name} was not produced in this execution`)
      const dir = i === 0 ? work : inside(base, segment(input.name))
      mkdirSync(dir, { recursive: true })
      if (a.kind === 'zip')
        await extractZip(a.path, dir, r.limits.artifactBytes, `Input artifact ${input.name}`)
      else {
        append(`[junction] cloning ${input.name} through its connection\n`)
        await cloneInto(r, a.path, dir)
      }
      env[`JUNCTION_SRC_DIR_${input.name.replace(/[^A-Za-z0-9_]/g, '_')}`] = dir
    }
    for (const e of r.action.environmentVariables ?? []) {
      const value = resolveVariables(e.value, r.scopes)
      if (!SHELL_NAME.test(e.name))
        return {
          ...failed(`Environment variable name ${e.name} is not a shell name`),
          hasLog: true,
        }
      if (Buffer.byteLength(`${e.name}=${value}`) >= 128 * 1024)
        return {
          ...failed(
            `Environment variable ${e.name} is longer than the 128 KiB a process environment entry may hold`,
          ),
          hasLog: true,
        }
      if (value.includes('\0'))
        return {
          ...failed(`The value of environment variable ${e.name} contains a NUL byte`),
          hasLog: true,
        }
      env[e.name] = value
    }
    for (const v of r.action.outputVariables ?? [])
      if (!SHELL_NAME.test(v))
        return { ...failed(`Output variable name ${v} is not a shell name`), hasLog: true }
    // Values are data: each #{…} reference becomes a reference to a shell variable holding it.
    const templates = r.action.commands ?? []
    const bound = bindCommandReferences(templates, r.scopes)
    const shown = templates.map((c) => resolveVariables(c, r.scopes))
    const capture = (r.action.outputVariables ?? [])
      .map((v) => `printf '%s=%s\\0' ${quote(v)} "\${${v}-}" >> ${quote(varsFile)}`)
      .join('\n')
    // The build's script sets its whole environment (only a fixed PATH reaches the root part of
    // the isolation chain); every value is one single-quoted word, never shell syntax.
    const script = commandsScript({ env, bound, shown, cwd: work, after: capture })
    mkdirSync(work, { recursive: true })
    build.writeScript(script)
    await build.handOver()
    const limitMs = Math.min((r.action.timeoutInMinutes ?? 60) * 60_000, o.maxTimeoutMs)
    const caps = o.sandbox.limits
    const outcome = await new Promise<{
      code: number | null
      timedOut: boolean
      aborted: boolean
      overLimit?: string
    }>((resolveRun) => {
      // Dies with this process (even by SIGKILL), and every process of the build with it.
      const child = build.start()
      let timedOut = false
      let aborted = false
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }
      const timer = setTimeout(() => {
        timedOut = true
        kill()
      }, limitMs)
      // The process limit (a fork bomb) and the disk the working directory uses, checked while
      // the build runs; the memory limit is the kernel's (its OOM killer, in the build's group).
      let overLimit: string | undefined
      let measuring = false
      let ticks = 0
      const monitor = setInterval(() => {
        if (overLimit) return
        if (build.groups.processLimitHits() > 0) {
          overLimit = `reached the limit of ${caps.processes} processes`
          kill()
        }
        if (measuring || ++ticks % 2) return
        measuring = true
        void build.diskUsed().then((used) => {
          measuring = false
          if (used > caps.diskBytes && !overLimit) {
            overLimit = `used more than ${MiB(caps.diskBytes)} of disk in its working directory`
            kill()
          }
        })
      }, 1000)
      const onAbort = () => {
        aborted = true
        kill()
      }
      r.signal.addEventListener('abort', onAbort)
      // An abandon that came while the build was being prepared fired no event for this listener.
      if (r.signal.aborted) onAbort()
      child.stdout!.on('data', append)
      child.stderr!.on('data', append)
      child.on('error', (err) => {
        append(`[junction] could not start the shell: ${err.message}\n`)
      })
      child.on('close', (code) => {
        clearTimeout(timer)
        clearInterval(monitor)
        r.signal.removeEventListener('abort', onAbort)
        if (!overLimit && build.groups.oomKills() > 0)
          overLimit = `ran out of memory (the limit is ${MiB(caps.memoryBytes)})`
        // A build that stopped on a failed fork before the monitor's next look.
        if (!overLimit && build.groups.processLimitHits() > 0)
          overLimit = `reached the limit of ${caps.processes} processes`
        // 128 + SIGXFSZ: a process went past RLIMIT_FSIZE.
        if (!overLimit && code === 153)
          overLimit = `wrote a file larger than the limit of ${MiB(caps.diskBytes)}`
        resolveRun({ code, timedOut, aborted, ...(overLimit ? { overLimit } : {}) })
      })
    })
    const secondsTaken = ((Date.now() - started) / 1000).toFixed(1)
    if (outcome.aborted) return { ...failed('The action was abandoned'), hasLog: true }
    const limit =
      limitMs % 60_000 === 0
        ? `${limitMs / 60_000} minutes`
        : `${Math.round(limitMs / 1000)} seconds`
    if (outcome.timedOut) {
      append(`\n[junction] stopped after the time limit of ${limit}\n`)
      return {
        ...failed(`The commands exceeded the time limit of ${limit}`, 'Timeout'),
        hasLog: true,
      }
    }
    if (outcome.overLimit) {
      append(`\n[junction] stopped: the build ${outcome.overLimit}\n`)
      return {
        ...failed(`The commands were stopped: the build ${outcome.overLimit}`, 'ResourceLimit'),
        hasLog: true,
      }
    }
    if (outcome.code !== 0) {
      append(`\n[junction] exited with status ${String(outcome.code)} after ${secondsTaken} s\n`)
      return {
        ...failed(
          `A command exited with status ${String(outcome.code)}; see the log`,
          'CommandFailed',
        ),
        hasLog: true,
      }
    }
    append(`\n[junction] succeeded after ${secondsTaken} s\n`)
    const outputVariables: Record<string, string> = {}
    // Written by the build: read without following a link it may have put there.
    const vars = readBuildFile(varsFile, 1024 * 1024)
    for (const pair of vars.split('\0')) {
      const eq = pair.indexOf('=')
      if (eq > 0) outputVariables[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
    // The build owned its working directory: outputs are read from it only if it is still a
    // directory (not a link the build put in its place).
    if ((r.action.outputArtifacts ?? []).length > 0 && !lstatSync(work).isDirectory())
      return {
        ...failed('The working directory was replaced by something else than a directory'),
        hasLog: true,
      }
    const artifacts: NonNullable<ActionResult['artifacts']> = {}
    for (const out of r.action.outputArtifacts ?? []) {
      // Streamed to disk, capped, links never followed (artifacts.ts).
      const made = await writeOutputArtifact(
        work,
        out,
        r.artifactDir,
        r.limits.artifactBytes,
        append,
      )
      if ('failure' in made) return { ...failed(made.failure, made.code), hasLog: true }
      artifacts[out.name] = { path: made.path, kind: 'zip' }
    }
    return {
      status: 'Succeeded',
      summary: `${templates.length} command${templates.length === 1 ? '' : 's'} succeeded in ${secondsTaken} s`,
      outputVariables,
      artifacts,
      hasLog: true,
    }
  } catch (err) {
    const message = err instanceof AwsError ? `${err.code}: ${err.message}` : (err as Error).message
    append(`[junction] ${message}\n`)
    return { ...failed(message), hasLog: true }
  } finally {
    await new Promise<void>((done) => log.end(done))
    await build.dispose()
  }
}
