import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that assert a time bound of the relay itself (`*.alone.test.ts`) run after the rest, on their
 * own (vitest.alone.config.ts): beside another e2e file on 2 cores, the scheduling delay they would
 * measure is the other file's, not the relay's.
 */
export const ALONE = 'test/**/*.alone.test.ts';

/** What both runs share: one private Redis and S3 server per run, real processes, generous timeouts. */
export const shared = {
  globalSetup: ['test/helpers/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks',
  reporters: ['default'],
} as const;

export default defineConfig({
  test: {
    ...shared,
    globalSetup: [...shared.globalSetup],
    reporters: [...shared.reporters],
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ALONE],
    maxWorkers: 2,
  },
});
