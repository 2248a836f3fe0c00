/**
 * Property: a `#{…}` value in a Commands command is data. Random and hostile values (quotes,
 * `$( )`, backticks, newlines, backslashes, globs, very long text) placed in every quoting context
 * of a command reach the command as exactly their text, and nothing in them runs. The script is
 * the one the action writes (`commandsScript`), run by `/bin/sh` directly (no server) for speed;
 * `commands-variables.test.ts` does the same through the server.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  bindCommandReferences,
  commandsScript,
  UnusableValue,
} from '../../src/pipelines/actions/shell-references.js'

const dir = mkdtempSync(join(tmpdir(), 'junction-shellrefs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const HOSTILE = [
  '$(touch pwned)',
  '`touch pwned`',
  "'; touch pwned; '",
  '"; touch pwned; "',
  '$(id > pwned)',
  '\\',
  '\\\\',
  "'",
  '"',
  '\n',
  '\r\n',
  '*',
  '${IFS}',
  '$((1+1))',
  '#',
  '#{variables.other}',
  '}',
  ')',
  '|| touch pwned',
  '\t',
  ' ',
  '-n',
  '-e \\n',
  '%s%d',
]

const value = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\0', '')),
  fc.array(fc.constantFrom(...HOSTILE), { maxLength: 8 }).map((a) => a.join('')),
  fc
    .tuple(fc.constantFrom(...HOSTILE), fc.integer({ min: 1000, max: 200_000 }))
    .map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n)),
)

/** Command shapes: what the command must print for a value `v` (`R` marks the reference). */
const CONTEXTS: { command: string; expect: (v: string) => string }[] = [
  { command: `printf '%s' R`, expect: (v) => v },
  { command: `printf '%s' pre-R-post`, expect: (v) => `pre-${v}-post` },
  { command: `printf '%s' "pre R post"`, expect: (v) => `pre ${v} post` },
  { command: `printf '%s' 'pre R post'`, expect: (v) => `pre ${v} post` },
  { command: `printf '%s' 'it'"'"'s R'`, expect: (v) => `it's ${v}` },
  { command: `printf '%s' "$(printf '%s.' R)"`, expect: (v) => `${v}.` },
  { command: `printf '%s' "$(printf '%s.' "R")"`, expect: (v) => `${v}.` },
  { command: `printf '%s' "$(printf '%s.' 'R')"`, expect: (v) => `${v}.` },
  { command: `printf '%s' "\${JUNCTION_UNSET_X:-R}"`, expect: (v) => v },
  { command: `printf '%s' \${JUNCTION_UNSET_X:-R}`, expect: (v) => v },
  { command: `printf '%s' "a\\"R\\"b"`, expect: (v) => `a"${v}"b` },
  { command: `printf '%s' \\'R`, expect: (v) => `'${v}` },
  { command: `printf '%s' R R`, expect: (v) => `${v}${v}` },
  { command: `printf '%s' R # a comment with 'quotes`, expect: (v) => v },
  { command: `printf '%s' "$(printf '%s' "$(printf '%s.' 'R')")"`, expect: (v) => `${v}.` },
  { command: 'cat <<EOF\npre R post\nEOF', expect: (v) => `pre ${v} post\n` },
  { command: 'cat <<-EOF\n\t\'R\' "R"\n\tEOF', expect: (v) => `'${v}' "${v}"\n` },
  {
    command: "cat <<EOF; printf '%s' 'R'\nline R\nEOF",
    expect: (v) => `line ${v}\n${v}`,
  },
  // A command substitution inside a here-document body reads commands: unquoted there.
  { command: "cat <<EOF\n$(printf '%s.' R)\nEOF", expect: (v) => `${v}.\n` },
  {
    command: `cat <<EOF\n"$(printf '%s.' "R")" 'R' $(printf '%s.' 'R')x\nEOF`,
    expect: (v) => `"${v}." '${v}' ${v}.x\n`,
  },
  // A shift in an arithmetic expansion is no here-document.
  { command: "printf '%s' $((1<<2)); printf '%s' R", expect: (v) => `4${v}` },
  { command: `printf '%s' $(( (1+2)*3 ))"R"`, expect: (v) => `9${v}` },
  // In a `${ }` word the value is text, never a pattern.
  {
    command: `x=abc; printf '%s' "\${x##R}"`,
    expect: (v) => ('abc'.startsWith(v) ? 'abc'.slice(v.length) : 'abc'),
  },
  {
    command: `x=abc; printf '%s' \${x%R}`,
    expect: (v) => ('abc'.endsWith(v) ? 'abc'.slice(0, 3 - v.length) : 'abc'),
  },
  // A reference before a `case` inside $( ) is told for certain.
  {
    command: `x="$(printf '%s.' R; case a in a) ;; esac)"; printf '%s' "$x"`,
    expect: (v) => `${v}.`,
  },
]

