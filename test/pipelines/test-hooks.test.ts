/**
 * The test-only crash point (src/test-hooks.ts) is inert unless a test arms it with both
 * NODE_ENV=test and JUNCTION_TEST_CRASH_AT: a production process that happens to carry one of
 * them never kills itself.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'

const HOOKS = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'test-hooks.js')).href

/** Reaches the crash point in a fresh process with `env`; how it ended. */
function reach(env: NodeJS.ProcessEnv) {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { crashPoint } = await import(${JSON.stringify(HOOKS)})
crashPoint('event-started-before-done')
console.log('still alive')`,
    ],
    { env: { PATH: process.env['PATH'], ...env }, encoding: 'utf8' },
  )
  return { signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

describe('crash points', () => {
  it('kill the process only when NODE_ENV=test arms the named point', () => {
    const armed = reach({ NODE_ENV: 'test', JUNCTION_TEST_CRASH_AT: 'event-started-before-done' })
    expect(armed.signal).toBe('SIGKILL')
    expect(armed.stdout).toBe('')
    expect(armed.stderr).toContain('crashing at event-started-before-done')
    for (const env of [
      { JUNCTION_TEST_CRASH_AT: 'event-started-before-done' },
      { NODE_ENV: 'production', JUNCTION_TEST_CRASH_AT: 'event-started-before-done' },
      { NODE_ENV: 'test', JUNCTION_TEST_CRASH_AT: 'another-point' },
      { NODE_ENV: 'test' },
    ]) {
      const r = reach(env)
      expect(r.signal, JSON.stringify(env)).toBeNull()
      expect(r.stdout).toBe('still alive\n')
    }
  })
})
