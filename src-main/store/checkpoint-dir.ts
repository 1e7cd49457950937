import * as fs from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { LockstepError } from '../../shared/errors';
import {
  unpackWeights,
  validateManifest,
  type Checkpoint,
  type CheckpointManifest,
} from '../../shared/model/checkpoint';
import { fsyncDir, writeFileAtomic, writeFileDurable } from './atomic';
import { ATOMIC_TEMP, processIsGone, sweepStale } from './stale';

export const MANIFEST_FILE = 'checkpoint.json';

/** `weights-<pid>-<thread>-<unique>.bin`: the writer that owns it. Older versions wrote `weights-<time>-<pid>.bin`. */
const WEIGHTS_FILE = /^weights-(?:(\d+)-(\d+)-)?[0-9a-z]+(?:-[0-9a-z]+)?\.bin$/;
let written = 0;

/**
 * Saves a checkpoint so that the folder always holds one complete checkpoint, whenever a
 * process dies and however many processes write to it at once: the weights go to a file of
 * their own (named after this writer, never reused), then checkpoint.json is replaced
 * atomically to point at them. Afterwards only weights files that the committed checkpoint.json
 * does not name are removed, and only this writer's own or those of writers that are gone: a
 * file another live writer is about to commit is never touched.
 */
export function writeCheckpoint(
  dir: string,
  manifest: Omit<CheckpointManifest, 'weightsFile'>,
  bytes: Uint8Array,
): string {
  fs.mkdirSync(dir, { recursive: true });
  const unique = `${Date.now().toString(36)}-${(written++).toString(36)}`;
  const weightsFile = `weights-${process.pid}-${threadId}-${unique}.bin`;
  writeFileDurable(join(dir, weightsFile), bytes);
  fsyncDir(dir);
  writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, weightsFile }, null, 1));
  removeUnreferencedWeights(dir);
  return join(dir, MANIFEST_FILE);
}

/** The weights file the committed checkpoint.json names, or null when it cannot be read. */
function committedWeightsFile(dir: string): string | null {
  try {
    const manifest = JSON.parse(fs.readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as { weightsFile?: unknown };
    return typeof manifest.weightsFile === 'string' ? manifest.weightsFile : null;
  } catch {
    return null;
  }
}

/**
 * Removes stale temp manifests, and the weights files that checkpoint.json does not name and no
 * live writer can still commit.
 */
export function removeUnreferencedWeights(dir: string): void {
  sweepStale(dir, ATOMIC_TEMP);
  const committed = committedWeightsFile(dir);
  if (committed === null) return;
  for (const name of fs.readdirSync(dir)) {
    const m = WEIGHTS_FILE.exec(name);
    if (!m || name === committed) continue;
    const pid = m[1] === undefined ? null : Number(m[1]);
    const mine = pid === process.pid && Number(m[2]) === threadId;
    // This writer commits synchronously, so none of its own files is still waiting to be committed.
    if (pid === null || mine || processIsGone(pid)) fs.rmSync(join(dir, name), { force: true });
  }
}

/** A weights file's bytes (null: missing), opened without following links; a FIFO or folder is refused, not awaited. */
function readWeightsFile(dir: string, name: string): Buffer | null {
  const where = { file: join(dir, name), field: 'weightsFile' };
  let fd: number;
  try {
    fd = fs.openSync(where.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new LockstepError(`expected the weights file, a regular file, found ${code}`, where);
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new LockstepError('expected the weights file, found something else', where);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function readManifest(manifestPath: string): CheckpointManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new LockstepError(`not valid JSON (${(e as Error).message})`, { file: manifestPath });
  }
  return validateManifest(raw, manifestPath);
}

export function readCheckpoint(dir: string): Checkpoint {
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new LockstepError('no checkpoint folder here', { file: dir });
  }
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!fs.statSync(manifestPath, { throwIfNoEntry: false })) {
    throw new LockstepError(`expected ${MANIFEST_FILE} in the checkpoint folder`, { file: dir });
  }
  // A writer may commit a newer checkpoint (and remove the weights read here) between the two reads: read again.
  for (let attempt = 0; ; attempt++) {
    const manifest = readManifest(manifestPath);
    const bytes = readWeightsFile(dir, manifest.weightsFile);
    if (bytes) return { manifest, ...unpackWeights(manifest, bytes, join(dir, manifest.weightsFile)) };
    if (attempt >= 3 || committedWeightsFile(dir) === manifest.weightsFile) {
      throw new LockstepError(`the weights file ${manifest.weightsFile} is missing`, { file: dir });
    }
  }
}
