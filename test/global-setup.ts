/**
 * Builds `dist/` once before the suites, so the CLI tests run the real `junction` bin of the code
 * under test, never a stale build. `JUNCTION_TEST_SKIP_BUILD=1` skips it for a run that starts no
 * `junction` process (e.g. one file while the tree is mid-edit).
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

export default function setup(): void {
  if (process.env['JUNCTION_TEST_SKIP_BUILD'] === '1') return
  // The project's own build (`npm run build`): tsc, the bins made executable, the freshness stamp.
  const script = join(import.meta.dirname, '..', 'scripts', 'ensure-built.js')
  execFileSync(process.execPath, [script, '--force'], { stdio: 'inherit' })
}
