import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** For the CLI's tests: the repo root, tsx, and one CLI run with its last stdout line parsed as JSON. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TSX = join(REPO_ROOT, 'node_modules/.bin/tsx');

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
  json: any;
}

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]);
  } catch {
    return null;
  }
}

export function cli(...args: string[]): CliRun {
  const r = spawnSync(TSX, ['src-main/cli/main.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: lastJsonLine(r.stdout) };
}
