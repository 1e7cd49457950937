/**
 * Measures ms per training iteration against batch size, in its own worker thread (started
 * by timing.ts after an experiment's runs have ended, so nothing else of Lockstep competes
 * for the cores). For each target network and engine, and each batch size: a fresh engine
 * and trainer on the run's training data, warm-up steps (JIT, kernel setup), then timed steps —
 * fewer when they would take longer than about 2 s. Posts one point per measurement.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TimingTarget } from '../../shared/experiment/grid';
import { isLockstepError } from '../../shared/errors';
import type { TimingPoint } from '../../shared/protocol';
import { prepareData } from '../../shared/train/prepare';
import { optimizerSettings } from '../../shared/train/settings';
import { Trainer } from '../../shared/train/trainer';
import type { DatasetRef } from '../services/dataset-library';
import { createEngine } from '../services/engines';
import { loadRunDataset } from '../services/run-data';

export interface TimingInput {
  dataset: DatasetRef;
  targets: TimingTarget[];
}

export type TimingMessage =
  { type: 'point'; point: TimingPoint } | { type: 'failed'; message: string } | { type: 'done' };

/** Warm-up: at least this many steps and this long (the JIT settles), at most MAX_WARMUP_STEPS. */
const WARMUP_STEPS = 3;
const WARMUP_MS = 150;
const MAX_WARMUP_STEPS = 200;
const BUDGET_MS = 2000;

async function measure(input: TimingInput, post: (m: TimingMessage) => void): Promise<void> {
  for (const target of input.targets) {
    const data = prepareData(loadRunDataset(input.dataset, target.settings.frames), target.settings);
    const spec = { ...target.spec, input: [data.train.frames, data.train.channels] as [number, number] };
    for (const batch of target.batchSizes) {
      const engine = await createEngine(
        { engine: target.engine, backend: target.backend },
        { spec, optimizer: optimizerSettings(target.settings), maxBatch: batch, seed: target.settings.seed },
      );
      try {
        const trainer = new Trainer(engine, data.train, batch, target.settings.seed);
        const w0 = performance.now();
        let warm = 0;
        while (warm < WARMUP_STEPS || (performance.now() - w0 < WARMUP_MS && warm < MAX_WARMUP_STEPS)) {
          trainer.trainStep();
          warm++;
        }
        const warmMs = (performance.now() - w0) / warm;
        const steps = Math.max(3, Math.min(target.steps, Math.floor(BUDGET_MS / Math.max(warmMs, 1e-3))));
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) trainer.trainStep();
        const msPerIteration = (performance.now() - t0) / steps;
        post({
          type: 'point',
          point: { key: target.key, label: target.label, engine: target.engineId, batch, msPerIteration, steps },
        });
      } finally {
        engine.dispose();
      }
    }
  }
  post({ type: 'done' });
}

if (parentPort) {
  const port = parentPort;
  measure(workerData as TimingInput, (m) => port.postMessage(m)).catch((e: unknown) => {
    if (isLockstepError(e)) port.postMessage({ type: 'failed', message: e.message } satisfies TimingMessage);
    else throw e;
  });
}
