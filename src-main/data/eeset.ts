/**
 * Loader for the ee-set (UIUC ECE 544NA): 9-way spoken-consonant classification.
 *
 * Layout: `<root>/<split>/lab/<labels>.txt` lists `<label> <path>` per line, `<path>`
 * relative to the root, each naming an ASCII matrix of 16 floats per row (one row per frame).
 *
 * Problems in a labels file are the user's to fix: they throw a LockstepError naming the file,
 * line and field. Problems in a feature file only drop that example; each drop is recorded in
 * the split's report with its file, line (where there is one), reason and message.
 *
 * Speed (train: 5280 files, 123 MB of text): every feature file is read synchronously into a
 * reused buffer and parsed by a byte-level float parser straight into a preallocated
 * Float32Array (one slot per listed example; kept slots are compacted by one copy at the end).
 * The parse is exact: every value equals `Math.fround(Number(token))` (Clinger's fast path, and
 * `Number()` of the token for anything outside it). On a multi-core machine a worker thread
 * shares the files with the main thread, chunk by chunk, through SharedArrayBuffers; it runs
 * the very same code (the source text of `createFileProcessor`). If the worker cannot start or
 * fails, the main thread does its share: the result never depends on the worker.
 *
 * Why synchronous reads: on the 2-core dev VM, reading the 5280 train files with
 * fs.promises.readFile (32 in flight) took 330–440 ms, against 95–120 ms with readFileSync or
 * open/read/close into one buffer (the per-file promise and thread-pool hops cost more than
 * the I/O). The whole train load takes ≈ 360 ms on one thread and ≈ 260 ms with the worker.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { Worker, type MessagePort } from 'node:worker_threads';
import { LockstepError } from '../../shared/errors';
import {
  EE_SET_CLASSES,
  SPLIT_NAMES,
  classCounts,
  emptyDropCounts,
  type Dataset,
  type DroppedExample,
  type Split,
  type SplitName,
  type SplitReport,
} from '../../shared/data/dataset';

export interface LoadOptions {
  /** Frames kept per example (the first `frames` rows). Default 70. */
  frames?: number;
  /** Examples shorter than `frames`: drop them, or zero-pad them at the end. Default 'drop'. */
  short?: 'drop' | 'pad';
  /** Splits to load. Default: all present. */
  splits?: SplitName[];
}

/** Values per feature row (16 log mel filterbank coefficients). */
export const EE_SET_CHANNELS = 16;
const NUM_CLASSES = EE_SET_CLASSES.length;

/** Knobs for tests and benchmarks; not part of the loader's contract. */
export const eesetTuning = {
  /** Use a worker thread for splits with at least this many files (and ≥ 2 CPUs). */
  workerMinFiles: 256,
  /** Files per work unit shared between the main thread and the worker. */
  chunkFiles: 32,
  /** Tests: `false` leaves all chunks to the worker (the main thread still redoes them if it fails). */
  mainThreadHelps: true,
  /** Set by each load: how many files the worker parsed (0 = main thread only). */
  lastWorkerFiles: 0,
};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Loads the ee-set from a dataset root (a folder holding any of `train/`, `dev/`, `eval/`) or
 * from one labels file (`<root>/<split>/lab/<file>.txt`).
 */
