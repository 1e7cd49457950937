import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LockstepError } from '../../shared/errors';
import { fsyncDir, writeFileAtomic, writeFileDurable } from '../store/atomic';
import { openModel, type OpenedModel } from './import-model';

/**
 * Writes a folder of files so that a crash never leaves a half-written file:
 * - a new folder is built whole under a temp name beside it, flushed, then renamed into place
 *   (readers see no folder or the complete one);
 * - into an existing folder, each file is replaced atomically, in the order given (put the
 *   entry point, e.g. model.json, last).
 */
export function writeFolderAtomic(dir: string, files: ReadonlyArray<readonly [string, Uint8Array | string]>): void {
  if (existsSync(dir)) {
    for (const [name, data] of files) writeFileAtomic(join(dir, name), data);
    return;
  }
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const temp = join(parent, `.${basename(dir)}.${process.pid}.${Date.now()}.tmp`);
  mkdirSync(temp);
  try {
    for (const [name, data] of files) writeFileDurable(join(temp, name), data);
    fsyncDir(temp);
    renameSync(temp, dir);
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  fsyncDir(parent);
}

/** Writes one file atomically, creating its folder if needed. */
export function writeFileAtomicIn(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, data);
}

/**
 * Writes a model (see `openModel`) as the one file `build` makes of it, atomically at `dest`;
 * returns [dest]. `kind` names the file in the error for a folder at `dest` ('.npz').
 */
export function exportModelFile(
  source: string,
  dest: string,
  kind: string,
  build: (model: OpenedModel) => Uint8Array,
): string[] {
  const model = openModel(source);
  const out = resolve(dest);
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new LockstepError(`expected a file path for the ${kind}, found a folder`, { file: dest });
  }
  writeFileAtomicIn(out, build(model));
  return [out];
}
