// The time-bound tests, one file at a time after the main run (see vitest.config.ts).
import { defineConfig } from 'vitest/config';
import { ALONE, shared } from './vitest.config.js';

export default defineConfig({
  test: {
    ...shared,
    globalSetup: [...shared.globalSetup],
    reporters: [...shared.reporters],
    include: [ALONE],
    maxWorkers: 1,
    fileParallelism: false,
  },
});
