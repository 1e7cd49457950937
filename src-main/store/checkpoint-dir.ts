import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LockstepError } from '../../shared/errors';
import { unpackWeights, validateManifest, type Checkpoint, type CheckpointManifest } from '../../shared/model/checkpoint';
import { fsyncDir, writeFileAtomic, writeFileDurable } from './atomic';

export const MANIFEST_FILE = 'checkpoint.json';

/**
 * Saves a checkpoint so that the folder always holds one complete checkpoint, whenever the
 * process dies: the new weights go to a fresh file first, then checkpoint.json is replaced
 * atomically to point at them, and only then are older weights files removed.
 */
export function writeCheckpoint(dir: string, manifest: Omit<CheckpointManifest, 'weightsFile'>, bytes: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const weightsFile = `weights-${Date.now().toString(36)}-${process.pid.toString(36)}.bin`;
  writeFileDurable(join(dir, weightsFile), bytes);
  fsyncDir(dir);
  writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, weightsFile }, null, 1));
  for (const name of readdirSync(dir)) {
    if (/^weights-.*\.bin$/.test(name) && name !== weightsFile) rmSync(join(dir, name), { force: true });
  }
  return join(dir, MANIFEST_FILE);
}

export function readCheckpoint(dir: string): Checkpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LockstepError('no checkpoint folder here', { file: dir });
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new LockstepError(`expected ${MANIFEST_FILE} in the checkpoint folder`, { file: dir });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new LockstepError(`not valid JSON (${(e as Error).message})`, { file: manifestPath });
  }
  const manifest = validateManifest(raw, manifestPath);
  const weightsPath = join(dir, manifest.weightsFile);
  if (!existsSync(weightsPath)) throw new LockstepError(`the weights file ${manifest.weightsFile} is missing`, { file: dir });
  return { manifest, weights: unpackWeights(manifest, readFileSync(weightsPath), weightsPath) };
}
