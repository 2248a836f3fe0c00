/**
 * Builds `dist/` once before the suites, so the CLI tests run the real `junction` bin of the code
 * under test, never a stale build. `JUNCTION_TEST_SKIP_BUILD=1` skips it for a run that starts no
 * `junction` process (e.g. one file while the tree is mid-edit).
 */
import { execFileSync } from 'node:child_process'

export default function setup(): void {
  if (process.env['JUNCTION_TEST_SKIP_BUILD'] === '1') return
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}
