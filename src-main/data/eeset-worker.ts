/**
 * The ee-set loader's helper thread. On a multi-core machine a worker thread shares a split's
 * feature files with the main thread, chunk by chunk (a shared counter hands out chunks to
 * whichever thread asks first), writing into the same SharedArrayBuffers. It runs the very
 * same code as the main thread: the source text of the self-contained feature parser and file
 * processor. If the worker cannot start or fails, the main thread redoes its share: the result
 * never depends on the worker.
 */
import * as os from 'node:os';
import { Worker, type MessagePort } from 'node:worker_threads';
import { createFeatureParser } from './feature-parser';
import { createFileProcessor, type FileProcessor } from './feature-reader';

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

/** One split's work: slots and per-file info to fill, a chunk counter with per-chunk done marks. */
export interface WorkerJob {
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
const parser = (${createFeatureParser.toString()})();
const processor = (${createFileProcessor.toString()})(require('node:fs'), parser);
(${workerMain.toString()})(processor, parentPort);
`;

/** One lazily started worker, shared by the splits of one load. */
export class WorkerHelper {
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
