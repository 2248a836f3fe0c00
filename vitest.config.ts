import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The default output, then a loud count of what this machine could not test.
    reporters: ['default', './test/skip-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // API suites start real servers and databases; keep parallelism within the 2-core budget.
    maxWorkers: 2,
    // The SDK pinned here still supports Node 20; its notice about future releases is noise in tests.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
})