export async function loadEeSet(path: string, options: LoadOptions = {}): Promise<Dataset> {
  const frames = options.frames ?? 70;
  if (!Number.isSafeInteger(frames) || frames < 1) {
    throw new LockstepError(`expected frames to be a positive integer, found ${String(frames)}`, { field: 'frames' });
  }
  const short = options.short ?? 'drop';
  if (short !== 'drop' && short !== 'pad') {
    throw new LockstepError(`expected short to be 'drop' or 'pad', found '${String(short)}'`, { field: 'short' });
  }
  const requested = options.splits;
  if (requested !== undefined) {
    for (const s of requested) {
      if (!(SPLIT_NAMES as readonly string[]).includes(s)) {
        throw new LockstepError(`expected a split name among ${SPLIT_NAMES.join(', ')}, found '${String(s)}'`, {
          field: 'splits',
        });
      }
    }
  }

  const target = nodePath.resolve(path);
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    throw new LockstepError(
      'expected an ee-set dataset folder (holding train/, dev/ or eval/) or a labels file, found nothing there',
      { file: path },
    );
  }

  let root: string;
  const jobs: { split: SplitName; labelsAbs: string }[] = [];
  if (st.isDirectory()) {
    root = target;
    const present = SPLIT_NAMES.filter((s) => isDirectory(nodePath.join(root, s)));
    if (present.length === 0) {
      throw new LockstepError(
        'expected a dataset root holding at least one of train/, dev/, eval/ (each with lab/*.txt), found none of them',
        { file: path },
      );
    }
    let wanted: SplitName[] = present;
    if (requested !== undefined) {
      wanted = SPLIT_NAMES.filter((s) => requested.includes(s));
      for (const s of wanted) {
        if (!present.includes(s)) {
          throw new LockstepError(
            `expected a split folder ${s}/ in the dataset root, found only ${present.map((p) => p + '/').join(', ')}`,
            { file: path },
          );
        }
      }
    }
    for (const split of wanted) jobs.push({ split, labelsAbs: findLabelsFile(root, split) });
  } else if (!st.isFile()) {
    throw new LockstepError('expected an ee-set dataset folder or a labels file, found a special file', { file: path });
  } else {
    // <root>/<split>/lab/<file>.txt
    const splitDir = nodePath.dirname(nodePath.dirname(target));
    root = nodePath.dirname(splitDir);
    const dirName = nodePath.basename(splitDir);
    const split: SplitName = (SPLIT_NAMES as readonly string[]).includes(dirName) ? (dirName as SplitName) : 'train';
    if (requested !== undefined && !requested.includes(split)) {
      throw new LockstepError(
        `expected the labels file of a requested split (${requested.join(', ') || 'none'}), found one of the ${split} split`,
        { file: path },
      );
    }
    jobs.push({ split, labelsAbs: target });
  }

  const ctx = makeRootContext(root);
  const dataset: Dataset = {
    name: nodePath.basename(root) || root,
    classes: [...EE_SET_CLASSES],
    splits: {},
    reports: {},
  };
  eesetTuning.lastWorkerFiles = 0;
  const helper = new WorkerHelper();
  // Start the worker now (it takes ~30 ms to boot) if a labels file looks long enough to use it.
  const bigEnough = (p: string) => {
    try {
      return fs.statSync(p).size >= eesetTuning.workerMinFiles * 16;
    } catch {
      return false;
    }
  };
  if (jobs.some((j) => bigEnough(j.labelsAbs))) helper.available();
  try {
    for (const { split, labelsAbs } of jobs) {
      const { data, report } = await loadSplit(ctx, labelsAbs, frames, short, helper);
      dataset.splits[split] = data;
      dataset.reports[split] = report;
    }
  } finally {
    helper.close();
  }
  return dataset;
}

// ---------------------------------------------------------------------------------------------
// Root, labels files
// ---------------------------------------------------------------------------------------------

interface RootContext {
  /** Absolute root as given (not resolved through symlinks): label paths resolve against it. */
  root: string;
  /** Real path of the root: every file read must have its real path inside it. */
  rootReal: string;
  /** Each folder holding feature files: its real path and whether that is inside the root (`null`: missing). */
  dirReal: Map<string, { real: string; inside: boolean } | null>;
}

interface Entry {
  label: number;
  /** Path relative to the root, '/'-separated and normalised: the example's id. */
  id: string;
  /** Absolute lexical path (inside the root). */
  abs: string;
  /** 1-based line in the labels file. */
  line: number;
}

function makeRootContext(root: string): RootContext {
  let rootReal: string;
  try {
    rootReal = fs.realpathSync.native(root);
  } catch {
    throw new LockstepError('expected the dataset root folder to exist, found nothing there', { file: root });
  }
  return { root, rootReal, dirReal: new Map() };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function findLabelsFile(root: string, split: SplitName): string {
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
function insideRoot(rootReal: string, real: string): boolean {
  const rel = nodePath.relative(rootReal, real);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + nodePath.sep) && !nodePath.isAbsolute(rel));
}

function toId(rel: string): string {
  return nodePath.sep === '/' ? rel : rel.split(nodePath.sep).join('/');
}

function quote(s: string): string {
  return `'${s.length > 60 ? s.slice(0, 60) + '…' : s}'`;
}

/** Absolute on this platform or on another one (`/x`, `\\x`, `C:\\x`, `C:/x`). */
function isAbsoluteAnywhere(p: string): boolean {
  return nodePath.isAbsolute(p) || p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);
}

/**
 * A relative POSIX path that needs no normalisation: not absolute in any convention, and no
 * empty, '.' or '..' segments. (On Windows every path takes the general route.)
 */
