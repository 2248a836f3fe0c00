import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MasterKey } from './master-key.js'

describe('MasterKey', () => {
  it('creates <data-dir>/master.key with mode 0600 and loads it again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mk-'))
    const a = MasterKey.load(dir, {})
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600)
    const b = MasterKey.load(dir, {})
    expect(b.decrypt(a.encrypt('secret'))).toBe('secret')
  })
  it('takes JUNCTION_MASTER_KEY (hex or base64) instead of the file', () => {
    const hex = 'ab'.repeat(32)
    const k = MasterKey.load('/nonexistent', { JUNCTION_MASTER_KEY: hex })
    const k2 = MasterKey.load('/nonexistent', {
      JUNCTION_MASTER_KEY: Buffer.from(hex, 'hex').toString('base64'),
    })
    expect(k2.decrypt(k.encrypt('x'))).toBe('x')
    expect(() => MasterKey.load('/nonexistent', { JUNCTION_MASTER_KEY: 'short' })).toThrow(
      /32-byte/,
    )
  })
  it('after an interrupted rotation, also decrypts with master.key.new (but encrypts with master.key)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mk-'))
    const current = MasterKey.load(dir, {})
    const next = MasterKey.generate()
    writeFileSync(join(dir, 'master.key.new'), next.serialize())
    const loaded = MasterKey.load(dir, {})
    expect(loaded.id).toBe(current.id)
    expect(loaded.decrypt(next.encrypt('sealed under the new key'))).toBe(
      'sealed under the new key',
    )
    expect(loaded.encrypt('x')).toContain(`.${current.id}.`)
    expect(() => MasterKey.generate().decrypt(loaded.encrypt('x'))).toThrow(/another master key/)
  })

  it('uses a fresh IV each time and detects tampering and foreign keys', () => {
    const k = new MasterKey(Buffer.alloc(32, 7))
    const a = k.encrypt('same')
    expect(k.encrypt('same')).not.toBe(a)
    expect(a).not.toContain('same')
    const raw = Buffer.from(a.split('.')[2]!, 'base64')
    raw[raw.length - 1]! ^= 1
    expect(() => k.decrypt(`v1.${k.id}.${raw.toString('base64')}`)).toThrow()
    expect(() => new MasterKey(Buffer.alloc(32, 8)).decrypt(a)).toThrow(/another master key/)
  })
})
