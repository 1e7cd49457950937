import type { Worker } from 'node:worker_threads';
import type { TimingPoint } from '../../shared/protocol';
import { startServiceWorker } from '../services/worker-launch';
import type { TimingInput, TimingMessage } from './timing-worker';

/** A timing measurement in flight (timing-worker.ts): its points as they come, and a way to end it early. */
export interface TimingJob {
  done: Promise<{ points: TimingPoint[]; error?: string }>;
  stop(): Promise<void>;
}

export function startTiming(input: TimingInput, onPoint: (p: TimingPoint) => void): TimingJob {
  const points: TimingPoint[] = [];
  let worker: Worker;
  let error: string | undefined;
  try {
    worker = startServiceWorker('timing-worker', { workerData: input, name: 'lockstep-timing' }, import.meta.url);
  } catch (e) {
    return {
      done: Promise.resolve({ points, error: `the timing worker could not start: ${(e as Error).message}` }),
      stop: async () => {},
    };
  }
  const done = new Promise<{ points: TimingPoint[]; error?: string }>((resolve) => {
    let finished = false;
    worker.on('message', (m: TimingMessage) => {
      if (m.type === 'point') {
        points.push(m.point);
        onPoint(m.point);
      } else if (m.type === 'failed') error = m.message;
      else {
        finished = true;
        void worker.terminate(); // tfjs may hold the thread's event loop open
      }
    });
    worker.on('error', (e: Error) => (error ??= `the timing worker failed: ${e?.message ?? String(e)}`));
    worker.on('exit', (code) => {
      if (!finished && !error) error = `the timing worker stopped before it finished (exit code ${code})`;
      resolve({ points, error });
    });
  });
  return {
    done,
    async stop() {
      await worker.terminate();
      await done;
    },
  };
}
