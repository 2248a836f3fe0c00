/**
 * @module providers/git-archive
 * The tree at one commit as a zip, fetched the way a Git host accepts tokens: Git over HTTPS with
 * Basic credentials (Bitbucket: `x-token-auth` and the access token), not the host's website
 * download. A temporary bare repository takes a shallow fetch of the commit (`--depth 1`, by
 * commit id; servers that refuse unadvertised commits get a fetch of their branches and tags
 * instead), then `git archive --format=zip` streams the tree with a top folder and no `.git`.
 *
 * The credential never reaches a command line, a URL or a log: it travels as an `Authorization`
 * header set through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` in git's own
 * environment (readable only by the same user), scoped to the clone URL's origin, with redirects
 * refused so the header goes nowhere else. The fetch is bounded by `maxBytes` (the pack on disk)
 * and aborted when slower than 1 KB/s for a minute; the temporary repository is removed in every
 * case, once the archive stream ends, fails or is cancelled. Provider-neutral: any adapter whose
 * host serves Git over HTTP(S) can use it (needs git 2.31 or later).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed } from './errors.js'

/** What `git fetch` over HTTP(S) needs: the clone URL and Basic-auth user and password. */
export interface GitSource {
  url: string
  username: string
  password: string
}

export interface GitArchiveOptions {
  /** The full commit id (40 or 64 hex digits). */
  commit: string
  /**
   * The zip's top folder (Bitbucket's downloads use `{workspace}-{slug}-{commit12}`); empty: the
   * tree's files at the zip's root.
   */
  prefix: string
  /** The largest pack the fetch may bring; more fails with GitArchiveTooLarge. */
  maxBytes?: number
  /** Where the temporary repository goes (default: the OS temporary directory). */
  tmpDir?: string
  /** For tests: the Git wire protocol version to speak (default: git's own, 2). */
  protocolVersion?: 0 | 2
}

/** The fetch brought more than `maxBytes`. */
export class GitArchiveTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The repository's objects at this commit are larger than ${limit} bytes`)
    this.name = 'GitArchiveTooLarge'
  }
}

const POLL_MS = 200

export function gitEnv(src: GitSource, home: string, protocolVersion?: 0 | 2): NodeJS.ProcessEnv {
  const origin = new URL(src.url).origin
  const basic = Buffer.from(`${src.username}:${src.password}`).toString('base64')
  const config: [string, string][] = [
    // Scoped to the host's origin: never sent elsewhere, and redirects are refused below.
    [`http.${origin}/.extraHeader`, `Authorization: Basic ${basic}`],
    ['http.followRedirects', 'false'],
    ['http.lowSpeedLimit', '1000'],
    ['http.lowSpeedTime', '60'],
    // Keep what arrives as one pack (never exploded into loose objects): faster, and measurable.
    ['fetch.unpackLimit', '1'],
    ['maintenance.auto', 'false'],
    ['gc.auto', '0'],
    ['credential.helper', ''],
    ['core.askPass', ''],
  ]
  if (protocolVersion !== undefined) config.push(['protocol.version', String(protocolVersion)])
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'http:https',
    GIT_CONFIG_COUNT: String(config.length),
  }
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k
    env[`GIT_CONFIG_VALUE_${i}`] = v
  })
  return env
}

/** Runs git to the end; resolves with its stderr, rejects with it (never echoed to callers). */
function runGit(
  args: string[],
  env: NodeJS.ProcessEnv,
  watch?: (p: ChildProcess) => () => void,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16_384) stderr += d.toString()
    })
    const stop = watch?.(p)
    p.on('error', (e) => {
      stop?.()
      reject(e)
    })
    p.on('close', (code) => {
      stop?.()
      resolve({ code, stderr })
    })
  })
}

async function packBytes(dir: string): Promise<number> {
  const pack = join(dir, 'objects', 'pack')
  let total = 0
  for (const name of await readdir(pack).catch(() => [] as string[])) {
    const s = await stat(join(pack, name)).catch(() => undefined)
    if (s) total += s.size
  }
  return total
}

