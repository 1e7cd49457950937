import type { DatasetSummary } from '../../shared/protocol';
import { LockstepError } from '../../shared/errors';
import type { ImportJob } from './dataset-library';
import { startServiceWorker } from './worker-launch';

/** What the import worker answers: the summary of the folder it wrote, or why it could not. */
export type ImportMessage =
  | { type: 'done'; summary: DatasetSummary }
  | { type: 'refused'; message: string }
  /** A bug in Lockstep: its message, and its stack for the log. */
  | { type: 'failed'; message: string; stack?: string };

/**
 * Runs one import (importIntoFolder) in a worker thread of its own (import-worker.ts): parsing,
 * inflating and encoding up to MAX_IMPORT_BYTES per split take seconds of CPU that must not
 * stop the host's event loop. A user's problem comes back as the same LockstepError message; a
 * worker that fails or dies is an error naming the import.
 */
export function importInWorker(job: ImportJob): Promise<DatasetSummary> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const worker = startServiceWorker('import-worker', { workerData: job, name: 'lockstep-import' });
    worker.on('message', (m: ImportMessage) => {
      answered = true;
      if (m.type === 'done') resolve(m.summary);
      else if (m.type === 'refused') reject(new LockstepError(m.message));
      else reject(Object.assign(new Error(`import of ${job.path}: ${m.message}`), { stack: m.stack }));
    });
    worker.on('error', (e) => {
      answered = true;
      reject(new Error(`import of ${job.path}: the import worker failed: ${e?.message ?? String(e)}`));
    });
    worker.on('exit', (code) => {
      if (!answered) reject(new Error(`import of ${job.path}: the import worker exited (code ${code}), no answer`));
    });
  });
}
