import { spawn } from 'node:child_process';

/** The platform's command that opens a URL in the default browser, or null where none can show one. */
function opener(url: string): [string, string[]] | null {
  if (process.platform === 'darwin') return ['open', [url]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return null;
  return ['xdg-open', [url]];
}

/**
 * Opens `url` in the default browser, detached; true when an opener was started. A missing or failing
 * opener is not an error: the caller has printed the URL.
 */
export function openInBrowser(url: string): boolean {
  const command = opener(url);
  if (!command) return false;
  const child = spawn(command[0], command[1], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  return true;
}
