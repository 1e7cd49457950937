/**
 * The ee-set's dataset root: where each split's labels file is, and whether a real path is
 * inside the root (every file read must be: symlinks leading out are refused).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { LockstepError } from '../../shared/errors';
import type { SplitName } from '../../shared/data/dataset';

export interface RootContext {
  /** Absolute root as given (not resolved through symlinks): label paths resolve against it. */
  root: string;
  /** Real path of the root: every file read must have its real path inside it. */
  rootReal: string;
  /** Each folder holding feature files: its real path and whether that is inside the root (`null`: missing). */
  dirReal: Map<string, { real: string; inside: boolean } | null>;
}

export function makeRootContext(root: string): RootContext {
  let rootReal: string;
  try {
    rootReal = fs.realpathSync.native(root);
  } catch {
    throw new LockstepError('expected the dataset root folder to exist, found nothing there', { file: root });
  }
  return { root, rootReal, dirReal: new Map() };
}

export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function findLabelsFile(root: string, split: SplitName): string {
  const labDir = nodePath.join(root, split, 'lab');
  let names: string[] = [];
  try {
    names = fs
      .readdirSync(labDir)
      .filter((n) => n.toLowerCase().endsWith('.txt') && isFile(nodePath.join(labDir, n)))
      .sort();
  } catch {
    // no lab/ folder: reported below
  }
  if (names.length !== 1) {
    throw new LockstepError(
      names.length === 0
        ? `expected one labels file ${split}/lab/*.txt, found none`
        : `expected one labels file ${split}/lab/*.txt, found ${names.length}: ${names.join(', ')}`,
      { file: `${split}/lab/` },
    );
  }
  return nodePath.join(labDir, names[0]);
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `true` when the absolute real path `real` is the root or inside it. */
export function insideRoot(rootReal: string, real: string): boolean {
  const rel = nodePath.relative(rootReal, real);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + nodePath.sep) && !nodePath.isAbsolute(rel));
}

export function toId(rel: string): string {
  return nodePath.sep === '/' ? rel : rel.split(nodePath.sep).join('/');
}

export function errCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code ?? String(e);
}
