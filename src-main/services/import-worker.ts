/**
 * One dataset import in its own worker thread (started by importInWorker, dataset-import.ts):
 * loads the path and writes the dataset's folder, then answers with its summary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isLockstepError } from '../../shared/errors';
import type { ImportMessage } from './dataset-import';
import { importIntoFolder, type ImportJob } from './dataset-library';

const post = (m: ImportMessage): void => parentPort!.postMessage(m);

importIntoFolder(workerData as ImportJob).then(
  (summary) => post({ type: 'done', summary }),
  (e: unknown) => {
    if (isLockstepError(e)) post({ type: 'refused', message: e.message });
    else post({ type: 'failed', message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack });
  },
);
