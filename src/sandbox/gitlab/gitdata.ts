/**
 * @module sandbox/gitlab/gitdata
 * What the sandbox GitLab reads from a project's bare repository with the real `git` (the core's
 * plumbing): commits with author and committer, logs and counts, branches, merge bases, and diffs
 * per file with modes, rename detection and the unified patch text GitLab's `diff` field holds.
 */
import { git, resolveRef } from '../core/git.js'

export interface GlCommit {
  id: string
  parents: string[]
  authorName: string
  authorEmail: string
  authoredDate: string
  committerName: string
  committerEmail: string
  committedDate: string
  message: string
}

const SEP = '\x1f'
const END = '\x1e'
const FORMAT = ['%H', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join(SEP) + END

function parse(out: string): GlCommit[] {
  return out
    .split(END)
    .map((s) => s.replace(/^\n/, ''))
    .filter((s) => s.length > 0)
    .map((s) => {
      const f = s.split(SEP)
      return {
        id: f[0] ?? '',
        parents: f[1] ? f[1].split(' ') : [],
        authorName: f[2] ?? '',
        authorEmail: f[3] ?? '',
        authoredDate: f[4] ?? '',
        committerName: f[5] ?? '',
        committerEmail: f[6] ?? '',
        committedDate: f[7] ?? '',
        message: f[8] ?? '',
      }
    })
}

/** The commit a SHA, branch or tag names; undefined when none. */
export async function commitOf(dir: string, rev: string): Promise<GlCommit | undefined> {
  if (rev === '' || rev.startsWith('-')) return undefined
  const id = await resolveRef(dir, rev)
  if (!id) return undefined
  return parse(await git(dir, ['log', '-1', `--format=${FORMAT}`, id]))[0]
}

/** Commits of `args` (a range and `--not` refs), newest first, at most `max`. */
export async function logOf(dir: string, args: string[], max: number): Promise<GlCommit[]> {
  return parse(await git(dir, ['log', `-${max}`, `--format=${FORMAT}`, ...args, '--']))
}

export async function countOf(dir: string, args: string[]): Promise<number> {
  return Number((await git(dir, ['rev-list', '--count', ...args, '--'])).trim()) || 0
}

export async function mergeBase(dir: string, a: string, b: string): Promise<string | undefined> {
  try {
    return (await git(dir, ['merge-base', a, b])).trim() || undefined
  } catch {
    return undefined
  }
}

/** Branch names with their tips, sorted by name (GitLab's order). */
export async function branches(dir: string): Promise<{ name: string; sha: string }[]> {
  const out = await git(dir, [
    'for-each-ref',
    '--sort=refname',
    '--format=%(refname:strip=2) %(objectname)',
    'refs/heads',
  ])
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const i = l.lastIndexOf(' ')
      return { name: l.slice(0, i), sha: l.slice(i + 1) }
    })
}

/** The default branch (HEAD's target). */
export async function headBranch(dir: string): Promise<string> {
  return (await git(dir, ['symbolic-ref', '--short', 'HEAD'])).trim()
}

export interface FileDiff {
  oldPath: string
  newPath: string
  aMode: string | null
  bMode: string
  newFile: boolean
  renamedFile: boolean
  deletedFile: boolean
  diff: string
  additions: number
  deletions: number
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

/** `git diff from to` per file (from: the first parent, or the empty tree for a root commit). */
export async function diffOf(dir: string, to: string, from?: string): Promise<FileDiff[]> {
  const base = from ?? (await resolveRef(dir, `${to}^`)) ?? EMPTY_TREE
  const out = await git(dir, ['diff', '-M', '--full-index', '--no-color', base, to])
  const files: FileDiff[] = []
  for (const chunk of out.split(/^diff --git /m).slice(1)) {
    const lines = chunk.split('\n')
    const f: FileDiff = {
      oldPath: '',
      newPath: '',
      aMode: null,
      bMode: '100644',
      newFile: false,
      renamedFile: false,
      deletedFile: false,
      diff: '',
      additions: 0,
      deletions: 0,
    }
    const m = /^a\/(.*) b\/(.*)$/.exec(lines[0] ?? '')
    f.oldPath = m?.[1] ?? ''
    f.newPath = m?.[2] ?? ''
    let i = 1
    for (; i < lines.length && !lines[i]!.startsWith('@@'); i++) {
      const l = lines[i]!
      if (l.startsWith('new file mode ')) {
        f.newFile = true
        f.bMode = l.slice(14)
        f.aMode = '0'
      } else if (l.startsWith('deleted file mode ')) {
        f.deletedFile = true
        f.aMode = l.slice(18)
        f.bMode = '0'
      } else if (l.startsWith('index ')) {
        const mode = /\s(\d{6})$/.exec(l)?.[1]
        if (mode) f.aMode = f.bMode = mode
      } else if (l.startsWith('rename from ')) {
        f.renamedFile = true
        f.oldPath = l.slice(12)
      } else if (l.startsWith('rename to ')) f.newPath = l.slice(10)
      else if (l.startsWith('old mode ')) f.aMode = l.slice(9)
      else if (l.startsWith('new mode ')) f.bMode = l.slice(9)
    }
    const body = lines.slice(i).join('\n').replace(/\n$/, '')
    f.diff = body === '' ? '' : `${body}\n`
    for (const l of lines.slice(i)) {
      if (l.startsWith('+') && !l.startsWith('+++')) f.additions++
      if (l.startsWith('-') && !l.startsWith('---')) f.deletions++
    }
    files.push(f)
  }
  return files
}

/** Per commit, the paths it added, modified and removed (for push payloads). */
export async function touched(
  dir: string,
  id: string,
): Promise<{ added: string[]; modified: string[]; removed: string[] }> {
  const out = await git(dir, [
    'diff-tree',
    '--root',
    '--no-commit-id',
    '-r',
    '--name-status',
    '-z',
    id,
  ])
  const parts = out.split('\0').filter((p) => p !== '')
  const r = { added: [] as string[], modified: [] as string[], removed: [] as string[] }
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [code, path] = [parts[i]!, parts[i + 1]!]
    if (code === 'A') r.added.push(path)
    else if (code === 'D') r.removed.push(path)
    else r.modified.push(path)
  }
  return r
}
