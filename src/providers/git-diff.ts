/**
 * @module providers/git-diff
 * Changed files between two commits, read over Git when a provider's API cannot list them all
 * (GitHub's compare API lists at most 300 files). The same credential handling as
 * `git-archive.ts` (an `Authorization` header in git's environment, scoped to the clone URL's
 * origin, redirects refused), in a temporary bare repository removed afterwards:
 * - `base` given, not from the merge base: both commits at depth 1 (their trees are all a diff
 *   needs), then `git diff base commit`;
 * - from the merge base: both commits' histories (needed to find it), then `git diff base...commit`;
 * - no base: the commit at depth 2 and a diff against its first parent (the empty tree for a root).
 * Renames are detected as git does by default (`-M`, 50 % similarity). Provider-neutral.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProviderNotFound, ProviderRequestFailed } from './errors.js'
import { fetchError, gitEnv, type GitSource } from './git-archive.js'
import type { ChangedFile } from './provider.js'

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
const FULL_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/
/** A diff listing larger than this is refused rather than held in memory. */
const MAX_OUTPUT = 64 * 1024 * 1024

function git(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let size = 0
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => {
      size += d.length
      if (size > MAX_OUTPUT) p.kill('SIGKILL')
      else out.push(d)
    })
    p.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16_384) stderr += d.toString()
    })
    p.on('error', reject)
    p.on('close', (code) =>
      resolve({ code: size > MAX_OUTPUT ? -1 : code, stdout: Buffer.concat(out), stderr }),
    )
  })
}

/** Parses `git diff --name-status -z` (status, path; or R/C score, old path, new path). */
export function parseNameStatus(out: Buffer): ChangedFile[] {
  const f = out.toString('utf8').split('\0')
  const files: ChangedFile[] = []
  for (let i = 0; i + 1 < f.length;) {
    const s = f[i++]!
    const a = f[i++]!
    if (s.startsWith('R') || s.startsWith('C')) {
      const b = f[i++] ?? ''
      files.push(
        s.startsWith('R')
          ? { status: 'renamed', path: b, oldPath: a }
          : { status: 'added', path: b },
      )
    } else if (s === 'A') files.push({ status: 'added', path: a })
    else if (s === 'D') files.push({ status: 'removed', path: a })
    else if (s !== '') files.push({ status: 'modified', path: a })
  }
  return files
}

/**
 * Files changed by `commit` relative to `base` (default: its first parent), as `git diff`
 * (`fromMergeBase`: `git diff base...commit`). Both ids must be full.
 * @throws ProviderAuthFailed, ProviderNotFound, ProviderRequestFailed
 */
export async function gitChangedFiles(
  src: GitSource,
  o: { commit: string; base?: string; fromMergeBase?: boolean; tmpDir?: string },
): Promise<ChangedFile[]> {
  for (const x of [o.commit, o.base])
    if (x !== undefined && !FULL_ID.test(x))
      throw new ProviderNotFound(`'${x.slice(0, 80)}' is not a full commit id`)
  if (!/^https?:\/\//.test(src.url)) throw new ProviderRequestFailed('The clone URL is not HTTP(S)')
  const dir = await mkdtemp(join(o.tmpDir ?? tmpdir(), 'junction-git-diff-'))
  try {
    const env = gitEnv(src, dir)
    if ((await git(['init', '-q', '--bare', dir], env)).code !== 0)
      throw new ProviderRequestFailed('git init failed')
    const wants = o.base ? [o.commit, o.base] : [o.commit]
    const depth = o.base && o.fromMergeBase ? [] : [`--depth=${o.base ? 1 : 2}`]
    const fetched = await git(
      [
        '--git-dir',
        dir,
        'fetch',
        '-q',
        '--no-tags',
        '--no-write-fetch-head',
        ...depth,
        '--',
        src.url,
        ...wants,
      ],
      env,
    )
    if (fetched.code !== 0) throw fetchError(fetched.stderr)
    let from: string
    const to = o.commit
    if (!o.base) {
      const parent = await git(
        ['--git-dir', dir, 'rev-parse', '-q', '--verify', `${o.commit}^1`],
        env,
      )
      from = parent.code === 0 ? parent.stdout.toString().trim() : EMPTY_TREE
    } else if (o.fromMergeBase) {
      const mb = await git(['--git-dir', dir, 'merge-base', o.base, o.commit], env)
      if (mb.code !== 0) throw new ProviderNotFound('The two commits have no common ancestor')
      from = mb.stdout.toString().trim()
    } else from = o.base
    const diff = await git(
      ['--git-dir', dir, 'diff', '--name-status', '-z', '-M', '--no-ext-diff', from, to],
      env,
    )
    if (diff.code !== 0) throw new ProviderRequestFailed('git diff failed')
    return parseNameStatus(diff.stdout)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
