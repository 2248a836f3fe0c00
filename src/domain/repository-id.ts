/**
 * @module domain/repository-id
 * A repository's `FullRepositoryId`: `owner/name` (a Bitbucket workspace or a GitHub account and
 * the repository), or a path with nested namespaces (GitLab: `group/subgroup/project`). Core code
 * (connection use, webhooks, pipeline declarations, the IAM context) reads ids only through these
 * functions, so a provider with nested namespaces needs nothing special there.
 *
 * A provider with numeric repository ids (GitLab's project ids, capability
 * `numericRepositoryIds`) also accepts one as `FullRepositoryId`: {@link isFullRepositoryId}.
 * A numeric id is never within a target by itself: connection use resolves it to its path first,
 * and scope and IAM are decided on that path.
 */

/** At most this many namespace levels (GitLab allows 20 subgroup levels under a top group). */
const MAX_SEGMENTS = 21

/**
 * The same rule as a pattern (for field validation): `/`-separated segments without spaces, none
 * of them `.` or `..`. {@link isRepositoryId} also bounds the length and the depth.
 */
export const REPOSITORY_ID_PATTERN = /^(?!\.\.?(?:\/|$))[^/\s]+(?:\/(?!\.\.?(?:\/|$))[^/\s]+)+$/

/** A numeric repository id (a GitLab project id): digits only, at most 20. */
export const NUMERIC_REPOSITORY_ID_PATTERN = /^[0-9]{1,20}$/

/** What a `FullRepositoryId` field accepts: a path (as {@link REPOSITORY_ID_PATTERN}) or a number. */
export const FULL_REPOSITORY_ID_PATTERN = new RegExp(
  `^(?:[0-9]{1,20}|${REPOSITORY_ID_PATTERN.source.slice(1, -1)})$`,
)

/** Whether `id` is a numeric repository id (to resolve with the provider before any scope check). */
export function isNumericRepositoryId(id: string): boolean {
  return NUMERIC_REPOSITORY_ID_PATTERN.test(id)
}

/** Whether `id` may be given as a `FullRepositoryId`: a repository id (path) or a numeric id. */
export function isFullRepositoryId(id: string): boolean {
  return isNumericRepositoryId(id) || isRepositoryId(id)
}

/** Whether `id` is a repository id: two or more non-empty segments, none `.` or `..`, no spaces. */
export function isRepositoryId(id: string): boolean {
  if (id.length > 512) return false
  const parts = id.split('/')
  return (
    parts.length >= 2 &&
    parts.length <= MAX_SEGMENTS + 1 &&
    parts.every((p) => p !== '' && p !== '.' && p !== '..' && !/\s/.test(p))
  )
}

/** The id's owner (everything before the last `/`) and name (the last segment). */
export function splitRepositoryId(id: string): { owner: string; name: string } {
  const i = id.lastIndexOf('/')
  return i < 0 ? { owner: '', name: id } : { owner: id.slice(0, i), name: id.slice(i + 1) }
}

/**
 * The repository's path below the target (`api`, or `tools/api` in a subgroup), or undefined when
 * it is not within it. An installation narrowed to one repository compares this.
 */
export function pathInTarget(id: string, target: string): string | undefined {
  return withinTarget(id, target) ? id.slice(target.length + 1) : undefined
}

/**
 * Whether the repository lies within an installation's target (a workspace, an account, or a
 * GitLab group at any depth, whose subgroups' projects it also reaches). Case-insensitive, as the
 * providers treat names; `acme` does not contain `acme-tools/x`.
 */
export function withinTarget(id: string, target: string): boolean {
  if (!target || !isRepositoryId(id)) return false
  const prefix = `${target.toLowerCase()}/`
  return id.toLowerCase().startsWith(prefix) && id.length > prefix.length
}
