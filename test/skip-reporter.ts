/**
 * Ends every run with what it did not test: the tests skipped because the machine lacks something
 * (`[needs …]`, see `test/helpers/requirements.ts`), counted per requirement, so a local run
 * without PostgreSQL or the AWS CLI says so loudly instead of looking complete.
 */
import type { Reporter, TestModule } from 'vitest/node'

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const byNeed = new Map<string, number>()
    for (const m of modules) {
      for (const t of m.children.allTests('skipped')) {
        for (const [, need] of t.fullName.matchAll(/\[needs ([^\]]+)\]/g)) {
          byNeed.set(need!, (byNeed.get(need!) ?? 0) + 1)
        }
      }
    }
    if (!byNeed.size) return
    const total = [...byNeed.values()].reduce((a, b) => a + b, 0)
    const lines = [...byNeed].map(
      ([need, n]) => `  ${n} test${n === 1 ? ' needs' : 's need'} ${need}`,
    )
    process.stdout.write(
      `\n!! ${total} test${total === 1 ? ' was' : 's were'} SKIPPED because this machine lacks:\n` +
        `${lines.join('\n')}\n!! CI runs them all (JUNCTION_TEST_REQUIRE_ALL=1 makes a missing one fail).\n\n`,
    )
  }
}
