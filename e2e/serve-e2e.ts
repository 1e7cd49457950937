/**
 * The browser host for the e2e tests: src-main/host's startBrowserHost over a fresh user-data
 * folder, on a fixed port with a fixed token (LOCKSTEP_TOKEN), so the tests know the URL.
 *
 *     tsx e2e/serve-e2e.ts --port 5199 --user-data DIR
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBrowserHost } from '../src-main/host/browser-host';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'user-data': { type: 'string' } }, strict: true });
const token = process.env.LOCKSTEP_TOKEN;
if (!token || !values['user-data']) {
  console.error('serve-e2e: needs --user-data DIR and LOCKSTEP_TOKEN');
  process.exit(2);
}
const host = await startBrowserHost({
  userData: values['user-data'],
  rendererDir: fileURLToPath(new URL('../out/renderer', import.meta.url)),
  port: Number(values.port ?? 5199),
  token,
});
console.log(`e2e host: ${host.url}`);
const stop = (): void => void host.close().finally(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
