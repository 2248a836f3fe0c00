/**
 * @module test-hooks
 * TEST-ONLY crash points: a named place in the code where a test can make the real `junction`
 * process die by SIGKILL, as a power cut would, to prove that what it leaves behind is recovered.
 *
 * Inert unless BOTH `NODE_ENV=test` and `JUNCTION_TEST_CRASH_AT=<point>` are set in the process's
 * environment (never set them in production): otherwise {@link crashPoint} only compares a string.
 */
import { writeSync } from 'node:fs'

/** The places a test may crash the process at. */
export type CrashPoint =
  /** An event's executions were started; the event is not yet marked processed. */
  'event-started-before-done'

/** Kills this process with SIGKILL when a test armed `point` (see the module comment). */
export function crashPoint(point: CrashPoint): void {
  if (process.env['NODE_ENV'] !== 'test' || process.env['JUNCTION_TEST_CRASH_AT'] !== point) return
  // Synchronous, so the line is out before the signal: the test checks where the process died.
  writeSync(2, `junction test hook: crashing at ${point}\n`)
  process.kill(process.pid, 'SIGKILL')
}