const CLEAN_RELATIVE =
  nodePath.sep === '/' ? /^(?![A-Za-z]:[\\/]|\\)(?!\.\.?(?:\/|$))(?:[^/]+\/(?!\.\.?(?:\/|$)))*[^/]+$/ : /(?!)/;

const INTEGER = /^[+-]?\d+$/;

function parseLabels(ctx: RootContext, labelsAbs: string, labelsRel: string): Entry[] {
  let text: string;
  try {
    const real = fs.realpathSync.native(labelsAbs);
    if (!insideRoot(ctx.rootReal, real)) {
      throw new LockstepError(`expected the labels file to be inside the dataset root, found it resolves to ${real}`, {
        file: labelsRel,
      });
    }
    text = fs.readFileSync(real, 'utf8');
  } catch (e) {
    if (e instanceof LockstepError) throw e;
    throw new LockstepError(`expected a readable labels file, found ${errCode(e)}`, { file: labelsRel });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const entries: Entry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  const maxLabel = NUM_CLASSES - 1;
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li].trim();
    if (raw === '') continue;
    const line = li + 1;
    const where = (field: 'label' | 'path') => ({ file: labelsRel, line, field });
    const fields = raw.split(/[ \t]+/);
    const labelTok = fields[0];
    if (fields.length === 1) {
      if (INTEGER.test(labelTok)) {
        throw new LockstepError(`expected '<label> <path>', found the label ${quote(labelTok)} and no path`, where('path'));
      }
      throw new LockstepError(
        `expected '<label> <path>' with an integer label in 0–${maxLabel}, found the single field ${quote(labelTok)}`,
        where('label'),
      );
    }
    const label = INTEGER.test(labelTok) ? Number(labelTok) : NaN;
    if (!(label >= 0 && label <= maxLabel)) {
      throw new LockstepError(`expected an integer in 0–${maxLabel}, found ${quote(labelTok)}`, where('label'));
    }
    if (fields.length > 2) {
      throw new LockstepError(
        `expected one path without spaces after the label, found ${fields.length - 1} fields ${quote(fields.slice(1).join(' '))}`,
        where('path'),
      );
    }
    const p = fields[1];
    let id: string;
    let abs: string;
    if (CLEAN_RELATIVE.test(p)) {
      id = p;
      abs = ctx.root.endsWith('/') ? ctx.root + p : ctx.root + '/' + p;
    } else {
      if (isAbsoluteAnywhere(p)) {
        throw new LockstepError(`expected a path relative to the dataset root, found the absolute path ${quote(p)}`, where('path'));
      }
      abs = nodePath.resolve(ctx.root, p);
      const rel = nodePath.relative(ctx.root, abs);
      if (rel === '' || rel === '..' || rel.startsWith('..' + nodePath.sep) || nodePath.isAbsolute(rel)) {
        throw new LockstepError(
          `expected a path to a file inside the dataset root, found ${quote(p)}, which resolves outside it`,
          where('path'),
        );
      }
      id = toId(rel);
    }
    const prev = seen.get(id);
    if (prev !== undefined) {
      throw new LockstepError(`expected each path once, found ${quote(p)} again (first on line ${prev})`, where('path'));
    }
    seen.set(id, line);
    entries.push({ label, id, abs, line });
  }
  return entries;
}

function errCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code ?? String(e);
}

// ---------------------------------------------------------------------------------------------
// Split loading
// ---------------------------------------------------------------------------------------------

/** Pre-pass outcome: the folder of the file resolves outside the root. */
const S_DIR_ESCAPE = 100;

