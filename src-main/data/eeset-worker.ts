/**
 * The ee-set loader's helper thread. On a multi-core machine a worker thread shares a split's
 * feature files with the main thread, chunk by chunk (a shared counter hands out chunks to
 * whichever thread asks first; per-file info goes to a SharedArrayBuffer, the rows of the
 * worker's chunks come back as transferred buffers). It runs the very same code as the main
 * thread: the source text of the self-contained feature parser and file processor, and the
 * parser's WebAssembly fast path (the compiled module is handed over, not recompiled). If the
 * worker cannot start or fails, the main thread redoes its share: the result never depends on
 * the worker.
 */
import * as os from 'node:os';
import { Worker, type MessagePort } from 'node:worker_threads';
import { createFeatureParser } from './feature-parser';
import { createFileProcessor, type FileProcessor } from './feature-reader';
import { featureRowsModule } from './feature-rows';

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

/** One split's work: per-file info to fill, and a chunk counter with per-chunk done marks. */
export interface WorkerJob {
  info: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  targets: string[];
  rowLen: number;
  frames: number;
  chunk: number;
  nChunks: number;
}

/**
 * What the worker did: messages of dropped files (`[index, message, …]`), and the rows of each
 * chunk it took (`rows[c]`: its files' slots, in order), handed over without a copy.
 */
export interface WorkerResult {
  msgs: (number | string)[];
  rows: (Float32Array | undefined)[];
}

/**
 * Runs in the worker (as source text): claims chunks until none is left, like the main thread.
 * Each chunk's rows go to a buffer of their own, transferred to the main thread at the end,
 * which copies them into place as it compacts the split (see eeset-split.ts).
 */
function workerMain(processor: FileProcessor, port: MessagePort): void {
  port.on('message', (job: WorkerJob & { id: number }) => {
    try {
      const info = new Int32Array(job.info);
      const ctrl = new Int32Array(job.ctrl);
      const msgs: (number | string)[] = [];
      const chunks: number[] = [];
      const buffers: ArrayBuffer[] = [];
      for (;;) {
        const c = Atomics.add(ctrl, 0, 1);
        if (c >= job.nChunks) break;
        const lo = c * job.chunk;
        const hi = Math.min(job.targets.length, lo + job.chunk);
        const rows = new Float32Array((hi - lo) * job.rowLen);
        for (let k = lo; k < hi; k++) {
          const t = job.targets[k];
          if (t === '') continue;
          const m = processor.processFile(t, rows, (k - lo) * job.rowLen, job.frames, info, k);
          if (m !== '') msgs.push(k, m);
        }
        chunks.push(c);
        buffers.push(rows.buffer);
        Atomics.store(ctrl, 1 + c, 1);
      }
      port.postMessage({ id: job.id, msgs, chunks, buffers }, buffers);
    } catch (e) {
      port.postMessage({ id: job.id, error: String(e) });
    }
  });
}

const WORKER_SOURCE = `'use strict';
var __name = function (f) { return f; }; // helper that some TypeScript runners insert for function names
const { parentPort, workerData } = require('node:worker_threads');
const parser = (${createFeatureParser.toString()})(workerData.featureRows);
const processor = (${createFileProcessor.toString()})(require('node:fs'), parser);
(${workerMain.toString()})(processor, parentPort);
`;

/**
 * The loader's one helper thread: started by the first load large enough to use it, then kept
 * for the loads that follow, as starting a thread costs ~30 ms of CPU (~75 ms of waiting on the
 * busy 2-core dev VM) and its code runs cold at first. It is unreferenced while idle, so it
 * never keeps the process alive; after a failure the next load starts another.
 */
let shared: WorkerHelper | null = null;

export function loaderHelper(): WorkerHelper {
  if (shared === null || shared.broken) shared = new WorkerHelper();
  return shared;
}

/** One lazily started worker. */
export class WorkerHelper {
  private worker: Worker | null = null;
  private failed = false;
  private nextId = 1;
  private pending = new Map<number, (result: WorkerResult | null) => void>();

  get broken(): boolean {
    return this.failed;
  }

  available(): boolean {
    if (this.failed) return false;
    if (this.worker !== null) return true;
    const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    if (cpus < 2) return false;
    try {
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: { featureRows: featureRowsModule() },
      });
      w.on('message', (m: { id: number; msgs?: (number | string)[]; chunks?: number[]; buffers?: ArrayBuffer[] }) => {
        const done = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        if (m.msgs === undefined || m.chunks === undefined || m.buffers === undefined) {
          done?.(null);
          return;
        }
        const rows: (Float32Array | undefined)[] = [];
        m.chunks.forEach((c, i) => (rows[c] = new Float32Array(m.buffers![i])));
        done?.({ msgs: m.msgs, rows });
      });
      const fail = () => {
        this.failed = true;
        for (const done of this.pending.values()) done(null);
        this.pending.clear();
      };
      w.on('error', fail);
      w.on('exit', fail);
      // Only after the listeners: adding a 'message' listener refs the worker again (Node 20), and
      // a worker started for a split whose labels file then fails to parse would keep the CLI alive.
      w.unref();
      this.worker = w;
      return true;
    } catch {
      this.failed = true;
      return false;
    }
  }

  /** Resolves with what the worker did, or `null` if it failed. */
  run(job: WorkerJob): Promise<WorkerResult | null> {
    const w = this.worker;
    if (w === null || this.failed) return Promise.resolve(null);
    const id = this.nextId++;
    return new Promise((resolve) => {
      w.ref(); // a job in progress keeps the process alive
      this.pending.set(id, resolve);
      try {
        w.postMessage({ ...job, id });
      } catch {
        this.pending.delete(id);
        if (this.pending.size === 0) w.unref();
        resolve(null);
      }
    });
  }
}
