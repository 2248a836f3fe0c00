/**
 * @module sandbox/github/gitdata
 * What GitHub's REST answers need from a bare repository beyond the core's git helpers: commits
 * with their tree and committer, changed files with blob ids (`git diff --raw`), merge bases and
 * refs with their object types.
 */
import { git, resolveRef } from '../core/git.js'
import { iso } from './context.js'

export interface GitCommit {
  sha: string
  tree: string
  parents: string[]
  authorName: string
  authorEmail: string
  authorDate: string
  committerName: string
  committerEmail: string
  committerDate: string
  message: string
}

const SEP = '\x1f'
const END = '\x1e'
const utc = (d: string | undefined) => (d ? iso(Date.parse(d)) : '')
const FORMAT = ['%H', '%T', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join(SEP) + END

function parse(out: string): GitCommit[] {
  return out
    .split(END)
    .map((s) => s.replace(/^\n/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      const f = s.split(SEP)
      return {
        sha: f[0] ?? '',
        tree: f[1] ?? '',
        parents: f[2] ? f[2].split(' ') : [],
        authorName: f[3] ?? '',
        authorEmail: f[4] ?? '',
        // GitHub answers commit dates in UTC (`…Z`), whatever the committer's offset.
        authorDate: utc(f[5]),
        committerName: f[6] ?? '',
        committerEmail: f[7] ?? '',
        committerDate: utc(f[8]),
        message: (f[9] ?? '').replace(/\n+$/, ''),
      }
    })
}

/** One commit by id, abbreviated id or ref; undefined when there is none. */
export async function commitOf(repo: string, rev: string): Promise<GitCommit | undefined> {
  if (rev.startsWith('-')) return undefined
  const id = await resolveRef(repo, rev)
  if (!id) return undefined
  return parse(await git(repo, ['log', '-1', `--format=${FORMAT}`, id]))[0]
}

/** `git log` of a range or ref, newest first, `skip` then at most `max`. */
export async function logOf(
  repo: string,
  range: string,
  skip: number,
  max: number,
  reverse = false,
): Promise<GitCommit[]> {
  const args = ['log', `--skip=${skip}`, `-${max}`, `--format=${FORMAT}`]
  if (reverse) args.push('--reverse')
  return parse(await git(repo, [...args, range, '--']))
}

export async function countRange(repo: string, range: string): Promise<number> {
  return Number((await git(repo, ['rev-list', '--count', range, '--'])).trim())
}

export async function mergeBase(repo: string, a: string, b: string): Promise<string | undefined> {
  try {
    return (await git(repo, ['merge-base', a, b])).trim() || undefined
  } catch {
    return undefined
  }
}

export interface FileChange {
  filename: string
  previousFilename?: string
  status: 'added' | 'removed' | 'modified' | 'renamed'
  /** The blob after the change (before it, for a removal). */
  sha: string
  additions: number
  deletions: number
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

/** The files changed from `from` (default: the first parent, or nothing) to `to`. */
export async function changes(repo: string, to: string, from?: string): Promise<FileChange[]> {
  const base = from ?? (await resolveRef(repo, `${to}^`)) ?? EMPTY_TREE
  const raw = (await git(repo, ['diff', '--raw', '-z', '-M', '--no-abbrev', base, to]))
    .split('\0')
    .filter((p) => p !== '')
  const nums = (await git(repo, ['diff', '--numstat', '-z', '-M', base, to])).split('\0')
  const out: FileChange[] = []
  for (let i = 0; i < raw.length;) {
    const meta = raw[i++]!.split(' ')
    const code = meta[4] ?? 'M'
    const oldSha = meta[2] ?? ''
    const newSha = meta[3] ?? ''
    if (code.startsWith('R')) {
      const prev = raw[i++]!
      out.push({
        filename: raw[i++]!,
        previousFilename: prev,
        status: 'renamed',
        sha: newSha,
        additions: 0,
        deletions: 0,
      })
    } else {
      const filename = raw[i++]!
      const status = code === 'A' ? 'added' : code === 'D' ? 'removed' : 'modified'
      out.push({
        filename,
        status,
        sha: status === 'removed' ? oldSha : newSha,
        additions: 0,
        deletions: 0,
      })
    }
  }
  let k = 0
  for (let i = 0; i < nums.length && k < out.length; i++) {
    const m = /^(\d+|-)\t(\d+|-)\t(.*)$/.exec(nums[i]!)
    if (!m) continue
    if (m[3] === '') i += 2
    out[k]!.additions = m[1] === '-' ? 0 : Number(m[1])
    out[k]!.deletions = m[2] === '-' ? 0 : Number(m[2])
    k++
  }
  return out
}

export interface RefEntry {
  ref: string
  type: 'commit' | 'tag'
  sha: string
}

/** Branches and tags (`refs/heads/…`, `refs/tags/…`) with their object type and id. */
export async function refEntries(repo: string): Promise<RefEntry[]> {
  const out = await git(repo, [
    'for-each-ref',
    '--format=%(refname) %(objecttype) %(objectname)',
    'refs/heads',
    'refs/tags',
  ])
  return out
    .split('\n')
    .map((l) => l.split(' '))
    .filter((p) => p.length === 3)
    .map(([ref, type, sha]) => ({ ref: ref!, type: type === 'tag' ? 'tag' : 'commit', sha: sha! }))
}

/** The default branch (HEAD's name), whether or not it has commits yet. */
export async function headBranch(repo: string): Promise<string> {
  try {
    return (await git(repo, ['symbolic-ref', '--short', 'HEAD'])).trim() || 'main'
  } catch {
    return 'main'
  }
}
