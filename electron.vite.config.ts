import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

/**
 * Three bundles: the main process (a thin Electron shell over src-main's Node services),
 * the preload (CommonJS, as sandboxed preloads must be), and the Svelte renderer, which the
 * browser host serves unchanged.
 */
export default defineConfig({
  main: {
    build: {
      // The workers are their own entries (out/main/training-worker.js, import-worker.js, timing-worker.js):
      // worker threads load them by path.
      rolldownOptions: {
        input: {
          index: resolve('src-main/electron/main.ts'),
          'training-worker': resolve('src-main/services/training-worker.ts'),
          'import-worker': resolve('src-main/services/import-worker.ts'),
          'timing-worker': resolve('src-main/experiment/timing-worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { index: resolve('src-main/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src-renderer',
    plugins: [svelte()],
    build: {
      rolldownOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
  },
});
