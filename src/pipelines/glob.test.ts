import { describe, expect, it } from 'vitest'
import { GlobSyntaxError, globToRegExp } from './glob.js'

/** [glob, matches, does not match] — the syntax of spec §8, case by case (Java glob semantics). */
const cases: [string, string[], string[]][] = [
  ['main', ['main'], ['main2', 'Main', 'xmain', 'feature/main']],
  ['main*', ['main', 'main-2', 'mainline'], ['feature/main', 'main/x', 'xmain']],
  ['feature/*', ['feature/a', 'feature/'], ['feature/a/b', 'feature']],
  ['feature/**', ['feature/a', 'feature/a/b/c'], ['feature', 'features/a']],
  ['**', ['', 'a', 'a/b/c.js'], []],
  [
    'common/**/*.js',
    ['common/a/b.js', 'common/x/y/z.js'],
    ['common/b.js', 'common/a/b.ts', 'other/a/b.js'],
  ],
  ['**/README.md', ['docs/README.md', 'a/b/README.md'], ['README.md', 'docs/README.mdx']],
  ['*.{java,class}', ['A.java', 'B.class'], ['A.javac', 'dir/A.java', 'A.kt']],
  ['foo.?', ['foo.c', 'foo.h'], ['foo.', 'foo.cc', 'foo./']],
  ['release-[0-9]', ['release-1', 'release-9'], ['release-a', 'release-10']],
  ['v[!0-9]*', ['va', 'vx1'], ['v1', 'v9.0', 'v/']],
  ['[-a]x', ['-x', 'ax'], ['bx']],
  ['[!-a]x', ['bx', 'zx'], ['-x', 'ax']],
  ['[*?\\]', ['*', '?', '\\'], ['a']],
  ['\\*literal', ['*literal'], ['xliteral']],
  ['dots.and+plus(1)', ['dots.and+plus(1)'], ['dotsXand+plus(1)']],
  ['{main,release/**}', ['main', 'release/1.0/hotfix'], ['mains', 'dev']],
  ['src/{a,b}/*.ts', ['src/a/x.ts', 'src/b/y.ts'], ['src/c/x.ts', 'src/a/b/x.ts']],
  ['ünï/*', ['ünï/x'], ['uni/x']],
]

describe('trigger glob syntax', () => {
  for (const [glob, yes, no] of cases) {
    it(`${glob}`, () => {
      const re = globToRegExp(glob)
      for (const s of yes) expect(re.test(s), `${glob} should match ${s}`).toBe(true)
      for (const s of no) expect(re.test(s), `${glob} should not match ${s}`).toBe(false)
    })
  }

  it('refuses malformed globs with the reason', () => {
    for (const [glob, why] of [
      ['a[x-z', /not closed/],
      ['a[x/y]', /'\/' cannot be in a bracket/],
      ['{a,{b,c}}', /cannot be nested/],
      ['{a,b', /'\{' is not closed/],
      ['a}', /without '\{'/],
      ['trailing\\', /escapes nothing/],
      ['[]', /not closed|empty/],
      ['[!]', /not closed|empty/],
    ] as const) {
      expect(() => globToRegExp(glob), glob).toThrow(GlobSyntaxError)
      expect(() => globToRegExp(glob), glob).toThrow(why)
    }
    expect(() => globToRegExp('a[x-z')).toThrow(/not closed/)
  })
})
