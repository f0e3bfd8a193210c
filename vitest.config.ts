import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native worker runtime is not safe in worker threads; each file gets its own process.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: more parallel files only queue behind the one dev server.
    maxWorkers: 2,
  },
});
