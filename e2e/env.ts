import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the e2e tests and playwright.config.ts share: the host's port and token, the data paths. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PORT = Number(process.env.LOCKSTEP_E2E_PORT ?? 5199);
export const TOKEN = process.env.LOCKSTEP_E2E_TOKEN ?? 'e2e-0123456789abcdef0123456789abcdef';
export const BASE_URL = `http://127.0.0.1:${PORT}`;
export const APP_PATH = `/?token=${TOKEN}`;
export const EE_SET_DIR = resolve(REPO, process.env.EE_SET_DIR ?? '../shared/datasets/ee-set');
export const HAS_EE_SET = existsSync(resolve(EE_SET_DIR, 'train', 'lab'));
export const SCREENS = resolve(REPO, 'test-results', 'screens');
