/**
 * @module sandbox/bitbucket/query
 * The parts of Bitbucket Cloud's filtering and partial responses the adapter uses: a BBQL `q` on
 * branch listings (`name = "a" OR name = "b"`, also `!=` and `~`, with `AND`; strings in double
 * quotes with backslash escapes) and `fields` (a comma-separated list of dotted paths; `values.x`
 * applies to every element of a page's `values`). Anything else in `q` is refused with a 400, as
 * Bitbucket refuses a query it cannot parse.
 */
import { HttpError } from '../core/http.js'

type Term = { field: 'name'; op: '=' | '!=' | '~'; value: string }

const TERM = /^\s*name\s*(=|!=|~)\s*"((?:[^"\\]|\\.)*)"\s*/
const JOIN = /^(AND|OR)\b/

/** A predicate on branch names from `q` (all names pass when there is none). */
export function branchFilter(q: string | null): (name: string) => boolean {
  if (q === null || q.trim() === '') return () => true
  // OR of ANDs, left to right (BBQL's precedence), no parentheses.
  const groups: Term[][] = [[]]
  let rest = q
  for (;;) {
    const m = TERM.exec(rest)
    if (!m) throw new HttpError(400, `Invalid query: ${q.slice(0, 200)}`)
    groups[groups.length - 1]!.push({
      field: 'name',
      op: m[1] as Term['op'],
      value: m[2]!.replace(/\\(.)/g, '$1'),
    })
    rest = rest.slice(m[0].length)
    if (rest === '') break
    const j = JOIN.exec(rest)
    if (!j) throw new HttpError(400, `Invalid query: ${q.slice(0, 200)}`)
    if (j[1] === 'OR') groups.push([])
    rest = rest.slice(j[0].length)
  }
  const holds = (t: Term, name: string) =>
    t.op === '=' ? name === t.value : t.op === '!=' ? name !== t.value : name.includes(t.value)
  return (name) => groups.some((g) => g.every((t) => holds(t, name)))
}

/** The answer trimmed to `fields` (unchanged when there is none). */
export function projectFields(body: unknown, fields: string | null): unknown {
  if (!fields) return body
  const paths = fields
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')
  if (paths.some((p) => /^[+-]|\*/.test(p))) return body
  return pick(
    body,
    paths.map((p) => p.split('.')),
  )
}

function pick(v: unknown, paths: string[][]): unknown {
  if (Array.isArray(v)) return v.map((x) => pick(x, paths))
  if (v === null || typeof v !== 'object') return v
  const out: Record<string, unknown> = {}
  const src = v as Record<string, unknown>
  for (const key of new Set(paths.map((p) => p[0]!))) {
    if (!Object.hasOwn(src, key)) continue
    const deeper = paths.filter((p) => p[0] === key && p.length > 1).map((p) => p.slice(1))
    const whole = paths.some((p) => p[0] === key && p.length === 1)
    out[key] = whole ? src[key] : pick(src[key], deeper)
  }
  return out
}
