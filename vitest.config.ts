import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // End-to-end tests start the built CLI as a process; give slow machines room.
    testTimeout: 20_000,
  },
});
