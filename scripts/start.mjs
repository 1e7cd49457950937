// `npm start`: the desktop app. Electron's binary is fetched on first start where the
// network allows (npm may skip its install script); without it, say how to run headless.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function electronPath() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

let binary = electronPath();
if (!binary && !process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.error('lockstep: fetching the Electron binary (first start)…');
  spawnSync(process.execPath, [require.resolve('electron/install.js')], { stdio: 'inherit' });
  binary = electronPath();
}
if (!binary) {
  console.error('lockstep: no Electron binary on this machine (it could not be downloaded).');
  console.error('lockstep: run the same app in a browser instead: npm run serve');
  process.exit(1);
}
const child = spawn(binary, ['.'], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
