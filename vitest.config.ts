import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native worker runtime is not safe in worker threads; each file gets its own process.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/wait-defaults.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // The first run on a fresh machine may install PostgreSQL with apt-get in the global setup.
    hookTimeout: 600_000,
    // Two cores: more parallel files only queue behind the one dev server.
    maxWorkers: 2,
  },
});
