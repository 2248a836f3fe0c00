import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Signer } from './signed.js'

const KEY = Buffer.alloc(32, 7)

/** A signer whose clock the test moves. */
function clocked(start = 1_000_000) {
  const clock = { now: start }
  return { clock, signer: new Signer(KEY, () => clock.now) }
}

/** A token with the payload `payload` (any JSON), MACed as the signer does under `key`. */
function forge(purpose: string, payload: unknown, key = KEY): string {
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url')
  const mac = createHmac('sha256', key).update(`${purpose}\n${p}`).digest('base64url')
  return `${p}.${mac}`
}

describe('Signer', () => {
  it('opens its own token for the same purpose with the value signed', () => {
    const { signer } = clocked()
    const t = signer.sign('state', { c: 'arn:x', n: 1 }, 60_000)
    expect(signer.open('state', t)).toEqual({ c: 'arn:x', n: 1 })
  })

  it('signs the expiry as now + ttl, in the payload before the dot', () => {
    const { signer } = clocked(5_000)
    const t = signer.sign('p', 'v', 250)
    const [payload, mac] = t.split('.')
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))).toEqual({
      v: 'v',
      e: 5_250,
    })
    expect(mac).toBe(createHmac('sha256', KEY).update(`p\n${payload}`).digest('base64url'))
    expect(t).toBe(forge('p', { v: 'v', e: 5_250 }))
  })

  it('opens until the last millisecond before expiry and never at or after it', () => {
    const { clock, signer } = clocked(10_000)
    const t = signer.sign('p', 'v', 1_000)
    clock.now = 10_999
    expect(signer.open('p', t)).toBe('v')
    clock.now = 11_000
    expect(signer.open('p', t)).toBeUndefined()
    clock.now = 11_001
    expect(signer.open('p', t)).toBeUndefined()
  })

  it('refuses a token for another purpose, under another key, or altered', () => {
    const { signer } = clocked()
    const t = signer.sign('state', 'v', 60_000)
    expect(signer.open('archive', t)).toBeUndefined()
    expect(new Signer(Buffer.alloc(32, 8), () => 1_000_000).open('state', t)).toBeUndefined()
    const [payload, mac] = t.split('.') as [string, string]
    const flip = (s: string, i: number) =>
      s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
    expect(signer.open('state', `${flip(payload, 3)}.${mac}`)).toBeUndefined()
    expect(signer.open('state', `${payload}.${flip(mac, 5)}`)).toBeUndefined()
    expect(signer.open('state', `${payload}.${mac.slice(1)}`)).toBeUndefined()
    expect(signer.open('state', `${payload}.${mac}A`)).toBeUndefined()
  })

  it('splits at the last dot, so a payload cannot smuggle a dot', () => {
    const { signer } = clocked()
    const t = signer.sign('p', 'v', 60_000)
    expect(signer.open('p', `x.${t}`)).toBeUndefined()
  })

  it('refuses garbage, a missing payload, non-strings and oversized tokens without throwing', () => {
    const { signer } = clocked()
    for (const t of ['', '.', 'abc', '.abc', 'a.b', '....'])
      expect(signer.open('p', t)).toBeUndefined()
    // A genuine MAC over an empty payload: the payload is required.
    const emptyMac = createHmac('sha256', KEY).update('p\n').digest('base64url')
    expect(signer.open('p', `.${emptyMac}`)).toBeUndefined()
    expect(signer.open('p', 42 as unknown as string)).toBeUndefined()
    expect(signer.open('p', undefined as unknown as string)).toBeUndefined()
  })

  it('opens a token of exactly 8192 characters and refuses one of 8193', () => {
    const { signer } = clocked()
    const overhead = signer.sign('p', '', 60_000).length
    const fit = signer.sign('p', 'x'.repeat(8192 - overhead), 60_000)
    // base64url grows in steps of 4 characters per 3 bytes: find a value that lands exactly.
    let value = 'x'.repeat(8192 - overhead)
    let t = fit
    while (t.length > 8192) {
      value = value.slice(1)
      t = signer.sign('p', value, 60_000)
    }
    while (t.length < 8192) {
      const next = signer.sign('p', value + 'x', 60_000)
      if (next.length > 8192) break
      value += 'x'
      t = next
    }
    expect(t.length).toBe(8192)
    expect(signer.open('p', t)).toBe(value)
    let big = value
    let u = t
    while (u.length <= 8192) {
      big += 'x'
      u = signer.sign('p', big, 60_000)
    }
    expect(u.length).toBeGreaterThan(8192)
    expect(signer.open('p', u)).toBeUndefined()
  })

  it('refuses a genuine MAC over a payload that is not JSON or has no numeric expiry', () => {
    const { signer } = clocked()
    const notJson = Buffer.from('{nope').toString('base64url')
    const mac = createHmac('sha256', KEY).update(`p\n${notJson}`).digest('base64url')
    expect(signer.open('p', `${notJson}.${mac}`)).toBeUndefined()
    expect(signer.open('p', forge('p', { v: 'v' }))).toBeUndefined()
    expect(signer.open('p', forge('p', { v: 'v', e: '99999999999999' }))).toBeUndefined()
    expect(signer.open('p', forge('p', { v: 'v', e: 2_000_000 }))).toBe('v')
  })

  it('uses Date.now when given no clock', () => {
    const signer = new Signer(KEY)
    expect(signer.open('p', signer.sign('p', 1, 60_000))).toBe(1)
    expect(signer.open('p', signer.sign('p', 1, -1))).toBeUndefined()
    expect(signer.open('p', forge('p', { v: 1, e: Date.now() + 60_000 }))).toBe(1)
  })
})
