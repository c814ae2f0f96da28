import { defineConfig } from 'vitest/config';

// Tests run in forks so that each file gets its own tfjs backend state and SQLite handles.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
