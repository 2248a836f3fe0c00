/**
 * @module iam/policy/variables
 * Policy variables in Resource and condition values: `${aws:username}`, any context key, an
 * optional default (`${aws:PrincipalTag/team, 'none'}`), and the escapes `${*}`, `${?}`, `${$}`.
 * A variable whose key is absent (and has no default) makes the string unusable: it matches
 * nothing.
 */
import type { RequestContext } from './context.js'

const VARIABLE = /\$\{([^}]*)\}/g

export function hasVariables(s: string): boolean {
  return s.includes('${')
}

/**
 * Substitutes the variables of `s` from the context; undefined when a variable has no value.
 * Substituted values are escaped so that wildcards in them stay literal when `wildcards` is set.
 */
export function substitute(s: string, ctx: RequestContext, wildcards: boolean): string | undefined {
  if (!hasVariables(s)) return s
  let missing = false
  const out = s.replace(VARIABLE, (_, inner: string) => {
    const body = inner.trim()
    if (body === '*' || body === '?' || body === '$') return wildcards ? `\u0000${body}` : body
    const m = /^([^,]+?)\s*(?:,\s*'([^']*)')?$/.exec(body)
    const key = m?.[1]?.trim() ?? body
    const values = ctx.get(key)
    const value = values?.length === 1 ? values[0] : undefined
    if (value === undefined) {
      if (m?.[2] !== undefined) return m[2]
      missing = true
      return ''
    }
    return wildcards ? value.replace(/[*?]/g, (c) => `\u0000${c}`) : value
  })
  return missing ? undefined : out
}
