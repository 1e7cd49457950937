import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts one of src-main/services' worker modules (`name` without extension) wherever the code
 * runs:
 *
 * - Built by electron-vite: the worker is its own entry, `out/main/<name>.js`, beside the main
 *   bundle (or one folder up, when this code sits in a shared chunk).
 * - From source (tsx, vitest): `<name>.ts`. Node 20 cannot load TypeScript by itself, and tsx's
 *   `--import` hooks are registered on the main thread only (on Node 20 its loader skips worker
 *   threads), so inheriting execArgv is not enough. The worker starts from a two-line bootstrap
 *   that registers tsx's ESM hooks in the worker itself, then imports the module.
 *
 * `here` is the URL the worker's module sits beside (default this folder's; src-main/experiment
 * passes its own).
 */
export function startServiceWorker(name: string, options: WorkerOptions, here: string = import.meta.url): Worker {
  if (here.endsWith('.ts')) {
    const require = createRequire(here);
    const hooks = pathToFileURL(require.resolve('tsx/esm')).href;
    const url = new URL(`./${name}.ts`, here).href;
    const bootstrap =
      `require('node:module').register(${JSON.stringify(hooks)}, { data: {} });\n` +
      `import(${JSON.stringify(url)}).catch((e) => { setImmediate(() => { throw e; }); });`;
    return new Worker(bootstrap, { ...options, eval: true });
  }
  const candidates = [new URL(`./${name}.js`, here), new URL(`../${name}.js`, here)];
  const found = candidates.find((u) => existsSync(fileURLToPath(u)));
  if (!found)
    throw new Error(
      `lockstep: the worker bundle ${name}.js is missing next to ${fileURLToPath(here)} (rebuild with electron-vite build)`,
    );
  return new Worker(found, options);
}
