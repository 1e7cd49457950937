/**
 * Loading one split of the ee-set: its labels file, then every listed feature file into one
 * preallocated Float32Array (one slot of `frames` rows per listed example), the kept slots
 * compacted in place at the end; a worker thread reads part of the files when the split is
 * large.
 *
 * A problem in a feature file only drops that example; each drop is recorded in the split's
 * report with its file, line (where there is one), reason and message. A path whose real
 * location is outside the dataset root (through a symlinked folder or file) is refused.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { LockstepError } from '../../shared/errors';
import {
  EE_SET_CLASSES,
  classCounts,
  emptyDropCounts,
  type DroppedExample,
  type Split,
  type SplitReport,
} from '../../shared/data/dataset';
import { parseLabels, type Entry } from './eeset-labels';
import { errCode, insideRoot, toId, type RootContext } from './eeset-root';
import { eesetTuning, type WorkerHelper } from './eeset-worker';
import { EE_SET_CHANNELS } from './feature-parser';
import { MAIN_PROCESSOR } from './feature-reader';
import { MAX_SPLIT_VALUES, shortExampleMessage, splitTooLarge } from './load-options';

const NUM_CLASSES = EE_SET_CLASSES.length;

/** Pre-pass outcome: the folder of the file resolves outside the root. */
const S_DIR_ESCAPE = 100;

