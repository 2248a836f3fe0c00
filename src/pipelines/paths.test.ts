import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { inside, PathEscapeError, segment } from './paths.js'

const PATTERN = /^[A-Za-z0-9.@_-]+$/

describe('path segments from names', () => {
  it('keeps plain names and encodes . and ..', () => {
    expect(segment('my-pipeline')).toBe('my-pipeline')
    expect(segment('...')).toBe('...')
    expect(segment('a..b')).toBe('a..b')
    expect(segment('.')).toBe('%2E')
    expect(segment('..')).toBe('%2E%2E')
    expect(segment('a/b')).toBe('a%2Fb')
    expect(segment('%2E')).toBe('%252E')
    expect(() => segment('')).toThrow(PathEscapeError)
    expect(() => segment('\uD800')).toThrow(PathEscapeError)
  })

  it('maps every name to one safe segment of its own', () => {
    const names = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9.@_-]{1,100}$/),
      fc.constantFrom('.', '..', '...', '%', '%2E', 'a/..', '/', '\0'),
      fc
        .string({ minLength: 1, maxLength: 60, unit: 'binary' })
        .filter((s) => Buffer.from(s).toString() === s),
    )
    fc.assert(
      fc.property(names, names, (a, b) => {
        const sa = segment(a)
        expect(sa).not.toMatch(/^\.{1,2}$/)
        expect(sa).not.toMatch(/[/\0]/)
        if (PATTERN.test(a) && a !== '.' && a !== '..') expect(sa).toBe(a)
        if (a !== b) expect(sa).not.toBe(segment(b))
        expect(inside('/base', sa)).toBe(`/base/${sa}`)
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses a join that would leave or be its base', () => {
    for (const bad of [['..'], ['.'], [''], ['a/../..'], ['a', '..'], ['x\0y']])
      expect(() => inside('/base', ...bad), JSON.stringify(bad)).toThrow(PathEscapeError)
    expect(inside('/base', 'a', 'b.log')).toBe('/base/a/b.log')
  })
})
