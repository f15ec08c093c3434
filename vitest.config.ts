import { defineConfig } from 'vitest/config';

// The JSON report feeds .ci/run's closing "N passed, N failed" line.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    testTimeout: 60_000,
    // Set-up and clean-up of the end-to-end tests (npm pack, temp projects, browsers) take seconds.
    hookTimeout: 120_000,
  },
});
