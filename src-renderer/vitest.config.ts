import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

/** The renderer's unit and component tests: jsdom, and Svelte's browser build (else mount() is server-only). */
export default defineConfig({
  root: import.meta.dirname,
  // Keep vite's cache in the repo's node_modules, not a second one under src-renderer/.
  cacheDir: '../node_modules/.vite/renderer-tests',
  plugins: [svelte()],
  resolve: { conditions: ['browser'] },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'jsdom',
    testTimeout: 20_000,
  },
});
