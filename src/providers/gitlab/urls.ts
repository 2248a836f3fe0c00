/**
 * @module providers/gitlab/urls
 * Project ids and REST paths. A `FullRepositoryId` is the project's `path_with_namespace`, which
 * may have several slashes (`acme/platform/tools/api`); GitLab's `:id` takes it URL-encoded as ONE
 * segment (`acme%2Fplatform%2Ftools%2Fapi`), or the numeric project id. Every other path segment (a
 * branch `release/1.0`, a ref) is sent percent-encoded whole as well. Pagination follows the
 * `Link` header's `rel="next"`, else `X-Next-Page` on the same URL, only under the API base.
 */
import { ProviderNotFound, ProviderRequestFailed } from '../errors.js'

/** One namespace or project path segment (GitLab: letters, digits, `_`, `-`, `.`; not `.`/`..`). */
const SEGMENT = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}$/
/** A top group plus at most 20 levels of subgroups, and the project. */
const MAX_SEGMENTS = 22
export const NUMERIC_ID = /^[1-9][0-9]{0,19}$/
export const FULL_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/

function validPath(path: string, min: number): boolean {
  if (path.length > 1024) return false
  const parts = path.split('/')
  return (
    parts.length >= min &&
    parts.length <= MAX_SEGMENTS &&
    parts.every((p) => p !== '.' && p !== '..' && p.length <= 255 && SEGMENT.test(p))
  )
}

/** Whether `path` can be a namespace (group, subgroup or user) full path. */
export function isNamespacePath(path: string): boolean {
  return validPath(path, 1)
}

/**
 * The project as GitLab's `:id` takes it: a numeric id as it is, a path URL-encoded whole.
 * @throws ProviderNotFound when it can be neither
 */
export function projectId(fullName: string): string {
  if (NUMERIC_ID.test(fullName)) return fullName
  if (!validPath(fullName, 2))
    throw new ProviderNotFound(
      `'${fullName.slice(0, 200)}' is not a GitLab project (namespace/project or a numeric id)`,
    )
  return encodeURIComponent(fullName)
}

/** A namespace path as `:id` (one encoded segment). @throws ProviderNotFound */
export function namespaceId(path: string): string {
  if (!isNamespacePath(path))
    throw new ProviderNotFound(`'${path.slice(0, 200)}' is not a GitLab group or namespace path`)
  return encodeURIComponent(path)
}

/** `{api}/projects/{id}` followed by each of `segments`, each percent-encoded whole. */
export function projectUrl(apiUrl: string, fullName: string, ...segments: string[]): string {
  return [`${apiUrl}/projects/${projectId(fullName)}`, ...segments.map(encodeURIComponent)].join(
    '/',
  )
}

/** The `rel="next"` URL of a `Link` header (RFC 8288), if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined
  for (const part of link.split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part)
    if (m && /(?:^|;)\s*rel="?(?:[^"]*\s)?next(?:\s[^"]*)?"?\s*(?:;|$)/.test(m[2]!)) return m[1]
  }
  return undefined
}

/**
 * The next page of a listing answered for `url`: the `Link` header's `rel="next"` (GitLab's own
 * advice: use the links, not URLs of your own), else `X-Next-Page` set as `page` on the same URL
 * (gitlab.com leaves some headers out of large listings). Undefined on the last page.
 */
export function nextPage(url: string, headers: Headers): string | undefined {
  const link = nextLink(headers.get('link'))
  if (link) return new URL(link, url).toString()
  const n = headers.get('x-next-page')?.trim()
  if (!n || !/^[1-9][0-9]{0,9}$/.test(n)) return undefined
  const u = new URL(url)
  u.searchParams.set('page', n)
  return u.toString()
}

/** `url` when it is under the API base, for page tokens handed back by callers. */
export function underApi(apiUrl: string, url: string): string {
  if (!url.startsWith(`${apiUrl}/`))
    throw new ProviderRequestFailed('The page token does not belong to this provider')
  return url
}

/** A commit id (full or abbreviated hex). @throws ProviderNotFound */
export function commitId(x: string): string {
  if (!/^[0-9a-f]{4,64}$/i.test(x))
    throw new ProviderNotFound(`'${x.slice(0, 80)}' is not a commit id`)
  return x
}

/**
 * A commit id, or a branch name to resolve (a merge request event names its target branch, not
 * a commit). @throws ProviderNotFound when it can be neither
 */
export function revision(x: string): string {
  if (/^[0-9a-f]{4,64}$/i.test(x)) return x
  if (x.length > 255 || x === '' || /[\s~^:?*[\\]|\.\.|@\{|^-|^\/|\/$/.test(x))
    throw new ProviderNotFound(`'${x.slice(0, 80)}' is not a commit id`)
  return x
}
