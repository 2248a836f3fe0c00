/**
 * @module sandbox/core/git
 * Plumbing over bare repositories with the real `git` (no working trees): create, commit files
 * through a temporary index, read refs, commits and diffs, archive, merge. Sandboxes build their
 * provider payloads from what these return.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A clean environment for git: no user config, no prompts, a fixed identity fallback. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    ...extra,
  }
}

export async function git(
  repo: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: string } = {},
): Promise<string> {
  if (opts.input !== undefined) {
    return new Promise((resolve, reject) => {
      const p = spawn('git', ['--git-dir', repo, ...args], { env: gitEnv(opts.env) })
      let out = ''
      let err = ''
      p.stdout.on('data', (d: Buffer) => (out += d.toString()))
      p.stderr.on('data', (d: Buffer) => (err += d.toString()))
      p.on('error', reject)
      p.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`git ${args[0]}: ${err.trim()}`)),
      )
      p.stdin.end(opts.input)
    })
  }
  const { stdout } = await run('git', ['--git-dir', repo, ...args], {
    env: gitEnv(opts.env),
    maxBuffer: 64 * 1024 * 1024,
  })
  return stdout
}

export async function initBare(repo: string, defaultBranch: string): Promise<void> {
  await run('git', ['init', '--bare', '-q', '-b', defaultBranch, repo], { env: gitEnv() })
  // Allow pushes over smart HTTP and keep reflogs out of the way.
  await git(repo, ['config', 'http.receivepack', 'true'])
}

export interface Identity {
  name: string
  email: string
}

/**
 * Commits `files` (path → content, or null to delete) on top of `branch` (created from the
 * default branch when missing); returns the new commit id. The ref moves with compare-and-set.
 */
