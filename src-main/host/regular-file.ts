import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { LockstepError } from '../../shared/errors';

/**
 * The bytes of a regular file, opened without following a symbolic link (O_NOFOLLOW) and
 * without waiting for a FIFO's writer (O_NONBLOCK); a link, FIFO, socket, device or folder is
 * refused (LockstepError saying which). A download serves what Lockstep wrote, never what
 * something placed beside it points to.
 */
export function readRegularFile(path: string): Buffer {
  // Where O_NOFOLLOW does not exist (Windows), lstat is the next best check.
  const link = (): LockstepError => new LockstepError('expected a regular file, found a symbolic link');
  if (constants.O_NOFOLLOW === undefined && lstatSync(path).isSymbolicLink()) throw link();
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw link();
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const found = st.isDirectory() ? 'a folder' : 'a special file (FIFO, socket or device)';
      throw new LockstepError(`expected a regular file, found ${found}`);
    }
    const bytes = Buffer.allocUnsafe(st.size);
    let got = 0;
    for (let n = 1; got < bytes.length && n > 0; got += n) n = readSync(fd, bytes, got, bytes.length - got, got);
    return bytes.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
