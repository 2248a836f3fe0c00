/**
 * @module providers/github/urls
 * Repository ids and REST paths. `owner/repo` is checked against GitHub's alphabets (logins:
 * letters, digits and single hyphens, at most 39; repository names: letters, digits, `.`, `-`,
 * `_`, at most 100) before it reaches a URL; every path segment (a branch `release/1.0`, a ref)
 * is sent percent-encoded as one segment, as Octokit's URL templates send `{branch}`. Pagination
 * follows the `Link` header's `rel="next"`, only under the API base (no open redirect).
 */
import { ProviderNotFound, ProviderRequestFailed } from '../errors.js'

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
const NAME = /^[A-Za-z0-9._-]{1,100}$/

/** `[owner, repo]` of `owner/repo`. @throws ProviderNotFound when it cannot be a GitHub repository */
export function splitFullName(fullName: string): [string, string] {
  const parts = fullName.split('/')
  const [owner, repo] = parts as [string, string]
  if (parts.length !== 2 || !OWNER.test(owner) || !NAME.test(repo) || repo === '.' || repo === '..')
    throw new ProviderNotFound(
      `'${fullName.slice(0, 200)}' is not a GitHub repository id (owner/repository)`,
    )
  return [owner, repo]
}

/** `{api}/repos/{owner}/{repo}` followed by each of `segments`, each percent-encoded whole. */
export function repoUrl(apiUrl: string, fullName: string, ...segments: string[]): string {
  const [owner, repo] = splitFullName(fullName)
  return [apiUrl, 'repos', owner, repo, ...segments]
    .map((s, i) => (i === 0 ? s : encodeURIComponent(s)))
    .join('/')
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
