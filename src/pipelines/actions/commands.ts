/**
 * @module pipelines/actions/commands
 * The `Commands` compute action: shell commands from the pipeline definition, run in a fresh
 * working directory holding the input artifacts (the first at the root, others under
 * `<root>/../<name>`, each path in `JUNCTION_SRC_DIR_<name>`), with a clean environment (PATH,
 * HOME, LANG, the execution's ids, and the action's declared environment variables) and a time
 * limit; output goes to the action's log. Output artifacts are zipped from the declared `files`
 * globs; output variables are read from the shell's environment at the end. It runs only when the
 * operator started Junction with `--enable-commands`.
 */
import { spawn } from 'node:child_process'
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { AwsError } from '../../errors/aws-error.js'
import { createZip, extractZip, matchFiles } from '../artifacts.js'
import { resolveVariables } from '../variables.js'
import { failed, type ActionResult, type ActionRun } from './action.js'

const LOG_LIMIT = 5 * 1024 * 1024
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export interface CommandsOptions {
  enabled: boolean
  maxTimeoutMs: number
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

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
  const base = mkdtempSync(join(tmpdir(), 'junction-commands-'))
  const work = join(base, 'src')
  const varsFile = join(base, '.vars')
  mkdirSync(dirname(r.logFile), { recursive: true })
  const log = createWriteStream(r.logFile)
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
      const dir = i === 0 ? work : join(base, input.name)
      mkdirSync(dir, { recursive: true })
      if (a.kind === 'zip') extractZip(readFileSync(a.path), dir)
      else {
        append(`[junction] cloning ${input.name} through its connection\n`)
        await cloneInto(r, a.path, dir)
      }
      env[`JUNCTION_SRC_DIR_${input.name.replace(/[^A-Za-z0-9_]/g, '_')}`] = dir
    }
    for (const e of r.action.environmentVariables ?? [])
      env[e.name] = resolveVariables(e.value, r.scopes)
    const commands = (r.action.commands ?? []).map((c) => resolveVariables(c, r.scopes))
    const capture = (r.action.outputVariables ?? [])
      .map((v) => `printf '%s=%s\\0' ${quote(v)} "\${${v}-}" >> ${quote(varsFile)}`)
      .join('\n')
    // A watchdog in the commands' process group kills the group within a second of Junction's
    // process dying (even by SIGKILL), so a node that dies leaves no commands running when
    // another node takes the execution over. It is stopped when the commands end.
    const watchdog = [
      `( while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -KILL 0 ) >/dev/null 2>&1 &`,
      '__junction_watchdog=$!',
      "trap 'kill $__junction_watchdog 2>/dev/null' EXIT",
    ]
    const script = [
      ...watchdog,
      'set -e',
      ...commands.map((c) => `printf '%s\\n' ${quote(`$ ${c}`)}\n${c}`),
      capture,
    ].join('\n')
    const limitMs = Math.min((r.action.timeoutInMinutes ?? 60) * 60_000, o.maxTimeoutMs)
    const outcome = await new Promise<{ code: number | null; timedOut: boolean; aborted: boolean }>(
      (resolveRun) => {
        const child = spawn('/bin/sh', ['-c', script], {
          cwd: work,
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
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
        const onAbort = () => {
          aborted = true
          kill()
        }
        r.signal.addEventListener('abort', onAbort)
        child.stdout.on('data', append)
        child.stderr.on('data', append)
        child.on('error', (err) => {
          append(`[junction] could not start the shell: ${err.message}\n`)
        })
        child.on('close', (code) => {
          clearTimeout(timer)
          r.signal.removeEventListener('abort', onAbort)
          resolveRun({ code, timedOut, aborted })
        })
      },
    )
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
    let vars = ''
    try {
      vars = readFileSync(varsFile, 'utf8')
    } catch {
      vars = ''
    }
    for (const pair of vars.split('\0')) {
      const eq = pair.indexOf('=')
      if (eq > 0) outputVariables[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
    const artifacts: NonNullable<ActionResult['artifacts']> = {}
    for (const out of r.action.outputArtifacts ?? []) {
      const files = matchFiles(work, out.files ?? [])
      if (files.length === 0)
        return {
          ...failed(`Output artifact ${out.name}: no file matches ${(out.files ?? []).join(', ')}`),
          hasLog: true,
        }
      mkdirSync(r.artifactDir, { recursive: true })
      const path = join(r.artifactDir, `${out.name}.zip`)
      writeFileSync(path, createZip(work, files))
      artifacts[out.name] = { path, kind: 'zip' }
    }
    return {
      status: 'Succeeded',
      summary: `${commands.length} command${commands.length === 1 ? '' : 's'} succeeded in ${secondsTaken} s`,
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
    rmSync(base, { recursive: true, force: true })
  }
}
