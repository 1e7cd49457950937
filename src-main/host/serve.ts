/**
 * `npm run serve`: the app in a browser, for machines without Electron's binary.
 *
 *     tsx src-main/host/serve.ts [--port 5199] [--user-data DIR] [--open]
 *
 * Serves out/renderer (build it first: `npm run serve` does) and the services on 127.0.0.1.
 * Port: --port, else LOCKSTEP_PORT, else 5199 (0 = any free port). User data: --user-data,
 * else LOCKSTEP_USER_DATA, else ~/.lockstep. Prints the URL to open, with its token; --open also opens it
 * in the default browser (`npm start` does, where Electron cannot run).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBrowserHost } from './browser-host';
import { openInBrowser } from './open-browser';

function fail(message: string): never {
  console.error(`lockstep serve: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { port?: string; 'user-data'?: string; open?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        'user-data': { type: 'string' },
        open: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    console.log(
      'usage: tsx src-main/host/serve.ts [--port N (default 5199, 0 = any)] [--user-data DIR (default ~/.lockstep)]' +
        ' [--open (in the default browser)]',
    );
    return;
  }
  const portText = values.port ?? process.env.LOCKSTEP_PORT ?? '5199';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) fail(`--port must be an integer in 0–65535, got '${portText}'`);
  const userData = resolve(values['user-data'] ?? process.env.LOCKSTEP_USER_DATA ?? join(homedir(), '.lockstep'));
  const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));

  const host = await startBrowserHost({ userData, rendererDir, port }).catch((e: Error) => fail(e.message));
  console.log(`Lockstep is running. Open ${host.url}`);
  console.log(`(user data: ${userData}; Ctrl+C stops it)`);
  if (values.open && !openInBrowser(host.url)) console.log('(no display to open a browser on: open the URL above)');

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    host.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
