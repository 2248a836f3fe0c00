import { describe, expect, it } from 'vitest'
import { RequestContext } from './context.js'
import { hasVariables, substitute } from './variables.js'
import { wildcardMatch, wildcardRegExp } from './wildcard.js'

describe('IAM wildcards', () => {
  it('matches * as any run (also none, also a newline) and ? as exactly one character', () => {
    expect(wildcardMatch('a*c', 'ac')).toBe(true)
    expect(wildcardMatch('a*c', 'a/b\nc')).toBe(true)
    expect(wildcardMatch('a?c', 'abc')).toBe(true)
    expect(wildcardMatch('a?c', 'a\nc')).toBe(true)
    expect(wildcardMatch('a?c', 'ac')).toBe(false)
    expect(wildcardMatch('a?c', 'abbc')).toBe(false)
    expect(wildcardMatch('a*', 'xa')).toBe(false)
    expect(wildcardMatch('*a', 'ax')).toBe(false)
  })

  it('keeps every other character literal', () => {
    for (const p of ['a.c', 'a+c', 'a(c)', 'a|c', 'a[c]', 'a{1}', 'a^c$', 'a\\c'])
      expect(wildcardMatch(p + '*', p + 'x'), p).toBe(true)
    expect(wildcardMatch('a.c*', 'abc')).toBe(false)
    expect(wildcardMatch('a+*', 'aa')).toBe(false)
    expect(wildcardMatch('a|c*', 'a')).toBe(false)
    expect(wildcardMatch('[ab]*', 'a')).toBe(false)
    expect(wildcardMatch('a\\d*', 'a1')).toBe(false)
  })

  it('compares case-insensitively only when asked, also without wildcards', () => {
    expect(
      wildcardMatch('Codestar-Connections:Get*', 'codestar-connections:GETConnection', true),
    ).toBe(true)
    expect(wildcardMatch('Codestar-Connections:Get*', 'codestar-connections:GETConnection')).toBe(
      false,
    )
    expect(wildcardMatch('S3:GetObject', 's3:getobject', true)).toBe(true)
    expect(wildcardMatch('S3:GetObject', 's3:getobject')).toBe(false)
    expect(wildcardMatch('arn:x', 'arn:x')).toBe(true)
    expect(wildcardMatch('arn:x', 'arn:y', true)).toBe(false)
    // The compiled forms are cached per case mode.
    expect(wildcardRegExp('Ab*', true).test('aBc')).toBe(true)
    expect(wildcardRegExp('Ab*', false).test('aBc')).toBe(false)
    expect(wildcardRegExp('Ab*', true).test('aBc')).toBe(true)
  })

  it('keeps a NUL-escaped * or ? literal, and a trailing NUL as itself', () => {
    expect(wildcardMatch('a\u0000*', 'a*')).toBe(true)
    expect(wildcardMatch('a\u0000*', 'ab')).toBe(false)
    expect(wildcardMatch('a\u0000?', 'a?')).toBe(true)
    expect(wildcardMatch('a\u0000?', 'ab')).toBe(false)
    expect(wildcardMatch('a\u0000.', 'a.')).toBe(true)
    expect(wildcardMatch('a\u0000.', 'ab')).toBe(false)
    expect(wildcardMatch('a\u0000', 'a\u0000')).toBe(true)
    expect(wildcardMatch('a\u0000', 'a')).toBe(false)
    expect(wildcardMatch('a\u0000b', 'ab')).toBe(true)
  })
})

describe('policy variables', () => {
  const ctx = new RequestContext({
    'aws:username': 'alice',
    'aws:PrincipalTag/team': 'pay*?',
    'aws:multi': ['a', 'b'],
  })

  it('knows a string with a variable', () => {
    expect(hasVariables('arn:${aws:username}')).toBe(true)
    expect(hasVariables('arn:$aws:username}')).toBe(false)
    expect(hasVariables('arn:{aws:username}')).toBe(false)
  })

  it('substitutes keys (trimmed, any case), and leaves a string without variables as it is', () => {
    expect(substitute('u/${aws:username}', ctx, false)).toBe('u/alice')
    expect(substitute('u/${ AWS:UserName }/x', ctx, false)).toBe('u/alice/x')
    expect(substitute('u/$aws', ctx, true)).toBe('u/$aws')
    expect(substitute('${aws:username}${aws:username}', ctx, false)).toBe('alicealice')
  })

  it('escapes wildcards of substituted values only when asked', () => {
    expect(substitute('t/${aws:PrincipalTag/team}', ctx, true)).toBe('t/pay\u0000*\u0000?')
    expect(substitute('t/${aws:PrincipalTag/team}', ctx, false)).toBe('t/pay*?')
    expect(wildcardMatch(substitute('t/${aws:PrincipalTag/team}', ctx, true)!, 't/payXY')).toBe(
      false,
    )
    expect(wildcardMatch(substitute('t/${aws:PrincipalTag/team}', ctx, true)!, 't/pay*?')).toBe(
      true,
    )
  })

  it('answers ${*}, ${?} and ${$} as the literal character', () => {
    expect(substitute('${*}${?}${$}', ctx, false)).toBe('*?$')
    expect(substitute('${ * }', ctx, false)).toBe('*')
    expect(substitute('${*}${?}${$}', ctx, true)).toBe('\u0000*\u0000?\u0000$')
  })

  it('uses the default of a missing key, and is unusable when a key is missing or multi-valued', () => {
    expect(substitute("${aws:nope, 'none'}", ctx, false)).toBe('none')
    expect(substitute("${aws:nope,'none'}", ctx, false)).toBe('none')
    expect(substitute("${aws:nope, ''}", ctx, false)).toBe('')
    expect(substitute("${aws:username, 'none'}", ctx, false)).toBe('alice')
    expect(substitute('${aws:nope}', ctx, false)).toBeUndefined()
    expect(substitute('x${aws:nope}y${aws:username}', ctx, false)).toBeUndefined()
    expect(substitute('${aws:multi}', ctx, false)).toBeUndefined()
    expect(substitute("${aws:multi, 'd'}", ctx, false)).toBe('d')
    expect(substitute('${}', ctx, false)).toBeUndefined()
    // A default must be quoted: otherwise the whole text is the key (and no such key exists).
    expect(substitute('${aws:nope, aws:username}', ctx, false)).toBeUndefined()
  })
})