async function loadSplit(
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
  if (listed * rowLen > 2 ** 31) {
    throw new LockstepError(`expected frames × examples to fit in memory, found ${frames} frames × ${listed} examples`, {
      field: 'frames',
    });
  }

  const useWorker = listed >= eesetTuning.workerMinFiles && helper.available();
  const alloc = (bytes: number) => (useWorker ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  /** One slot of `frames` rows per listed example. */
  const slots = new Float32Array(alloc(listed * rowLen * 4));
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
      info[k * 4] = PROC.S_MISSING;
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
        slots: slots.buffer as SharedArrayBuffer,
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
      const m = PROC.processFile(targets[k], slots, k * rowLen, frames, info, k);
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
  if (job !== null) {
    const workerMessages = await job;
    if (workerMessages === null) {
      // The worker failed: redo everything it claimed.
      for (let c = 0; c < nChunks; c++) if (Atomics.load(ctrl, 1 + c) !== MAIN_DONE) processChunk(c);
    } else {
      for (let c = 0; c < nChunks; c++) {
        if (Atomics.load(ctrl, 1 + c) !== MAIN_DONE) eesetTuning.lastWorkerFiles += Math.min(listed, (c + 1) * chunk) - c * chunk;
      }
      for (let j = 0; j < workerMessages.length; j += 2) messages.set(workerMessages[j] as number, workerMessages[j + 1] as string);
    }
  }

  // Final pass, in labels order: symlinks, escapes, classification, compaction.
  const dropped = emptyDropCounts();
  const droppedExamples: DroppedExample[] = [];
  const keptIdx: number[] = [];
  for (let k = 0; k < listed; k++) {
    const e = entries[k];
    let status = info[k * 4];
    if (status === S_DIR_ESCAPE) throw escapeError(e, labelsRel, messages.get(k) ?? '');
    if (status === PROC.S_SYMLINK) {
      const m = processSymlink(ctx, e, labelsRel, targets[k], slots, k * rowLen, frames, info, k);
      if (m !== '') messages.set(k, m);
      status = info[k * 4];
    }
    const rows = info[k * 4 + 1];
    const line = info[k * 4 + 2];
    if (status === PROC.S_MISSING) {
      dropped.missing++;
      droppedExamples.push({ file: e.id, reason: 'missing', message: messages.get(k) ?? 'file not readable' });
    } else if (status === PROC.S_MALFORMED) {
      dropped.malformed++;
      const d: DroppedExample = { file: e.id, reason: 'malformed', message: messages.get(k) ?? 'malformed' };
      if (line > 0) d.line = line;
      droppedExamples.push(d);
    } else if (status === PROC.S_NONFINITE) {
      dropped.nonFinite++;
      droppedExamples.push({ file: e.id, line, reason: 'nonFinite', message: messages.get(k) ?? 'non-finite value' });
    } else if (status === PROC.S_OK && rows < frames && short === 'drop') {
      dropped.short++;
      droppedExamples.push({
        file: e.id,
        line: info[k * 4 + 3],
        reason: 'short',
        message: `expected at least ${frames} frames, found ${rows}`,
      });
    } else if (status === PROC.S_OK) {
      keptIdx.push(k);
    } else {
      throw new Error(`eeset: file ${e.id} was not processed (status ${status})`); // a Lockstep bug
    }
  }

  const kept = keptIdx.length;
  // Slots start zeroed and each is written by its own file only, so short examples are
  // already zero-padded.
  let x: Float32Array;
  if (kept === listed && !useWorker) {
    x = slots;
  } else {
    x = new Float32Array(kept * rowLen);
    for (let j = 0; j < kept; j++) {
      const k = keptIdx[j];
      const n = Math.min(frames, info[k * 4 + 1]) * EE_SET_CHANNELS; // the rest stays zero
      x.set(slots.subarray(k * rowLen, k * rowLen + n), j * rowLen);
    }
  }
  const y = new Int32Array(kept);
  const ids = new Array<string>(kept);
  for (let j = 0; j < kept; j++) {
    y[j] = entries[keptIdx[j]].label;
    ids[j] = entries[keptIdx[j]].id;
  }
  const data: Split = { x, y, n: kept, frames, channels: EE_SET_CHANNELS, ids };
  const report: SplitReport = {
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
    info[k * 4] = PROC.S_MISSING;
    return PROC.openFailure(errCode(err));
  }
  if (!insideRoot(ctx.rootReal, real)) throw escapeError(e, labelsRel, real);
  return PROC.processFile(real, out, base, frames, info, k, true);
}

// ---------------------------------------------------------------------------------------------
// Worker thread
// ---------------------------------------------------------------------------------------------

interface WorkerJob {
  slots: SharedArrayBuffer;
  info: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  targets: string[];
  rowLen: number;
  frames: number;
  chunk: number;
  nChunks: number;
}

/** Runs in the worker (as source text): claims chunks until none is left, like the main thread. */
function workerMain(processor: FileProcessor, port: MessagePort): void {
  port.on('message', (job: WorkerJob & { id: number }) => {
    try {
      const slots = new Float32Array(job.slots);
      const info = new Int32Array(job.info);
      const ctrl = new Int32Array(job.ctrl);
      const msgs: (number | string)[] = [];
      for (;;) {
        const c = Atomics.add(ctrl, 0, 1);
        if (c >= job.nChunks) break;
        const hi = Math.min(job.targets.length, (c + 1) * job.chunk);
        for (let k = c * job.chunk; k < hi; k++) {
          const t = job.targets[k];
          if (t === '') continue;
          const m = processor.processFile(t, slots, k * job.rowLen, job.frames, info, k);
          if (m !== '') msgs.push(k, m);
        }
        Atomics.store(ctrl, 1 + c, 1);
      }
      port.postMessage({ id: job.id, msgs });
    } catch (e) {
      port.postMessage({ id: job.id, error: String(e) });
    }
  });
}

const WORKER_SOURCE = `'use strict';
var __name = function (f) { return f; }; // helper that some TypeScript runners insert for function names
const { parentPort } = require('node:worker_threads');
const processor = (${createFileProcessor.toString()})(require('node:fs'));
(${workerMain.toString()})(processor, parentPort);
`;

/** One lazily started worker, shared by the splits of one load. */
class WorkerHelper {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 1;
  private pending = new Map<number, (msgs: (number | string)[] | null) => void>();

  available(): boolean {
    if (this.failed) return false;
    if (this.worker !== null) return true;
    const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    if (cpus < 2) return false;
    try {
      const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
      w.on('message', (m: { id: number; msgs?: (number | string)[]; error?: string }) => {
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        done?.(m.msgs ?? null);
      });
      const fail = () => {
        this.failed = true;
        for (const done of this.pending.values()) done(null);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', fail);
      this.worker = w;
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }

  /** Resolves with the worker's messages (`[index, message, …]`), or `null` if it failed. */
  run(job: WorkerJob): Promise<(number | string)[] | null> {
    const w = this.worker;
    if (w === null || this.failed) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      try {
        w.postMessage({ ...job, id });
      } catch {
        this.pending.delete(id);
        resolve(null);
      }
    });
  }

  close(): void {
    const w = this.worker;
    this.worker = null;
    this.failed = true;
    if (w !== null) {
      w.removeAllListeners('exit');
      w.terminate().catch(() => undefined);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Feature files: reading and parsing. SELF-CONTAINED: it may use only its parameter and
// JavaScript/Node globals (Buffer, Math, …), because its source text also runs in the worker.
// ---------------------------------------------------------------------------------------------

export type FileProcessor = ReturnType<typeof createFileProcessor>;

export function createFileProcessor(fsm: typeof fs) {
  /** Values per row: EE_SET_CHANNELS (repeated here, as this function may not use outer names). */
  const CH = 16;
  /** Largest single line buffered. */
  const MAX_LINE_BYTES = 64 * 1024 * 1024;
  const MAX_SHOWN = 24;
  const S_OK = 1;
  const S_MISSING = 2;
  const S_MALFORMED = 3;
  const S_NONFINITE = 4;
  /** The file is a symlink: the main thread resolves and checks it. */
  const S_SYMLINK = 5;
  const O_RDONLY = fsm.constants.O_RDONLY;
  const O_NOFOLLOW: number | undefined = fsm.constants.O_NOFOLLOW;
  const O_NONBLOCK: number = fsm.constants.O_NONBLOCK || 0;
  /** Exact powers of ten: Clinger's fast path (integer mantissa < 2^53, |exponent| ≤ 22). */
  const POW10 = new Float64Array(23);
  for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10[k] = p;

  /** Reused read buffer; one byte is always kept free for the parser's '\n' sentinel. */
  let readBuf = Buffer.allocUnsafe((1 << 20) + 1);

  /** Parse state of the current file (lines are 1-based; 0 = none). */
  const st = { line: 0, rows: 0, lastRowLine: 0, badLine: 0, badMsg: '', infLine: 0, infMsg: '' };

  function openFailure(code: string): string {
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'file not found';
    if (code === 'EISDIR') return 'expected a file, found a folder';
    return `file not readable (${code})`;
  }

  /** `"text"` of the token at `from` (up to whitespace), decoded as UTF-8 and shortened. */
  function shownToken(buf: Uint8Array, from: number, end: number): string {
    let to = from;
    while (to < end && buf[to] !== 32 && buf[to] !== 9 && buf[to] !== 13 && buf[to] !== 10) to++;
    const bytes = Buffer.from(buf.buffer, buf.byteOffset + from, Math.min(to - from, MAX_SHOWN * 4));
    const s = bytes.toString('utf8');
    return JSON.stringify(s.length > MAX_SHOWN || to - from > MAX_SHOWN * 4 ? s.slice(0, MAX_SHOWN) + '…' : s);
  }

  /** ASCII text of a token (only called on number syntax already validated). */
  function tokenText(buf: Uint8Array, from: number, to: number): string {
    let s = '';
    for (let k = from; k < to; k++) s += String.fromCharCode(buf[k]);
    return s;
  }

  function countTokens(buf: Uint8Array, from: number): number {
    let n = 0;
    let inTok = false;
    for (let k = from; buf[k] !== 10; k++) {
      const c = buf[k];
      const ws = c === 32 || c === 9 || c === 13;
      if (!ws && !inTok) n++;
      inTok = !ws;
    }
    return n;
  }

  /** End of `nan`, `inf` or `infinity` (any case) at `i`, or -1. */
  function matchNonFinite(buf: Uint8Array, i: number): number {
    const a = buf[i] | 0x20;
    const b = buf[i + 1] | 0x20;
    const c = buf[i + 2] | 0x20;
    if (a === 0x6e && b === 0x61 && c === 0x6e) return i + 3;
    if (a !== 0x69 || b !== 0x6e || c !== 0x66) return -1;
    const w = 'inity';
    let k = 0;
    while (k < 5 && (buf[i + 3 + k] | 0x20) === w.charCodeAt(k)) k++;
    return k === 5 ? i + 8 : i + 3;
  }

  function fail(line: number, msg: string): void {
    st.badLine = line;
    st.badMsg = msg;
  }

  /**
   * Parses the whole lines `buf[start, end)` (`buf[end - 1]` is '\n') as rows of 16 numbers;
   * rows below `maxRows` go to `out` at `base + row * 16`. Stops at the first malformed line.
   * Numbers: `[+-]? (d+ [.d*] | .d+) ([eE] [+-]? d+)?`, or `[+-]? (inf | infinity | nan)` in any
   * case, which are well-formed but non-finite (as are finite numbers beyond float32's range).
   */
  function parseLines(buf: Uint8Array, start: number, end: number, out: Float32Array, base: number, maxRows: number): void {
    let i = start;
    let line = st.line;
    let rows = st.rows;
    let lastRowLine = st.lastRowLine;
    let infLine = st.infLine;
    while (i < end) {
      line++;
      const lineStart = i;
      let col = 0;
      const store = rows < maxRows;
      const o = base + rows * CH;
      let c = buf[i];
      for (;;) {
        while (c === 32 || c === 9 || c === 13) c = buf[++i];
        if (c === 10) {
          i++;
          break;
        }
        if (col === CH) {
          fail(line, `expected ${CH} numbers per row, found ${countTokens(buf, lineStart)}`);
          st.line = line;
          return;
        }
        const tokStart = i;
        let neg = false;
        if (c === 45) {
          neg = true;
          c = buf[++i];
        } else if (c === 43) {
          c = buf[++i];
        }
        let v = 0;
        let done = false;
        // Fast path for printf's %.7e (this dataset's format): d.ddddddde±dd
        if (i + 13 < end && buf[i + 1] === 46 && (buf[i + 9] | 32) === 101) {
          const d0 = c - 48;
          const d1 = buf[i + 2] - 48;
          const d2 = buf[i + 3] - 48;
          const d3 = buf[i + 4] - 48;
          const d4 = buf[i + 5] - 48;
          const d5 = buf[i + 6] - 48;
          const d6 = buf[i + 7] - 48;
          const d7 = buf[i + 8] - 48;
          const s = buf[i + 10];
          const x0 = buf[i + 11] - 48;
          const x1 = buf[i + 12] - 48;
          const t = buf[i + 13];
          if (
            d0 >>> 0 < 10 && d1 >>> 0 < 10 && d2 >>> 0 < 10 && d3 >>> 0 < 10 &&
            d4 >>> 0 < 10 && d5 >>> 0 < 10 && d6 >>> 0 < 10 && d7 >>> 0 < 10 &&
            x0 >>> 0 < 10 && x1 >>> 0 < 10 && (s === 45 || s === 43) &&
            (t === 32 || t === 10 || t === 13 || t === 9)
          ) {
            const e10 = (s === 45 ? -(x0 * 10 + x1) : x0 * 10 + x1) - 7;
            if (e10 >= -22 && e10 <= 22) {
              const mant = ((d0 * 10 + d1) * 100 + d2 * 10 + d3) * 10000 + (d4 * 10 + d5) * 100 + d6 * 10 + d7;
              v = e10 < 0 ? mant / POW10[-e10] : mant * POW10[e10];
              if (neg) v = -v;
              i += 13;
              c = t;
              done = true;
            }
          }
        }
        if (!done) {
          // General syntax. Integer and fraction digits accumulate into one integer mantissa,
          // exact while below 2^53 (it only grows, so checking its final value suffices).
          const numStart = i;
          let mant = 0;
          let e10 = 0;
          let point = 0;
          while ((c - 48) >>> 0 < 10) {
            mant = mant * 10 + (c - 48);
            c = buf[++i];
          }
          if (c === 46) {
            point = 1;
            c = buf[++i];
            const fracStart = i;
            while ((c - 48) >>> 0 < 10) {
              mant = mant * 10 + (c - 48);
              c = buf[++i];
            }
            e10 = fracStart - i;
          }
          if (i - numStart - point > 0) {
            if ((c | 32) === 101) {
              c = buf[++i];
              let eneg = false;
              if (c === 45) {
                eneg = true;
                c = buf[++i];
              } else if (c === 43) {
                c = buf[++i];
              }
              const expStart = i;
              let ev = 0;
              while ((c - 48) >>> 0 < 10) {
                if (ev < 1e6) ev = ev * 10 + (c - 48);
                c = buf[++i];
              }
              if (i === expStart) {
                fail(line, `expected a number in column ${col + 1}, found ${shownToken(buf, tokStart, end)}`);
                st.line = line;
                return;
              }
              e10 += eneg ? -ev : ev;
            }
            if (c !== 32 && c !== 9 && c !== 13 && c !== 10) {
              fail(line, `expected a number in column ${col + 1}, found ${shownToken(buf, tokStart, end)}`);
              st.line = line;
              return;
            }
            if (mant < 9007199254740992 && e10 >= -22 && e10 <= 22) {
              v = e10 < 0 ? mant / POW10[-e10] : mant * POW10[e10];
              if (neg) v = -v;
            } else if (mant === 0) {
              v = neg ? -0 : 0;
            } else {
              const text = tokenText(buf, tokStart, i);
              v = Number(text);
              const f = Math.fround(v);
              if ((f === Infinity || f === -Infinity) && infLine === 0) {
                infLine = line;
                st.infMsg = `expected finite numbers, found ${text} in column ${col + 1}, beyond the float32 range`;
              }
            }
          } else {
            const e = i === numStart ? matchNonFinite(buf, i) : -1;
            const t = e < 0 ? 0 : buf[e];
            if (t !== 32 && t !== 9 && t !== 13 && t !== 10) {
              fail(line, `expected a number in column ${col + 1}, found ${shownToken(buf, tokStart, end)}`);
              st.line = line;
              return;
            }
            i = e;
            c = t;
            v = NaN;
            if (infLine === 0) {
              infLine = line;
              st.infMsg = `expected finite numbers, found ${tokenText(buf, tokStart, i)} in column ${col + 1}`;
            }
          }
        }
        if (store) out[o + col] = v;
        col++;
      }
      if (col === CH) {
        rows++;
        lastRowLine = line;
      } else if (col !== 0) {
        fail(line, `expected ${CH} numbers per row, found ${col}`);
        st.line = line;
        return;
      }
    }
    st.line = line;
    st.rows = rows;
    st.lastRowLine = lastRowLine;
    st.infLine = infLine;
  }

  function resetState(): void {
    st.line = 0;
    st.rows = 0;
    st.lastRowLine = 0;
    st.badLine = 0;
    st.badMsg = '';
    st.infLine = 0;
    st.infMsg = '';
  }

  /** Reads `fd` (of `size` bytes, 0 if unknown) in chunks of whole lines and parses it. Returns a read error or ''. */
  function readAndParse(fd: number, size: number, out: Float32Array, base: number, maxRows: number): string {
    let fill = 0;
    let start = 0;
    let total = 0;
    let bomChecked = false;
    for (;;) {
      if (fill >= readBuf.length - 1) {
        if (readBuf.length - 1 >= MAX_LINE_BYTES) {
          fail(st.line + 1, `expected rows of ${CH} numbers, found a line longer than ${MAX_LINE_BYTES >> 20} MiB`);
          return '';
        }
        const bigger = Buffer.allocUnsafe(Math.min((readBuf.length - 1) * 2, MAX_LINE_BYTES) + 1);
        readBuf.copy(bigger, 0, 0, fill);
        readBuf = bigger;
      }
      const buf = readBuf;
      let n: number;
      try {
        n = fsm.readSync(fd, buf, fill, buf.length - 1 - fill, null);
      } catch (e) {
        return openFailure((e as { code?: string }).code ?? String(e));
      }
      fill += n;
      total += n;
      const eof = n === 0 || (size > 0 && total >= size);
      if (!bomChecked && (fill >= 3 || eof)) {
        bomChecked = true;
        if (fill >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      }
      if (eof) {
        if (fill > start) {
          if (buf[fill - 1] !== 10) buf[fill++] = 10; // sentinel: the parser relies on a final '\n'
          parseLines(buf, start, fill, out, base, maxRows);
        }
        return '';
      }
      if (!bomChecked) continue;
      let nl = fill - 1;
      while (nl >= start && buf[nl] !== 10) nl--;
      if (nl < start) continue; // no complete line yet
      parseLines(buf, start, nl + 1, out, base, maxRows);
      if (st.badLine !== 0) return '';
      buf.copyWithin(0, nl + 1, fill);
      fill -= nl + 1;
      start = 0;
    }
  }

  /**
   * Reads and parses one feature file into `out` at `base` (its first `maxRows` rows). Writes
   * `info[k*4 ..]` = status, rows, line (of the problem), line of the last row; returns the
   * message for a dropped file, else ''. Never follows a symlink in the last component
   * (status S_SYMLINK instead) unless `follow`; the caller has resolved the folders.
   */
  function processFile(
    path: string,
    out: Float32Array,
    base: number,
    maxRows: number,
    info: Int32Array,
    k: number,
    follow = false,
  ): string {
    const at = k * 4;
    info[at + 1] = 0;
    info[at + 2] = 0;
    info[at + 3] = 0;
    if (!follow && O_NOFOLLOW === undefined) {
      info[at] = S_SYMLINK; // cannot tell safely on this platform: let the caller resolve it
      return '';
    }
    let fd: number;
    try {
      fd = fsm.openSync(path, O_RDONLY | O_NONBLOCK | (follow ? 0 : (O_NOFOLLOW as number)));
    } catch (e) {
      const code = (e as { code?: string }).code ?? String(e);
      if (!follow && (code === 'ELOOP' || code === 'EMLINK')) {
        info[at] = S_SYMLINK;
        return '';
      }
      info[at] = S_MISSING;
      return openFailure(code);
    }
    let readError = '';
    resetState();
    try {
      const s = fsm.fstatSync(fd);
      if (!s.isFile()) readError = s.isDirectory() ? 'expected a file, found a folder' : 'expected a regular file, found a special file';
      else readError = readAndParse(fd, s.size, out, base, maxRows);
    } catch (e) {
      readError = openFailure((e as { code?: string }).code ?? String(e));
    } finally {
      try {
        fsm.closeSync(fd);
      } catch {
        // nothing to do
      }
    }
    if (readError !== '') {
      info[at] = S_MISSING;
      return readError;
    }
    info[at + 1] = st.rows;
    info[at + 3] = st.lastRowLine;
    if (st.badLine !== 0) {
      info[at] = S_MALFORMED;
      info[at + 2] = st.badLine;
      return st.badMsg;
    }
    if (st.rows === 0) {
      info[at] = S_MALFORMED;
      return `expected rows of ${CH} numbers, found an empty file`;
    }
    if (st.infLine !== 0) {
      info[at] = S_NONFINITE;
      info[at + 2] = st.infLine;
      return st.infMsg;
    }
    info[at] = S_OK;
    return '';
  }

  /** Parses a feature file held in memory: its first `maxRows` rows, and the outcome. */
  function parseBytes(
    bytes: Uint8Array,
    maxRows: number,
  ): { values: Float32Array; rows: number; badLine: number; badMsg: string; infLine: number; infMsg: string } {
    resetState();
    const values = new Float32Array(maxRows * CH);
    const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    if (bytes.length > start) {
      const buf = new Uint8Array(bytes.length + 1);
      buf.set(bytes);
      let end = bytes.length;
      if (buf[end - 1] !== 10) buf[end++] = 10;
      parseLines(buf, start, end, values, 0, maxRows);
    }
    return { values, rows: st.rows, badLine: st.badLine, badMsg: st.badMsg, infLine: st.infLine, infMsg: st.infMsg };
  }

  return { processFile, parseBytes, openFailure, S_OK, S_MISSING, S_MALFORMED, S_NONFINITE, S_SYMLINK };
}

/** The main thread's processor. */
const PROC = createFileProcessor(fs);

/**
 * Parses the text of one feature file (rows of 16 numbers) as the loader does: the first
 * `maxRows` rows as float32, the number of rows, and the first malformed / non-finite line.
 */
export function parseFeatureBytes(bytes: Uint8Array, maxRows: number): ReturnType<FileProcessor['parseBytes']> {
  return PROC.parseBytes(bytes, maxRows);
}
