import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Leftovers of processes killed mid-write (kill -9, power loss): every temp file or folder
 * Lockstep makes carries its owner's pid in its name, so a later process can tell a stale one
 * (its owner is gone) from one still being written, and remove only the stale ones.
 */

/** Whether no process with this pid exists (EPERM: it exists, owned by another user). */
export function processIsGone(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The prefix of an archive's extraction folder in the temp folder: `lockstep-archive-<pid>-XXXXXX`. */
export function archiveTempPrefix(): string {
  return `lockstep-archive-${process.pid}-`;
}

const ARCHIVE_TEMP = /^lockstep-archive-(\d+)-[A-Za-z0-9]{6}$/;
/** writeFileAtomic's temp files: `.<name>.<pid>.<time>.tmp`. */
export const ATOMIC_TEMP = /^\..+\.(\d+)\.\d+\.tmp$/;

/** Removes the entries of `dir` matching `pattern` whose owner (the pid in group 1) is gone; returns their names. */
export function sweepStale(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m || !processIsGone(Number(m[1]))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** At start (CLI and app): archive extraction folders left by killed processes. */
export function sweepStaleArchiveFolders(dir = tmpdir()): string[] {
  return sweepStale(dir, ARCHIVE_TEMP);
}
