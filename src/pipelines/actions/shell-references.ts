/**
 * @module pipelines/actions/shell-references
 * `#{Namespace.Variable}` references in the shell commands of a `Commands` action, as data.
 *
 * A resolved value is never pasted into the script text (a commit message `$(id)` would run):
 * each reference becomes a reference to a shell variable holding the value, written so that the
 * command sees exactly the value's text at that place. A small scanner follows the quoting at the
 * reference's position: unquoted (also inside `$( )`) it becomes `"${V}"` (one word, no splitting
 * or globbing); inside double quotes `${V}`; inside single quotes `'"${V}"'` (close, expand,
 * reopen), so `echo '#{SourceVariables.CommitMessage}'` prints the message itself, as
 * CodePipeline's text substitution would; in a `${ }` word `"${V}"` (text, never a pattern); in
 * the body of a here-document `${V}`; in `$(( ))` only an integer value.
 *
 * The scanner is deliberately small, so what it cannot follow for certain is refused, never
 * guessed (two outside reviews fuzzed it against dash): a reference inside backticks, after a
 * `case` inside `$( )`, after a comment holding quotes or substitutions, after a here-document
 * pending across `$( )`, in a command with a line continuation, in `${ }` inside a here-document,
 * or in a here-document with a quoted delimiter. The message says to pass the value through an
 * environment variable of the action instead, which always works.
 */
import { UnresolvedVariable } from '../variables.js'

const REF = /^#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}/

/** A value a command cannot receive (a NUL byte: the shell cannot hold one). */
export class UnusableValue extends Error {}

export interface BoundCommands {
  /** The commands, with each reference replaced by a reference to a shell variable. */
  commands: string[]
  /** The shell variables to set before the commands run: name → value. */
  values: Map<string, string>
}

type Context =
  'plain' | 'double' | 'single' | 'backtick' | 'subshell' | 'brace' | 'heredoc' | 'arith'

interface Frame {
  ctx: Context
  /** Open parentheses inside a `$( )` or `$(( ))`. */
  depth: number
}

