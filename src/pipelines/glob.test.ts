import { describe, expect, it } from 'vitest'
import { GlobSet, GlobSyntaxError, globToRegExp } from './glob.js'

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
  ['[-a]x', ['-x', 'ax'], ['bx', '[x', '_x', '\\x']],
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

describe('glob details', () => {
  it('names the glob and the fault in each syntax error', () => {
    const message = (glob: string) => {
      try {
        globToRegExp(glob)
      } catch (e) {
        expect(e).toBeInstanceOf(GlobSyntaxError)
        return (e as Error).message
      }
      return 'no error'
    }
    expect(message('a\\')).toBe("'a\\': a \\ at the end escapes nothing")
    expect(message('[a/b]')).toBe("'[a/b]': '/' cannot be in a bracket expression")
    expect(message('[ab')).toBe("'[ab': '[' is not closed")
    expect(message('[!]]')).toBe("'[!]]': empty bracket expression")
    expect(message('x[]]')).toBe("'x[]]': empty bracket expression")
    expect(message('{a,{b}}')).toBe("'{a,{b}}': groups {…} cannot be nested")
    expect(message('a}')).toBe("'a}': '}' without '{'")
    expect(message('{a,b')).toBe("'{a,b': '{' is not closed")
  })

  it('keeps escaped and special characters literal', () => {
    const cases: [string, string[], string[]][] = [
      ['a\\?b', ['a?b'], ['axb']],
      ['a\\[b]', ['a[b]'], ['ab']],
      ['a,b', ['a,b'], ['a', 'b']],
      ['{a,b}c,d', ['ac,d', 'bc,d'], ['ac', 'd']],
      ['x.y', ['x.y'], ['xzy']],
      ['a/b', ['a/b'], ['a\\/b']],
      ['[a^]', ['a', '^'], ['b']],
      ['[[]', ['['], ['a']],
      ['[a-]', ['a', '-'], ['b']],
      ['[a-c]', ['a', 'b', 'c'], ['-', 'd']],
      ['[!a-c]', ['d', '-'], ['a', 'b', '/']],
      ['[!-]', ['a'], ['-', '/']],
      ['[ab]', ['a', 'b'], ['/', 'ab', '']],
      ['**/x', ['a/x', 'a/b/x'], ['x', 'ax']],
      ['*', ['', 'abc'], ['a/b']],
      ['?', ['a', 'é'], ['', '/', 'ab']],
      ['a*b*c', ['abc', 'aXbYc'], ['aXb/c']],
    ]
    for (const [glob, yes, no] of cases) {
      const re = globToRegExp(glob)
      for (const s of yes) expect(re.test(s), `${glob} should match ${s}`).toBe(true)
      for (const s of no) expect(re.test(s), `${glob} should not match ${s}`).toBe(false)
    }
  })

  it('matches a set of globs, answering the first that matches', () => {
    const set = new GlobSet(['docs/**', '*.md', 'src/*'])
    expect(set.patterns).toEqual(['docs/**', '*.md', 'src/*'])
    expect(set.match('docs/a.md')).toBe('docs/**')
    expect(set.match('README.md')).toBe('*.md')
    expect(set.match('src/a.ts')).toBe('src/*')
    expect(set.match('src/a/b.ts')).toBeUndefined()
    expect(new GlobSet([]).match('a')).toBeUndefined()
    expect(() => new GlobSet(['ok', '[bad'])).toThrow(GlobSyntaxError)
  })
})
