import { defineConfig } from 'vitest/config'

/**
 * The tests StrykerJS runs against each mutant (`npm run test:mutation`, stryker.config.json): the
 * fast unit and store-level tests of the modules it mutates. No global `dist` build and no servers,
 * so a mutant is judged in milliseconds.
 */
export default defineConfig({
  test: {
    include: [
      'src/protocol/sigv4/*.test.ts',
      'src/iam/policy/*.test.ts',
      'src/iam/*.test.ts',
      'src/connect/*.test.ts',
      'src/domain/*.test.ts',
      'src/pipelines/glob.test.ts',
      'src/pipelines/match-filters.test.ts',
      'src/providers/bitbucket/*.test.ts',
      'src/store/sql/*.test.ts',
    ],
    testTimeout: 30_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
})
