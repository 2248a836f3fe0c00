/**
 * @module pipelines/paths
 * Paths in the artifact store and in work directories built from names users choose (pipelines,
 * stages, actions, artifacts) and from ids. CodePipeline's own name pattern (`[A-Za-z0-9.@\-_]+`)
 * admits `.` and `..`, so a name is never used as a path segment as it is: `segment` maps every
 * name to a folder name of its own that is never `.`, `..`, empty or slashed, and `inside` joins a
 * base with such segments and refuses any result that is not strictly inside the base.
 */
import { resolve, sep } from 'node:path'

/** A path built from user input would have left its folder: a bug, never a user's error. */
export class PathEscapeError extends Error {}

const PLAIN = /^[A-Za-z0-9.@_-]+$/

/**
 * The folder (or file base) name for `name`. Names of the CodePipeline pattern other than `.` and
 * `..` stay as they are (so existing folders keep their names); `.`, `..` and anything outside the
 * pattern are percent-encoded, dots included. The mapping is one-to-one: encoded names always
 * hold a `%`, which plain names never do.
 */
export function segment(name: string): string {
  if (name.length === 0) throw new PathEscapeError('An empty name cannot be a path segment')
  // Lone surrogates would all encode as U+FFFD: refused, so that no two names share a folder.
  const bytes = Buffer.from(name, 'utf8')
  if (bytes.toString('utf8') !== name)
    throw new PathEscapeError('A name with lone surrogates cannot be a path')
  if (PLAIN.test(name) && name !== '.' && name !== '..') return name
  const encoded = Array.from(bytes)
    .map((b) =>
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x40 || // @
      b === 0x5f || // _
      b === 0x2d // -
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('')
  if (encoded.length > 240)
    throw new PathEscapeError(`The name ${JSON.stringify(name.slice(0, 40))}… is too long`)
  return encoded
}

/**
 * `base` joined with `segments` (each one path segment: already passed through `segment`, or an
 * internal id or a fixed name), checked to lie strictly inside `base`.
 */
export function inside(base: string, ...segments: string[]): string {
  const root = resolve(base)
  for (const s of segments)
    if (s.length === 0 || s === '.' || s === '..' || s.includes('/') || s.includes('\0'))
      throw new PathEscapeError(
        `${JSON.stringify(s.slice(0, 80))} is not a single path segment (under ${root})`,
      )
  const path = resolve(root, ...segments)
  if (!path.startsWith(root + sep)) throw new PathEscapeError(`${path} is not inside ${root}`)
  return path
}

/** Whether `path` (resolved) lies strictly inside `base`. */
export function isInside(base: string, path: string): boolean {
  return resolve(path).startsWith(resolve(base) + sep)
}
