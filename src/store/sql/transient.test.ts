import { describe, expect, it } from 'vitest'
import { isTransient, retryTransient } from './transient.js'

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code })

describe('transient PostgreSQL aborts', () => {
  it('knows deadlocks and serialization failures, nothing else', () => {
    expect(isTransient(pgError('40P01'))).toBe(true)
    expect(isTransient(pgError('40001'))).toBe(true)
    for (const other of [pgError('23505'), pgError('42P01'), new Error('x'), null, 'x'])
      expect(isTransient(other)).toBe(false)
  })

  it('runs a deadlock victim again, and gives up after a few tries', async () => {
    let calls = 0
    await expect(
      retryTransient(async () => {
        if (++calls < 3) throw pgError('40P01')
        return 'done'
      }),
    ).resolves.toBe('done')
    expect(calls).toBe(3)
    calls = 0
    await expect(
      retryTransient(async () => {
        calls++
        throw pgError('40001')
      }),
    ).rejects.toThrow('pg 40001')
    expect(calls).toBe(4)
  })

  it('passes other errors through at once', async () => {
    let calls = 0
    await expect(
      retryTransient(async () => {
        calls++
        throw pgError('23505')
      }),
    ).rejects.toThrow('pg 23505')
    expect(calls).toBe(1)
  })
})
