import { describe, expect, it } from 'vitest'
import { PageTokens } from './pagination.js'

describe('PageTokens', () => {
  const tokens = new PageTokens(Buffer.alloc(32, 1))
  it('round-trips a cursor for the same listing', () => {
    const t = tokens.issue('ListConnections', '000000000000', { p: 'GitHub' }, 42)
    expect(tokens.open(t, 'ListConnections', '000000000000', { p: 'GitHub' })).toBe(42)
  })
  it('refuses a token for another operation, account, filter or key', () => {
    const t = tokens.issue('ListConnections', '000000000000', {}, 42)
    expect(tokens.open(t, 'ListHosts', '000000000000', {})).toBeUndefined()
    expect(tokens.open(t, 'ListConnections', '111111111111', {})).toBeUndefined()
    expect(tokens.open(t, 'ListConnections', '000000000000', { p: 'GitHub' })).toBeUndefined()
    expect(
      new PageTokens(Buffer.alloc(32, 2)).open(t, 'ListConnections', '000000000000', {}),
    ).toBeUndefined()
  })
  it('refuses garbage', () => {
    for (const t of ['', '.', 'abc', 'a.b', '....', '\u0000'])
      expect(tokens.open(t, 'ListConnections', '000000000000', {})).toBeUndefined()
  })
})
