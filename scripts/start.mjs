// `npm start`: the desktop app. In Electron where its binary is here or can be fetched now (npm's install
// skips electron's download script, see .npmrc); otherwise the same app in the browser host, opened in the
// default browser. Arguments after `npm start --` go to the browser host (e.g. `--port 8080`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** Runs electron's own download script; on failure, the first line of what it said (no stack trace). */
function fetchElectron() {
  console.error("lockstep: fetching Electron's binary (first start)…");
  const r = spawnSync(process.execPath, [require.resolve('electron/install.js')], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (electronBinary()) return null;
  const said = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').find((line) => line.trim() !== '');
  return (said ?? (r.error ? r.error.message : `exit ${r.status}`)).trim().slice(0, 160);
}

function noDisplay() {
  return process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
}

function browserHost(reason) {
  console.error(`lockstep: ${reason}; starting the browser host instead.`);
  const args = ['--import', 'tsx', 'src-main/host/serve.ts', '--open', ...process.argv.slice(2)];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code) => process.exit(code ?? 0));
}

let binary = electronBinary();
let failure = null;
if (!binary && !process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  failure = fetchElectron();
  binary = electronBinary();
}
if (!binary) {
  browserHost(failure ? `Electron's binary could not be downloaded (${failure})` : 'no Electron binary here');
} else if (noDisplay()) {
  browserHost('no display for an Electron window (DISPLAY is not set)');
} else {
  const child = spawn(binary, ['.'], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