/** `<<word` or `<<-word` (the word possibly quoted): a here-document's delimiter. */
const HEREDOC = /^<<(-?)[ \t]*((?:[^\s;&|()<>"'\\]|"[^"]*"|'[^']*'|\\.)+)/

/** Where a word starts (a `#` there begins a comment). */
const WORD_BREAK = /[\s;&|()<>]/

/** An integer, the only value an arithmetic expansion may receive as data. */
const INTEGER = /^[+-]?[0-9]{1,18}$/

const cannotTell = (whole: string, where: string) =>
  new UnusableValue(
    `Junction cannot tell how ${whole} is quoted ${where}, so it refuses to substitute it; set an environment variable of the action to the reference (env: NAME: ${whole}) and use "$NAME" in the command`,
  )

/**
 * Replaces every `#{ns.name}` reference in `commands` by a quoting-aware reference to a shell
 * variable `JUNCTION_VAR_<n>`; the same reference gets the same variable. An unknown reference
 * throws {@link UnresolvedVariable}; a value holding a NUL byte, or a reference where the quoting
 * cannot be told for certain, throws {@link UnusableValue}.
 */
export function bindCommandReferences(
  commands: string[],
  scopes: Record<string, Record<string, string>>,
): BoundCommands {
  const values = new Map<string, string>()
  const byRef = new Map<string, string>()
  const variableFor = (whole: string, ns: string, name: string): string => {
    const known = byRef.get(whole)
    if (known) return known
    const v = scopes[ns]?.[name]
    if (v === undefined)
      throw new UnresolvedVariable(`The variable reference ${whole} cannot be resolved`)
    if (v.includes('\0'))
      throw new UnusableValue(
        `The value of ${whole} contains a NUL byte, which a shell command cannot receive`,
      )
    const shellName = `JUNCTION_VAR_${values.size + 1}`
    values.set(shellName, v)
    byRef.set(whole, shellName)
    return shellName
  }
  const bind: Binder = {
    variableFor,
    valueOf: (shellName) => values.get(shellName) ?? '',
  }
  return { commands: commands.map((c) => bindText(c, bind, 'plain')), values }
}

interface Binder {
  variableFor(whole: string, ns: string, name: string): string
  valueOf(shellName: string): string
}

/**
 * Scans `text` as shell source starting in context `base` (`plain` for a command, `heredoc` for
 * the body of a here-document with an unquoted delimiter) and rewrites each reference for the
 * context it stands in. What the scanner cannot follow for certain is refused, never guessed:
 * a reference after the word `case` inside `$( )` (a pattern's `)` could end the substitution or
 * not), a reference in `$(( ))` whose value is not an integer, a here-document body whose
 * substitutions do not close.
 */
// `inherited`: the reason, if any, the enclosing text already refuses references for.
function bindText(text: string, b: Binder, base: Context, inherited?: string): string {
  // The innermost context last.
  const stack: Frame[] = [{ ctx: base, depth: 0 }]
  const top = () => stack[stack.length - 1]!
  /** Whether expansion at this point happens inside double quotes (or a here-document body). */
  const inDouble = () => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const c = stack[i]!.ctx
      if (c === 'double' || c === 'heredoc') return true
      if (c !== 'brace') return false
    }
    return false
  }
  /**
   * Set once the scanner meets what it cannot follow for certain (a `case` inside `$( )`, a
   * comment holding quotes, here-documents pending across a `$( )`): every reference after it is
   * refused, with the reason.
   */
  let ambiguous: string | undefined = inherited
  const heredocs: { delimiter: string; quoted: boolean; stripTabs: boolean; depth: number }[] = []
  /** Entering or leaving a command level (`$( )`, backticks) with a here-document pending. */
  const levelChange = (ctx: Context) => {
    if (heredocs.length > 0 && (ctx === 'subshell' || ctx === 'backtick'))
      ambiguous ??= 'after a here-document pending across $( ) or backticks'
  }
  const push = (ctx: Context) => {
    levelChange(ctx)
    stack.push({ ctx, depth: 0 })
  }
  const pop = () => {
    levelChange(stack[stack.length - 1]!.ctx)
    stack.pop()
  }
  /** The innermost frame that is not `${ }`, and whether a `${ }` stands above it. */
  const enclosing = (): { ctx: Context; inBrace: boolean } => {
    for (let k = stack.length - 1; k >= 0; k--)
      if (stack[k]!.ctx !== 'brace') return { ctx: stack[k]!.ctx, inBrace: k < stack.length - 1 }
    return { ctx: base, inBrace: false }
  }
  const inBacktick = () => stack.some((f) => f.ctx === 'backtick')
  // A line continuation (backslash-newline) joins lines before the shell reads words; the
  // scanner does not follow it, so a command holding one takes no reference.
  if (/\\\n/.test(text)) ambiguous = 'in a command with a line continuation (backslash-newline)'
  let out = ''
  let i = 0
  while (i < text.length) {
    const ch = text[i]!
    const t = top()
    if (t.ctx === 'single') {
      if (ch === "'") pop()
      else if (ch === '#') {
        const m = REF.exec(text.slice(i))
        if (m) {
          if (ambiguous) throw cannotTell(m[0], ambiguous)
          if (inBacktick()) throw cannotTell(m[0], 'inside backticks (use $( ) instead)')
          out += `'"\${${b.variableFor(m[0], m[1]!, m[2]!)}}"'`
          i += m[0].length
          continue
        }
      }
      out += ch
      i++
      continue
    }
    /** Contexts where the shell reads commands (words, operators, comments, here-documents). */
    const commandCtx = t.ctx === 'plain' || t.ctx === 'subshell' || t.ctx === 'backtick'
    if (ch === '#') {
      const m = REF.exec(text.slice(i))
      if (m) {
        if (ambiguous) throw cannotTell(m[0], ambiguous)
        // Backslashes inside backticks are undone and the body read again as a command: the
        // scanner does not follow that, so references there are refused.
        if (inBacktick()) throw cannotTell(m[0], 'inside backticks (use $( ) instead)')
        const v = b.variableFor(m[0], m[1]!, m[2]!)
        const at = enclosing()
        // Anything inside $(( )), even through a $( ) whose output it reads, is arithmetic.
        if (stack.some((f) => f.ctx === 'arith') && !INTEGER.test(b.valueOf(v)))
          throw new UnusableValue(
            `${m[0]} stands in an arithmetic expansion $(( )), which can receive only an integer as data, and its value is not one`,
          )
        if (at.ctx === 'arith') out += `\${${v}}`
        else if (at.inBrace) {
          // In a `${…}` word (a default value or a pattern) the value is quoted, so that it is
          // text, never a pattern; in a here-document body quotes there would be characters.
          if (at.ctx === 'heredoc') throw cannotTell(m[0], 'inside ${ } in a here-document')
          out += `"\${${v}}"`
        } else out += inDouble() ? `\${${v}}` : `"\${${v}}"`
        i += m[0].length
        continue
      }
      // A comment: `#` at the start of a word, outside quotes, runs to the end of the line.
      if (commandCtx && (i === 0 || WORD_BREAK.test(text[i - 1]!))) {
        const end = text.indexOf('\n', i)
        const stop = end === -1 ? text.length : end
        // Taken for a comment where the shell might read a word (`a\ #`, `$(x)#`): harmless
        // unless the text holds what changes how the rest is read.
        if (/['"`$\\(){}<]/.test(text.slice(i, stop)))
          ambiguous ??= 'after a comment holding quotes, escapes or substitutions'
        out += text.slice(i, stop)
        i = stop
        continue
      }
    }
    if (ch === '\\') {
      out += text.slice(i, i + 2)
      i += 2
      continue
    }
    // The word `case` inside `$( )`: its patterns end in `)`, which this scanner does not tell
    // from the end of the substitution; every reference after it is refused.
    if (
      t.ctx === 'subshell' &&
      ch === 'c' &&
      text.startsWith('case', i) &&
      (i === 0 || /[\s;&|(]/.test(text[i - 1]!)) &&
      (i + 4 === text.length || /[\s;&|)]/.test(text[i + 4]!))
    )
      ambiguous ??= 'after `case` inside `$( )`'
    // A here-document: its body starts on the next line.
    if (commandCtx && ch === '<' && text[i + 1] === '<' && text[i + 2] !== '<') {
      const h = HEREDOC.exec(text.slice(i))
      if (h) {
        const word = h[2]!
        heredocs.push({
          delimiter: word.replace(/["'\\]/g, ''),
          quoted: /["'\\]/.test(word),
          stripTabs: h[1] === '-',
          depth: stack.length,
        })
        out += h[0]
        i += h[0].length
        continue
      }
    }
    if (commandCtx && ch === '\n' && heredocs.length > 0) {
      // The shell reads a here-document's body at the next newline of the same command level.
      if (heredocs.some((d) => d.depth !== stack.length))
        ambiguous ??= 'after a here-document opened at another level of $( )'
      out += '\n'
      i++
      for (const doc of heredocs.splice(0)) {
        // Body lines up to the delimiter line; then the body is scanned as a here-document.
        let body = ''
        let close = ''
        while (i < text.length) {
          const end = text.indexOf('\n', i)
          const stop = end === -1 ? text.length : end + 1
          const line = text.slice(i, stop)
          i = stop
          const bare = line.replace(/\n$/, '')
          if ((doc.stripTabs ? bare.replace(/^\t+/, '') : bare) === doc.delimiter) {
            close = line
            break
          }
          body += line
        }
        if (doc.quoted) {
          const m = new RegExp(REF.source.slice(1)).exec(body)
          if (m)
            throw new UnusableValue(
              `${m[0]} stands in a here-document with a quoted delimiter, where a value cannot be substituted as data; use an unquoted delimiter or an environment variable`,
            )
          out += body
        } else out += bindText(body, b, 'heredoc', ambiguous)
        out += close
      }
      continue
    }
    if (ch === '$' && text[i + 1] === '(' && text[i + 2] === '(') {
      push('arith')
      out += '$(('
      i += 3
      continue
    }
    if (ch === '$' && text[i + 1] === '(') {
      push('subshell')
      out += '$('
      i += 2
      continue
    }
    if (ch === '$' && text[i + 1] === '{') {
      push('brace')
      out += '${'
      i += 2
      continue
    }
    if (ch === '`') {
      if (t.ctx === 'backtick') pop()
      else push('backtick')
    } else if (t.ctx === 'double') {
      if (ch === '"') pop()
    } else if (t.ctx === 'heredoc') {
      // Quotes are ordinary characters in a here-document body.
    } else if (t.ctx === 'arith') {
      if (ch === '(') t.depth++
      else if (ch === ')') {
        if (t.depth > 0) t.depth--
        else if (text[i + 1] === ')') {
          pop()
          out += '))'
          i += 2
          continue
        } else pop()
      } else if (ch === '"') push('double')
    } else if (ch === '"') push('double')
    else if (ch === "'") {
      // Inside `${…}` within double quotes a single quote is an ordinary character.
      if (!(t.ctx === 'brace' && inDouble())) push('single')
    } else if (t.ctx === 'brace') {
      if (ch === '{') t.depth++
      else if (ch === '}') {
        if (t.depth === 0) pop()
        else t.depth--
      }
    } else if (t.ctx === 'subshell') {
      if (ch === '(') t.depth++
      else if (ch === ')') {
        if (t.depth === 0) pop()
        else t.depth--
      }
    }
    out += ch
    i++
  }
  if (base === 'heredoc' && (stack.length !== 1 || heredocs.length > 0)) {
    const m = new RegExp(REF.source.slice(1)).exec(text)
    if (m) throw cannotTell(m[0], 'in a here-document whose substitutions do not close')
  }
  return out
}

/** `s` as one single-quoted shell word (any text without NUL). */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The build's script: its environment exported, the referenced values in their shell variables
 * (each one single-quoted word), then each command after its `$ command` line (printed as data).
 */
export function commandsScript(o: {
  env: Record<string, string>
  bound: BoundCommands
  /** What each command's `$ …` log line shows. */
  shown: string[]
  cwd: string
  /** Shell text run after the commands (capturing output variables). */
  after?: string
}): string {
  return [
    ...Object.entries(o.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    ...[...o.bound.values].map(([k, v]) => `${k}=${shellQuote(v)}`),
    `cd ${shellQuote(o.cwd)}`,
    'set -e',
    ...o.bound.commands.map((c, i) => `printf '%s\\n' ${shellQuote(`$ ${o.shown[i] ?? c}`)}\n${c}`),
    o.after ?? '',
    '',
  ].join('\n')
}