export async function loadSplit(
  ctx: RootContext,
  labelsAbs: string,
  frames: number,
  short: 'drop' | 'pad',
  helper: WorkerHelper,
): Promise<{ data: Split; report: SplitReport }> {
  const labelsRel = toId(nodePath.relative(ctx.root, labelsAbs));
  const entries = parseLabels(ctx, labelsAbs, labelsRel);
  const listed = entries.length;
  const rowLen = frames * EE_SET_CHANNELS;
  if (listed * rowLen > MAX_SPLIT_VALUES) throw splitTooLarge(listed, frames, EE_SET_CHANNELS, labelsRel);

  const useWorker = listed >= eesetTuning.workerMinFiles && helper.available();
  const alloc = (bytes: number) => (useWorker ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  /**
   * One slot of `frames` rows per listed example, for the files the main thread reads (the
   * worker's come back in buffers of their own), compacted in place at the end into the split.
   */
  const slots = new Float32Array(listed * rowLen);
  /** Per example: status, rows, line, last row line (see FileProcessor). */
  const info = new Int32Array(alloc(listed * 4 * 4));
  const messages = new Map<number, string>();

  // Pre-pass: resolve each folder once; the file itself is opened without following symlinks.
  const targets: string[] = new Array<string>(listed);
  for (let k = 0; k < listed; k++) {
    const e = entries[k];
    const cut = e.abs.lastIndexOf(nodePath.sep);
    const dir = e.abs.slice(0, cut);
    let d = ctx.dirReal.get(dir);
    if (d === undefined) {
      try {
        const real = fs.realpathSync.native(dir);
        d = { real, inside: insideRoot(ctx.rootReal, real) };
      } catch {
        d = null;
      }
      ctx.dirReal.set(dir, d);
    }
    targets[k] = '';
    if (d === null) {
      info[k * 4] = MAIN_PROCESSOR.S_MISSING;
      messages.set(k, 'file not found (its folder does not exist)');
    } else if (!d.inside) {
      info[k * 4] = S_DIR_ESCAPE;
      messages.set(k, d.real);
    } else {
      targets[k] = d.real + nodePath.sep + e.abs.slice(cut + 1);
    }
  }

  // Parallel phase: chunks of files are claimed from a shared counter by both threads.
  const chunk = Math.max(1, eesetTuning.chunkFiles | 0);
  const nChunks = Math.ceil(listed / chunk);
  const ctrl = new Int32Array(alloc((1 + nChunks) * 4));
  const MAIN_DONE = 2;
  const job = useWorker
    ? helper.run({
        info: info.buffer as SharedArrayBuffer,
        ctrl: ctrl.buffer as SharedArrayBuffer,
        targets,
        rowLen,
        frames,
        chunk,
        nChunks,
      })
    : null;
  const processChunk = (c: number) => {
    const hi = Math.min(listed, (c + 1) * chunk);
    for (let k = c * chunk; k < hi; k++) {
      if (targets[k] === '') continue;
      const m = MAIN_PROCESSOR.processFile(targets[k], slots, k * rowLen, frames, info, k);
      if (m !== '') messages.set(k, m);
    }
  };
  let sinceYield = 0;
  while (job === null || eesetTuning.mainThreadHelps) {
    const c = Atomics.add(ctrl, 0, 1);
    if (c >= nChunks) break;
    processChunk(c);
    Atomics.store(ctrl, 1 + c, MAIN_DONE);
    if (++sinceYield === 16) {
      // let the event loop breathe (and the worker's reply arrive)
      sinceYield = 0;
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  /** Per chunk: the worker's rows of its files, where the worker read them. */
  let workerRows: (Float32Array | undefined)[] = [];
  if (job !== null) {
    const result = await job;
    if (result === null) {
      // The worker failed: redo everything it claimed.
      for (let c = 0; c < nChunks; c++) if (Atomics.load(ctrl, 1 + c) !== MAIN_DONE) processChunk(c);
    } else {
      workerRows = result.rows;
      for (let c = 0; c < nChunks; c++) {
        if (workerRows[c] !== undefined) eesetTuning.lastWorkerFiles += Math.min(listed, (c + 1) * chunk) - c * chunk;
      }
      for (let j = 0; j < result.msgs.length; j += 2)
        messages.set(result.msgs[j] as number, result.msgs[j + 1] as string);
    }
  }
  /** Where the rows of example k are: its chunk's buffer from the worker, or the slots. */
  const rowsOf = (k: number): { rows: Float32Array; at: number } => {
    const c = Math.floor(k / chunk);
    const fromWorker = workerRows[c];
    return fromWorker === undefined
      ? { rows: slots, at: k * rowLen }
      : { rows: fromWorker, at: (k - c * chunk) * rowLen };
  };

  // Final pass, in labels order: symlinks, escapes, classification, compaction.
  const dropped = emptyDropCounts();
  const droppedExamples: DroppedExample[] = [];
  const keptIdx: number[] = [];
  for (let k = 0; k < listed; k++) {
    const e = entries[k];
    let status = info[k * 4];
    if (status === S_DIR_ESCAPE) throw escapeError(e, labelsRel, messages.get(k) ?? '');
    if (status === MAIN_PROCESSOR.S_SYMLINK) {
      const { rows, at } = rowsOf(k);
      const m = processSymlink(ctx, e, labelsRel, targets[k], rows, at, frames, info, k);
      if (m !== '') messages.set(k, m);
      status = info[k * 4];
    }
    const rows = info[k * 4 + 1];
    const line = info[k * 4 + 2];
    if (status === MAIN_PROCESSOR.S_MISSING) {
      dropped.missing++;
      droppedExamples.push({ file: e.id, reason: 'missing', message: messages.get(k) ?? 'file not readable' });
    } else if (status === MAIN_PROCESSOR.S_MALFORMED) {
      dropped.malformed++;
      const d: DroppedExample = { file: e.id, reason: 'malformed', message: messages.get(k) ?? 'malformed' };
      if (line > 0) d.line = line;
      droppedExamples.push(d);
    } else if (status === MAIN_PROCESSOR.S_NONFINITE) {
      dropped.nonFinite++;
      droppedExamples.push({ file: e.id, line, reason: 'nonFinite', message: messages.get(k) ?? 'non-finite value' });
    } else if (status === MAIN_PROCESSOR.S_OK && rows < frames && short === 'drop') {
      dropped.short++;
      droppedExamples.push({
        file: e.id,
        line: info[k * 4 + 3],
        reason: 'short',
        message: shortExampleMessage(rows, frames),
      });
    } else if (status === MAIN_PROCESSOR.S_OK) {
      keptIdx.push(k);
    } else {
      throw new Error(`eeset: file ${e.id} was not processed (status ${status})`); // a Lockstep bug
    }
  }

  const kept = keptIdx.length;
  // Compaction in place: kept example j moves to slot j ≤ k, so no slot is overwritten before
  // it has moved. Slots start zeroed and each file writes only its own rows, so short examples
  // are zero-padded, except in a slot that held another file's rows: its rest is zeroed.
  for (let j = 0; j < kept; j++) {
    const k = keptIdx[j];
    const n = Math.min(frames, info[k * 4 + 1]) * EE_SET_CHANNELS;
    const { rows, at } = rowsOf(k);
    if (rows === slots && k === j) continue;
    if (rows === slots) slots.copyWithin(j * rowLen, at, at + n);
    else slots.set(rows.subarray(at, at + n), j * rowLen);
    slots.fill(0, j * rowLen + n, (j + 1) * rowLen);
  }
  // The split's x is the slots' kept part, without a copy unless that would leave more than a
  // tenth of the buffer unused (many dropped examples).
  const used = kept * rowLen;
  const x = used >= slots.length * 0.9 ? new Float32Array(slots.buffer, 0, used) : slots.slice(0, used);
  const y = new Int32Array(kept);
  const ids = new Array<string>(kept);
  for (let j = 0; j < kept; j++) {
    y[j] = entries[keptIdx[j]].label;
    ids[j] = entries[keptIdx[j]].id;
  }
  const data: Split = { x, y, n: kept, frames, channels: EE_SET_CHANNELS, ids };
  const report: SplitReport = {
    labelsFile: labelsRel,
    listed,
    kept,
    dropped,
    droppedExamples,
    classCounts: classCounts(y, NUM_CLASSES),
  };
  return { data, report };
}

function escapeError(e: Entry, labelsRel: string, real: string): LockstepError {
  return new LockstepError(
    `expected a path to a file inside the dataset root, found '${e.id}', whose real path ${real} (through a symlink) is outside it`,
    { file: labelsRel, line: e.line, field: 'path' },
  );
}

/**
 * The file of `e` is a symlink (or the platform cannot open without following them): resolve
 * it, refuse it if it leads outside the root, else process its real path.
 */
function processSymlink(
  ctx: RootContext,
  e: Entry,
  labelsRel: string,
  target: string,
  out: Float32Array,
  base: number,
  frames: number,
  info: Int32Array,
  k: number,
): string {
  let real: string;
  try {
    real = fs.realpathSync.native(target);
  } catch (err) {
    if (errCode(err) === 'ENOENT') {
      // Dangling: refuse it if it points outside the root, else it is simply missing.
      let dest: string | null = null;
      try {
        dest = nodePath.resolve(nodePath.dirname(target), fs.readlinkSync(target));
      } catch {
        // not a symlink after all, or unreadable
      }
      if (dest !== null && !insideRoot(ctx.rootReal, dest)) throw escapeError(e, labelsRel, dest);
    }
    info[k * 4] = MAIN_PROCESSOR.S_MISSING;
    return MAIN_PROCESSOR.openFailure(errCode(err));
  }
  if (!insideRoot(ctx.rootReal, real)) throw escapeError(e, labelsRel, real);
  return MAIN_PROCESSOR.processFile(real, out, base, frames, info, k, true);
}