const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('utf8')

function run(v: string, context: number, other: string): { out: string; created: boolean } {
  const work = mkdtempSync(join(dir, 'w-'))
  const c = CONTEXTS[context]!
  const scopes = { SourceVariables: { CommitMessage: v }, variables: { other } }
  const template = c.command.replaceAll('R', '#{SourceVariables.CommitMessage}')
  const bound = bindCommandReferences(
    [
      `{ ${template}\n} > out.txt`,
      `printf '%s' #{variables.other} > other.txt`,
      `printf '%s' "$HOSTILE" > env.txt`,
    ],
    scopes,
  )
  const script = commandsScript({
    // An environment variable (environmentVariables) holding the value is data too.
    // (The kernel takes no environment string above 128 KiB.)
    env: { PATH: process.env['PATH']!, HOSTILE: v.slice(0, 30_000) },
    bound,
    shown: [],
    cwd: work,
  })
  writeFileSync(join(work, '.run.sh'), script)
  const r = spawnSync('/bin/sh', [join(work, '.run.sh')], { cwd: work, env: {}, encoding: 'utf8' })
  expect(r.status, `${template}\n${r.stderr}`).toBe(0)
  expect(readFileSync(join(work, 'other.txt'), 'utf8')).toBe(utf8(other))
  expect(readFileSync(join(work, 'env.txt'), 'utf8')).toBe(utf8(v.slice(0, 30_000)))
  const out = readFileSync(join(work, 'out.txt'), 'utf8')
  const created = existsSync(join(work, 'pwned'))
  rmSync(work, { recursive: true, force: true })
  return { out, created }
}

