import { defineConfig } from 'vitest/config'

/**
 * The tests StrykerJS runs against each mutant (`npm run test:mutation`, stryker.config.json): the
 * fast unit and store-level tests of the modules it mutates. No global `dist` build and no servers,
 * so a mutant is judged in milliseconds.
 *
 * `MUTATION_TESTS` (comma-separated globs) narrows the list to one module's tests for a focused run,
 * e.g. `MUTATION_TESTS=src/pipelines/glob.test.ts npx stryker run --mutate src/pipelines/glob.ts`
 * (docs/mutation-testing.md lists the command of each module).
 */
const all = [
  'src/protocol/sigv4/*.test.ts',
  'src/iam/policy/*.test.ts',
  'src/iam/*.test.ts',
  'src/connect/signed.test.ts',
  'src/domain/pagination.test.ts',
  'src/pipelines/glob.test.ts',
  'src/pipelines/match-filters.test.ts',
  'src/providers/bitbucket/*.test.ts',
  'test/store/dedupe-leases.test.ts',
]
const only = process.env.MUTATION_TESTS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean)

export default defineConfig({
  test: {
    include: only?.length ? only : all,
    testTimeout: 30_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
})
