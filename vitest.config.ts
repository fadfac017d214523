import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-temp.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // Tests start real servers (nginx, PostgreSQL, Redis) on loopback: keep them in separate processes.
    pool: 'forks',
  },
});
