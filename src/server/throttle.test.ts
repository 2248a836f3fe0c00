import { describe, expect, it } from 'vitest'
import { addressKey, FailureThrottle } from './throttle.js'

describe('FailureThrottle', () => {
  it('refuses after `limit` failures in the window, until the oldest leaves it', () => {
    let now = 1_000_000
    const t = new FailureThrottle({ limit: 3, windowMs: 60_000, now: () => now })
    expect(t.fail('k')).toBe(false)
    now += 10_000
    expect(t.fail('k')).toBe(false)
    expect(t.retryAfterMs('k')).toBe(0)
    now += 10_000
    expect(t.fail('k')).toBe(true)
    expect(t.retryAfterMs('k')).toBe(40_000)
    expect(t.retryAfterMs('other')).toBe(0)
    now += 40_000
    // The first failure left the window: one more try, then refused again.
    expect(t.retryAfterMs('k')).toBe(0)
    expect(t.fail('k')).toBe(true)
    expect(t.retryAfterMs('k')).toBe(10_000)
    now += 60_000
    expect(t.retryAfterMs('k')).toBe(0)
    expect(t.size).toBe(0)
  })

  it('keeps at most maxKeys keys, forgetting expired ones first, then the least recently failed', () => {
    let now = 0
    const t = new FailureThrottle({ limit: 2, windowMs: 1_000, maxKeys: 100, now: () => now })
    for (let i = 0; i < 100; i++) t.fail(`old-${i}`)
    now += 2_000
    t.fail('hot')
    t.fail('hot')
    expect(t.size).toBe(1)
    for (let i = 0; i < 10_000; i++) t.fail(`spray-${i}`)
    expect(t.size).toBe(100)
    // 'hot' was the least recently failed and was forgotten under pressure; the bound holds.
    expect(t.retryAfterMs('spray-9999')).toBe(0)
    expect(t.fail('spray-9999')).toBe(true)
  })
})

describe('addressKey', () => {
  it('keys IPv4 as is, IPv4-mapped IPv6 as IPv4, and IPv6 by its /64', () => {
    expect(addressKey('127.0.0.2')).toBe('127.0.0.2')
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3')
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64')
    expect(addressKey(undefined)).toBe('unknown')
  })
})
