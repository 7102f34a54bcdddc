import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites that touch storage each create their own PostgreSQL database, so files can run in parallel.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Migrates one PGlite and one PostgreSQL template per run; each suite's database is a copy of them.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