export async function commitFiles(
  repo: string,
  branch: string,
  files: Record<string, string | null>,
  message: string,
  author: Identity,
  date?: Date,
): Promise<string> {
  const current = await resolveRef(repo, `refs/heads/${branch}`)
  // A new branch starts from the default branch (HEAD), as one made in a clone would.
  const parent = current ?? (await resolveRef(repo, 'HEAD'))
  const dir = mkdtempSync(join(tmpdir(), 'junction-index-'))
  const env: Record<string, string> = {
    GIT_INDEX_FILE: join(dir, 'index'),
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  }
  if (date) env['GIT_AUTHOR_DATE'] = env['GIT_COMMITTER_DATE'] = date.toISOString()
  try {
    if (parent) await git(repo, ['read-tree', parent], { env })
    // Two processes whatever the number of files: the blobs written from files in one
    // hash-object, then every index entry (mode 0 removes one) in one update-index.
    const entries = Object.entries(files)
    const written = entries.filter(([, content]) => content !== null)
    written.forEach(([, content], i) => writeFileSync(join(dir, `blob-${i}`), content!))
    const blobs = written.length
      ? (
          await git(repo, ['hash-object', '-w', '--stdin-paths'], {
            input: written.map((_, i) => join(dir, `blob-${i}`)).join('\n') + '\n',
          })
        )
          .trim()
          .split('\n')
      : []
    let k = 0
    const info = entries
      .map(([path, content]) =>
        content === null ? `0 ${'0'.repeat(40)}\t${path}\n` : `100644 ${blobs[k++]}\t${path}\n`,
      )
      .join('')
    if (info) await git(repo, ['update-index', '--add', '--index-info'], { env, input: info })
    const tree = (await git(repo, ['write-tree'], { env })).trim()
    const args = ['commit-tree', tree, '-m', message]
    if (parent) args.push('-p', parent)
    const commit = (await git(repo, args, { env })).trim()
    await git(repo, ['update-ref', `refs/heads/${branch}`, commit, current ?? ''])
    return commit
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function resolveRef(repo: string, ref: string): Promise<string | undefined> {
  try {
    return (await git(repo, ['rev-parse', '--verify', '-q', `${ref}^{commit}`])).trim() || undefined
  } catch {
    return undefined
  }
}

/** Every branch and tag with the commit it points at. */
export async function refs(repo: string): Promise<Map<string, string>> {
  const out = await git(repo, [
    'for-each-ref',
    '--format=%(refname) %(objectname)',
    'refs/heads',
    'refs/tags',
  ])
  const m = new Map<string, string>()
  for (const line of out.split('\n')) {
    const [name, id] = line.split(' ')
    if (name && id) m.set(name, id)
  }
  return m
}

export interface CommitData {
  id: string
  parents: string[]
  authorName: string
  authorEmail: string
  /** ISO 8601 with offset, as git prints it. */
  date: string
  message: string
}

const SEP = '\x1f'
const END = '\x1e'
const FORMAT = ['%H', '%P', '%an', '%ae', '%aI', '%B'].join(SEP) + END

function parseCommits(out: string): CommitData[] {
  return out
    .split(END)
    .map((s) => s.replace(/^\n/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      const [id = '', parents = '', authorName = '', authorEmail = '', date = '', message = ''] =
        s.split(SEP)
      return {
        id,
        parents: parents ? parents.split(' ') : [],
        authorName,
        authorEmail,
        date,
        message,
      }
    })
}

/** One commit, by full or abbreviated id or ref; undefined when it does not exist. */
export async function commitInfo(repo: string, rev: string): Promise<CommitData | undefined> {
  const id = await resolveRef(repo, rev)
  if (!id) return undefined
  return parseCommits(await git(repo, ['log', '-1', `--format=${FORMAT}`, id]))[0]
}

/** Commits reachable from `to` but not from `from` (newest first, at most `max`). */
export async function commitsBetween(
  repo: string,
  from: string | undefined,
  to: string,
  max: number,
): Promise<CommitData[]> {
  const range = from ? `${from}..${to}` : to
  return parseCommits(await git(repo, ['log', `-${max}`, `--format=${FORMAT}`, range]))
}

export interface DiffEntry {
  status: 'added' | 'removed' | 'modified' | 'renamed'
  oldPath?: string
  newPath?: string
  added: number
  removed: number
}

/** `git diff base commit` with renames; base defaults to the first parent (or the empty tree). */
export async function diff(repo: string, commit: string, base?: string): Promise<DiffEntry[]> {
  const from =
    base ?? (await resolveRef(repo, `${commit}^`)) ?? '4b825dc642cb6eb9a060e54bf8d69288fbee4904'
  const names = await git(repo, ['diff', '--name-status', '-M', '-z', from, commit])
  const nums = await git(repo, ['diff', '--numstat', '-M', '-z', from, commit])
  const parts = names.split('\0').filter((p) => p !== '')
  const entries: DiffEntry[] = []
  for (let i = 0; i < parts.length;) {
    const code = parts[i++]!
    if (code.startsWith('R'))
      entries.push({
        status: 'renamed',
        oldPath: parts[i++]!,
        newPath: parts[i++]!,
        added: 0,
        removed: 0,
      })
    else if (code === 'A')
      entries.push({ status: 'added', newPath: parts[i++]!, added: 0, removed: 0 })
    else if (code === 'D')
      entries.push({ status: 'removed', oldPath: parts[i++]!, added: 0, removed: 0 })
    else {
      const p = parts[i++]!
      entries.push({ status: 'modified', oldPath: p, newPath: p, added: 0, removed: 0 })
    }
  }
  // --numstat -z: "added\tremoved\tpath\0" or for renames "added\tremoved\t\0old\0new\0".
  const n = nums.split('\0')
  let k = 0
  for (let i = 0; i < n.length && k < entries.length; i++) {
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/.exec(n[i]!)
    if (!m) continue
    if (m[3] === '') i += 2
    entries[k]!.added = m[1] === '-' ? 0 : Number(m[1])
    entries[k]!.removed = m[2] === '-' ? 0 : Number(m[2])
    k++
  }
  return entries
}

/** Streams `git archive` of `commit` in `format` with `prefix/` as the top folder. */
export function archive(repo: string, commit: string, format: 'zip' | 'tar.gz', prefix: string) {
  return spawn(
    'git',
    ['--git-dir', repo, 'archive', `--format=${format}`, `--prefix=${prefix}/`, commit],
    {
      env: gitEnv(),
    },
  )
}

/** Merges `source` into `target` as a merge commit; undefined when they conflict. */
export async function mergeCommit(
  repo: string,
  target: string,
  source: string,
  message: string,
  author: Identity,
): Promise<string | undefined> {
  let tree: string
  try {
    tree = (await git(repo, ['merge-tree', '--write-tree', target, source])).split('\n')[0]!.trim()
  } catch {
    return undefined
  }
  return (
    await git(repo, ['commit-tree', tree, '-p', target, '-p', source, '-m', message], {
      env: {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
      },
    })
  ).trim()
}