/** Maps git's stderr to an adapter error; only the HTTP status is kept (no URL, no header). */
export function fetchError(stderr: string): Error {
  const s = stderr.toLowerCase()
  const status = /returned error: (\d{3})/.exec(s)?.[1]
  if (status === '401' || status === '403')
    return new ProviderAuthFailed(`The Git host refused the credential (${status})`, Number(status))
  if (
    s.includes('authentication failed') ||
    s.includes('could not read username') ||
    s.includes('could not read password')
  )
    return new ProviderAuthFailed('The Git host refused the credential', 401)
  if (status === '404' || /repository '.*' not found/.test(s))
    return new ProviderNotFound('The Git host has no such repository for this credential', 404)
  if (s.includes('not our ref') || s.includes('unadvertised object') || s.includes('remote ref'))
    return new ProviderNotFound('The Git host has no such commit')
  if (s.includes('redirect'))
    return new ProviderRequestFailed('The Git host answered with a redirect, which is not followed')
  return new ProviderRequestFailed(
    `Fetching from the Git host failed${status ? ` (${status})` : ''}`,
    status ? Number(status) : undefined,
  )
}

function refusesCommitWant(stderr: string): boolean {
  const s = stderr.toLowerCase()
  return s.includes('not our ref') || s.includes('unadvertised object')
}

/**
 * A zip stream of the tree at `o.commit` with `o.prefix/` as its top folder (none when empty).
 * @throws ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed, GitArchiveTooLarge
 */
export async function gitArchive(
  src: GitSource,
  o: GitArchiveOptions,
): Promise<ReadableStream<Uint8Array>> {
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(o.commit))
    throw new ProviderNotFound(`'${o.commit.slice(0, 80)}' is not a full commit id`)
  if (!/^https?:\/\//.test(src.url)) throw new ProviderRequestFailed('The clone URL is not HTTP(S)')
  const dir = await mkdtemp(join(o.tmpDir ?? tmpdir(), 'junction-git-archive-'))
  const cleanup = () => rm(dir, { recursive: true, force: true })
  try {
    const env = gitEnv(src, dir, o.protocolVersion)
    const init = await runGit(['init', '-q', '--bare', dir], env)
    if (init.code !== 0) throw new ProviderRequestFailed('git init failed')
    let tooLarge = false
    const bounded = (p: ChildProcess) => {
      if (o.maxBytes === undefined) return () => {}
      const limit = o.maxBytes
      let busy = false
      const t = setInterval(() => {
        if (busy) return
        busy = true
        void packBytes(dir).then((n) => {
          busy = false
          if (n > limit) {
            tooLarge = true
            p.kill('SIGKILL')
          }
        })
      }, POLL_MS)
      return () => clearInterval(t)
    }
    const gitFetch = (extra: string[]) =>
      runGit(
        ['--git-dir', dir, 'fetch', '-q', '--no-tags', '--no-write-fetch-head', ...extra],
        env,
        bounded,
      )
    let r = await gitFetch(['--depth=1', '--', src.url, o.commit])
    if (r.code !== 0 && !tooLarge && refusesCommitWant(r.stderr))
      // A server that only serves advertised refs: fetch them all, then look for the commit.
      r = await gitFetch(['--', src.url, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'])
    if (tooLarge || (o.maxBytes !== undefined && (await packBytes(dir)) > o.maxBytes))
      throw new GitArchiveTooLarge(o.maxBytes!)
    if (r.code !== 0) throw fetchError(r.stderr)
    const has = await runGit(['--git-dir', dir, 'cat-file', '-e', `${o.commit}^{commit}`], env)
    if (has.code !== 0) throw new ProviderNotFound('The Git host has no such commit')
    return archiveStream(dir, o, env, cleanup)
  } catch (err) {
    await cleanup()
    throw err
  }
}

function archiveStream(
  dir: string,
  o: GitArchiveOptions,
  env: NodeJS.ProcessEnv,
  cleanup: () => Promise<void>,
): ReadableStream<Uint8Array> {
  // Deflate level 1: a source archive is a transient build input, where time counts more than the
  // few percent of size the default level saves on source trees.
  const args = ['--git-dir', dir, 'archive', '--format=zip', '-1']
  if (o.prefix !== '') args.push(`--prefix=${o.prefix}/`)
  const p = spawn('git', [...args, o.commit], { env, stdio: ['ignore', 'pipe', 'ignore'] })
  const exited = new Promise<number | null>((resolve) => {
    p.on('error', () => resolve(-1))
    p.on('close', (code) => resolve(code))
  })
  const chunks = p.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  let finished = false
  const finish = async () => {
    if (finished) return
    finished = true
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
    await exited
    await cleanup()
  }
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const { done, value } = await chunks.next()
        if (!done) {
          ctrl.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
          return
        }
        const code = await exited
        await finish()
        if (code === 0) ctrl.close()
        else ctrl.error(new ProviderRequestFailed('git archive failed'))
      } catch (err) {
        await finish()
        ctrl.error(err)
      }
    },
    cancel: finish,
  })
}
