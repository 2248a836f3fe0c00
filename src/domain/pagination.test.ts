import { createHmac } from 'node:crypto'
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

  /** A token for `cursor` under the test key, MACed as PageTokens does (22 base64url characters). */
  const forge = (cursor: unknown, raw?: string) => {
    const payload = raw ?? Buffer.from(JSON.stringify(cursor)).toString('base64url')
    const mac = createHmac('sha256', Buffer.alloc(32, 1))
      .update(payload)
      .digest('base64url')
      .slice(0, 22)
    return `${payload}.${mac}`
  }
  it('issues a payload and a 22-character MAC, and opens a seq of 0', () => {
    const t = tokens.issue('ListHosts', '000000000000', { a: 1 }, 0)
    expect(t).toBe(forge({ o: 'ListHosts', a: '000000000000', f: '{"a":1}', s: 0 }))
    expect(t.split('.')[1]).toHaveLength(22)
    expect(tokens.open(t, 'ListHosts', '000000000000', { a: 1 })).toBe(0)
  })
  it('refuses a MAC cut, lengthened or changed, and a token with no payload', () => {
    const t = tokens.issue('ListConnections', '000000000000', {}, 7)
    const [payload, mac] = t.split('.') as [string, string]
    expect(
      tokens.open(`${payload}.${mac.slice(0, 21)}`, 'ListConnections', '000000000000', {}),
    ).toBeUndefined()
    expect(tokens.open(`${t}A`, 'ListConnections', '000000000000', {})).toBeUndefined()
    const other = mac[0] === 'A' ? 'B' : 'A'
    expect(
      tokens.open(`${payload}.${other}${mac.slice(1)}`, 'ListConnections', '000000000000', {}),
    ).toBeUndefined()
    expect(
      tokens.open(`.${forge(null, '').slice(1)}`, 'ListConnections', '000000000000', {}),
    ).toBeUndefined()
  })
  it('refuses a genuine MAC over a payload that is not JSON or holds a bad seq', () => {
    const base = { o: 'ListConnections', a: '000000000000', f: '{}' }
    const open = (t: string) => tokens.open(t, 'ListConnections', '000000000000', {})
    expect(open(forge(null, Buffer.from('{nope').toString('base64url')))).toBeUndefined()
    expect(open(forge({ ...base, s: 5 }))).toBe(5)
    for (const s of [-1, 1.5, '5', null, 2 ** 53])
      expect(open(forge({ ...base, s }))).toBeUndefined()
  })
})
