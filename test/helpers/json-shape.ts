/**
 * Compares the shape of two JSON values, key by key: the same keys at every level, the same JSON
 * type for each (`null` is its own type, so null-versus-absent and null-versus-object both count),
 * values free to differ. An array in `want` lists the variants an element may take: every element
 * of `have` must match one of them. A top-level `_source` in `want` (where a sample came from) is
 * not part of the shape.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

const kind = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v

/** The differences, one line each (`$.a.b: …`); empty when the shapes match. */
export function shapeDiff(have: unknown, want: unknown, path = '$'): string[] {
  const k = kind(want)
  if (kind(have) !== k) return [`${path}: ${kind(have)} where the sample has ${k}`]
  if (k === 'array') {
    const variants = want as Json[]
    const items = have as unknown[]
    if (variants.length === 0)
      return items.length === 0
        ? []
        : [`${path}: ${items.length} elements where the sample has none`]
    return items.flatMap((item, i) => {
      const tries = variants.map((v) => shapeDiff(item, v, `${path}[${i}]`))
      return tries.some((t) => t.length === 0)
        ? []
        : tries.reduce((best, t) => (t.length < best.length ? t : best))
    })
  }
  if (k !== 'object') return []
  const w = want as Record<string, Json>
  const h = have as Record<string, unknown>
  const wantKeys = Object.keys(w).filter((key) => !(path === '$' && key === '_source'))
  const out: string[] = []
  for (const key of wantKeys)
    if (!(key in h)) out.push(`${path}.${key}: absent, the sample has it`)
    else out.push(...shapeDiff(h[key], w[key], `${path}.${key}`))
  for (const key of Object.keys(h))
    if (!wantKeys.includes(key)) out.push(`${path}.${key}: present, the sample has no such key`)
  return out
}
