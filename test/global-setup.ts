/**
 * Builds `dist/` once before the suites, so the CLI tests run the real `junction` bin of the code
 * under test, never a stale build.
 */
import { execFileSync } from 'node:child_process'

export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}
