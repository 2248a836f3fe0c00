/**
 * @module pipelines/glob
 * The glob syntax of CodePipeline V2 trigger filters (spec §8), which is Java's
 * `FileSystem.getPathMatcher("glob:…")`: `*` within one path segment, `**` across segments, `?`
 * one character (not `/`), `[…]` one character of a set (`!` negates; `-` literal when first;
 * `*`, `?` and `\` literal inside), `{a,b}` alternatives (not nested), `\` escapes. Compiled once
 * to an anchored regular expression.
 */

export class GlobSyntaxError extends Error {}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g
const literal = (c: string) => c.replace(REGEX_SPECIAL, '\\$&')

/** Compiles `glob` to an anchored RegExp; throws GlobSyntaxError when it is malformed. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  let inGroup = false
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    switch (c) {
      case '\\': {
        const next = glob[i + 1]
        if (next === undefined)
          throw new GlobSyntaxError(`'${glob}': a \\ at the end escapes nothing`)
        re += literal(next)
        i++
        break
      }
      case '*':
        if (glob[i + 1] === '*') {
          re += '.*'
          i++
        } else re += '[^/]*'
        break
      case '?':
        re += '[^/]'
        break
      case '[': {
        let j = i + 1
        let set = ''
        if (glob[j] === '!') {
          set += '^'
          j++
        }
        // A '-' right after '[' or '[!' is literal.
        if (glob[j] === '-') {
          set += '\\-'
          j++
        }
        let closed = false
        for (; j < glob.length; j++) {
          const d = glob[j]!
          if (d === ']') {
            closed = true
            break
          }
          if (d === '/')
            throw new GlobSyntaxError(`'${glob}': '/' cannot be in a bracket expression`)
          if (d === '-' && set.length > 0 && glob[j + 1] !== ']') set += '-'
          else set += d === '-' || d === '\\' || d === '^' || d === '[' ? `\\${d}` : d
        }
        if (!closed) throw new GlobSyntaxError(`'${glob}': '[' is not closed`)
        if (set === '' || set === '^')
          throw new GlobSyntaxError(`'${glob}': empty bracket expression`)
        // A set never matches the path separator (as in Java).
        re += set.startsWith('^') ? `[${set}/]` : `(?:(?!/)[${set}])`
        i = j
        break
      }
      case '{':
        if (inGroup) throw new GlobSyntaxError(`'${glob}': groups {…} cannot be nested`)
        inGroup = true
        re += '(?:'
        break
      case '}':
        if (!inGroup) throw new GlobSyntaxError(`'${glob}': '}' without '{'`)
        inGroup = false
        re += ')'
        break
      case ',':
        re += inGroup ? '|' : ','
        break
      default:
        re += literal(c)
    }
  }
  if (inGroup) throw new GlobSyntaxError(`'${glob}': '{' is not closed`)
  return new RegExp(`^${re}$`, 'u')
}

/** A compiled list of globs: does any of them match? */
export class GlobSet {
  readonly #res: RegExp[]
  constructor(readonly patterns: readonly string[]) {
    this.#res = patterns.map(globToRegExp)
  }
  /** The first pattern that matches `value`, or undefined. */
  match(value: string): string | undefined {
    const i = this.#res.findIndex((r) => r.test(value))
    return i < 0 ? undefined : this.patterns[i]
  }
}
