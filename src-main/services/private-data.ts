import { chmodSync, mkdirSync } from 'node:fs';

/**
 * Makes a user-data folder private to the user (0700, also when an earlier version made it 0755)
 * and sets this process's umask to 077, so that every folder and file it and its training
 * workers create from now on is private too (0700 / 0600): the datasets, runs and uploads kept
 * there are the user's alone. For the processes that own a user-data folder (the browser host,
 * the desktop app), not for the CLI, whose outputs are the user's to share.
 */
export function makeUserDataPrivate(userData: string): void {
  process.umask(0o077);
  mkdirSync(userData, { recursive: true, mode: 0o700 });
  chmodSync(userData, 0o700);
}