describe('#{…} values in Commands commands are data', () => {
  it('every value reaches the command as exactly its text, in every quoting context', () => {
    fc.assert(
      fc.property(
        value,
        fc.nat({ max: CONTEXTS.length - 1 }),
        fc.constantFrom(...HOSTILE),
        (v, context, other) => {
          const { out, created } = run(v, context, other)
          expect(created).toBe(false)
          expect(out).toBe(CONTEXTS[context]!.expect(utf8(v)))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('each context with each hostile value', () => {
    for (const v of HOSTILE)
      for (let c = 0; c < CONTEXTS.length; c++) {
        const { out, created } = run(v, c, v)
        expect(created, `${v} in ${CONTEXTS[c]!.command}`).toBe(false)
        expect(out, `${v} in ${CONTEXTS[c]!.command}`).toBe(CONTEXTS[c]!.expect(v))
      }
  })

  it('refuses a value holding a NUL byte, which a shell cannot receive', () => {
    expect(() =>
      bindCommandReferences(['echo #{variables.x}'], { variables: { x: 'a\0b' } }),
    ).toThrow(UnusableValue)
    expect(() =>
      bindCommandReferences(['echo #{variables.x}'], { variables: { x: 'a\0b' } }),
    ).toThrow(/#\{variables\.x\} contains a NUL byte/)
  })

  it('refuses a reference in a here-document with a quoted delimiter (no expansion there)', () => {
    for (const quoted of ["'EOF'", '"EOF"', '\\EOF', 'E"O"F'])
      expect(() =>
        bindCommandReferences([`cat <<${quoted}\n#{variables.x}\nEOF`], { variables: { x: '1' } }),
      ).toThrow(/here-document with a quoted delimiter/)
    // Outside the body, the same command is fine.
    expect(
      bindCommandReferences([`cat <<'EOF' #{variables.x}\nbody\nEOF`], { variables: { x: '1' } })
        .commands,
    ).toEqual([`cat <<'EOF' "\${JUNCTION_VAR_1}"\nbody\nEOF`])
  })

  it('refuses what it cannot tell for certain, never guesses', () => {
    for (const command of [
      // A pattern's `)` could end the substitution or not.
      `x="$(case a in a) printf '%s' #{variables.x};; esac)"`,
      `x=$(case a in (a) :;; esac); printf '%s' "#{variables.x}"`,
      // Backticks: their backslashes are undone and the body read again.
      'x=`printf "%s." #{variables.x}`',
      'printf "<%s>" "`echo \\"#{variables.x}\\"`"',
      'cat <<EOF\n`printf "<%s>" \\"#{variables.x}\\"`\nEOF',
      // What the scanner takes for a comment may be a word to the shell.
      'printf "<%s>" a\\ #"\n#{variables.x}"',
      'printf "<%s>" $(true)#"\n#{variables.x}"',
      // A line continuation joins lines before words are read.
      'printf "<%s>" "$\\\n(printf "<%s>" #{variables.x})"',
      'cat <<EOF\nfoo\\\nEOF\n"\nEOF\nprintf "<%s>" #{variables.x} "\n"',
      // Here-documents pending across a $( ).
      'cat <<EOF; printf "<%s>" "$(\nprintf "<%s>" #{variables.x})"\nEOF',
      'cat <<A; printf "<%s>" "$(cat <<B\nb\nB\n)"\na\nA\nprintf "<%s>" #{variables.x}',
      // A `${ }` word in a here-document body (quotes there are characters).
      'cat <<EOF\n${y:-#{variables.x}}\nEOF',
    ])
      expect(() => bindCommandReferences([command], { variables: { x: 'a  b *' } })).toThrow(
        /cannot tell how #\{variables\.x\} is quoted.*env: NAME/,
      )
  })

  it('takes only an integer in an arithmetic expansion, and computes with it', () => {
    for (const x of ['1+1', 'a', '$(touch pwned)', '1 ', '', 'x[$(touch pwned)]', 'z=42'])
      for (const command of [
        'echo $((#{variables.x} + 1))',
        // A `${ }` inside $(( )) is arithmetic too.
        'echo $(( ${y:-#{variables.x}} ))',
        // So is the output of a $( ) inside it.
        'echo $(( $(printf %s #{variables.x}) ))',
      ])
        expect(() => bindCommandReferences([command], { variables: { x } })).toThrow(
          /arithmetic expansion .* only an integer/,
        )
    const bound = bindCommandReferences(["printf '%s' $(( #{variables.x} + 1 ))"], {
      variables: { x: '41' },
    })
    const script = commandsScript({ env: {}, bound, shown: [], cwd: dir })
    const r = spawnSync('/bin/sh', ['-c', script], { cwd: dir, env: {}, encoding: 'utf8' })
    expect(r.stdout.split('\n').pop()).toBe('42')
  })

  it('leaves text that is not a reference alone, and reuses one variable per reference', () => {
    const b = bindCommandReferences(['echo "#{a.b}" #{a.b} #notref ${X#y} $#', "echo '#{a.c}'"], {
      a: { b: '1', c: '2' },
    })
    expect(b.commands).toEqual([
      'echo "${JUNCTION_VAR_1}" "${JUNCTION_VAR_1}" #notref ${X#y} $#',
      `echo ''"\${JUNCTION_VAR_2}"''`,
    ])
    expect([...b.values]).toEqual([
      ['JUNCTION_VAR_1', '1'],
      ['JUNCTION_VAR_2', '2'],
    ])
  })
})
