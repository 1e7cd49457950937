import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** For tests: a maker of temporary folders named `prefix…`, all removed by its `removeAll` (for afterAll). */
export function tempDirs(prefix: string): (() => string) & { removeAll: () => void } {
  const dirs: string[] = [];
  const make = (): string => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  return Object.assign(make, {
    removeAll: () => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })),
  });
}

export function cli(...args: string[]): CliRun {
  const r = spawnSync(TSX, ['src-main/cli/main.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: lastJsonLine(r.stdout) };
}

/**
 * Starts a TypeScript entry point (`src-main/...`) as ONE Node process (`node --import tsx`,
 * not the tsx launcher, which would run the program in a child of its own): a SIGKILL sent to
 * the returned child kills the program itself, as `kill -9` would.
 */
export function startTsx(entry: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: REPO_ROOT, stdio: 'pipe' });
}

/** SIGKILLs a child and waits for it to be gone; resolves with the signal that ended it (null: it had exited by itself). */
export async function kill9(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
  return child.signalCode;
}
