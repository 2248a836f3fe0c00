/**
 * @module providers/bitbucket/convert
 * Bitbucket REST 2.0 shapes (the parts the adapter reads) and their conversion to provider types.
 */
import type {
  BranchInfo,
  ChangedFile,
  CommitInfo,
  InstallationTarget,
  RepositoryInfo,
} from '../provider.js'

export interface BbPage<T> {
  values: T[]
  next?: string
  pagelen?: number
  size?: number
  page?: number
}

export interface BbWorkspace {
  uuid: string
  slug: string
  name: string
}

export interface BbWorkspaceAccess {
  administrator?: boolean
  workspace: BbWorkspace
}

export interface BbCommit {
  hash: string
  date: string
  message: string
  author?: { raw?: string; user?: { display_name?: string } }
  parents?: { hash: string }[]
}

export interface BbBranch {
  name: string
  target: BbCommit
}

export interface BbRepository {
  uuid: string
  full_name: string
  name: string
  slug?: string
  is_private: boolean
  mainbranch?: { name: string } | null
  links?: { clone?: { name: string; href: string }[] }
  workspace?: BbWorkspace
  project?: { key: string; uuid?: string; name?: string }
}

export interface BbProject {
  key: string
  uuid: string
  name: string
  workspace?: BbWorkspace
  owner?: { uuid: string; username?: string; display_name?: string }
}

export interface BbDiffstat {
  status: 'added' | 'removed' | 'modified' | 'renamed'
  old?: { path: string } | null
  new?: { path: string } | null
}

/** `{uuid}` → `uuid`: the braces are Bitbucket's notation, not part of the id. */
export const bareUuid = (uuid: string): string => uuid.replace(/^\{|\}$/g, '')

export function toTarget(w: BbWorkspace, administrator: boolean): InstallationTarget {
  return { id: bareUuid(w.uuid), slug: w.slug, name: w.name, administrator }
}

export function toCommit(c: BbCommit): CommitInfo {
  return {
    id: c.hash,
    authorDate: c.date,
    message: c.message,
    author: c.author?.raw ?? c.author?.user?.display_name ?? '',
    parents: (c.parents ?? []).map((p) => p.hash),
  }
}

export function toBranch(b: BbBranch): BranchInfo {
  return { name: b.name, commit: toCommit(b.target) }
}

export function toRepository(r: BbRepository, webUrl: string): RepositoryInfo {
  const [owner = '', name = ''] = r.full_name.split('/')
  const https = r.links?.clone?.find((l) => l.name === 'https')?.href
  return {
    fullName: r.full_name,
    owner,
    name,
    id: bareUuid(r.uuid),
    isPrivate: r.is_private,
    defaultBranch: r.mainbranch?.name ?? null,
    cloneUrl: stripUserInfo(https) ?? `${webUrl}/${r.full_name}.git`,
    ...(r.project?.key ? { project: r.project.key } : {}),
  }
}

export function toChangedFile(d: BbDiffstat): ChangedFile {
  const path = d.new?.path ?? d.old?.path ?? ''
  const f: ChangedFile = { status: d.status, path }
  if (d.status === 'renamed' && d.old?.path) f.oldPath = d.old.path
  return f
}

function stripUserInfo(href: string | undefined): string | undefined {
  if (!href) return undefined
  try {
    const u = new URL(href)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return undefined
  }
}
