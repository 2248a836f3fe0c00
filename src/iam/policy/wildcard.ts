/**
 * @module iam/policy/wildcard
 * IAM wildcards: `*` matches any run of characters (also none), `?` exactly one. Everything else
 * is literal, including a character escaped by a NUL before it (how substituted policy variables
 * and `${*}` keep their `*` literal). Action names compare case-insensitively, resources and
 * values case-sensitively.
 */
const cache = new Map<string, RegExp>()

const escape = (c: string) => c.replace(/[\\^$.|+()[\]{}*?]/g, '\\$&')

export function wildcardRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const id = (ignoreCase ? 'i:' : 's:') + pattern
  let re = cache.get(id)
  if (!re) {
    let body = ''
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!
      if (c === '\u0000' && i + 1 < pattern.length) body += escape(pattern[++i]!)
      else body += c === '*' ? '.*' : c === '?' ? '.' : escape(c)
    }
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's')
    if (cache.size > 50_000) cache.clear()
    cache.set(id, re)
  }
  return re
}

export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (!pattern.includes('*') && !pattern.includes('?') && !pattern.includes('\u0000'))
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value
  return wildcardRegExp(pattern, ignoreCase).test(value)
}
