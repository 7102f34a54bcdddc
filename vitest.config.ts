import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/** Suites that start the real bot or CLI as child processes: `npm run test:fast` leaves them out. */
const childProcessSuites = [
  'test/ops/{compose-healthcheck,data-dir-lock,npm-start,runtime,shutdown,startup-failure}.test.ts',
  'test/adapters/console/*.e2e.test.ts',
  'test/cli/**',
];
const fast = process.env.BACKCARE_TEST_FAST === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(fast ? childProcessSuites : [])],
    // Suites that touch storage each create their own PostgreSQL database, so files can run in parallel.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Files share their worker's module cache instead of importing the whole app again each (about three minutes
    // of CPU on a 2-core machine). This holds because no test mocks modules, every suite builds its own core,
    // database and fakes, fake timers and nock interceptors are undone after each test, and the action key is set
    // by whatever encodes and decodes (src/app.ts at start, or the test itself).
    isolate: false,
    // Vitest's default (one worker fewer than the cores) is a single worker on a 2-core machine, yet many files
    // mostly wait on child processes, sockets and PostgreSQL: a few more workers keep both cores busy.
    maxWorkers: Math.max(3, availableParallelism()),
    // Migrates one PGlite and one PostgreSQL template per run; each suite's database is a copy of them.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
