/**
 * One training run, in its own worker thread (started by TrainingSessions): loads the run's
 * dataset, builds its engine(s), steps the Trainer, and reports to the main thread —
 * per-step losses batched to at most one message per `progressIntervalMs`, one message per
 * epoch, then per-split results with every example's probabilities and the final weights.
 * Pause and stop are read from a shared word between steps (see worker-protocol.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Split } from '../../shared/data/dataset';
import type { OptimizerState } from '../../shared/engine/optimizers';
import { ScratchEngine } from '../../shared/engine/scratch-engine';
import { resolveSpec } from '../../shared/engine/spec';
import { isLockstepError } from '../../shared/errors';
import { buildCheckpoint } from '../../shared/model/checkpoint';
import type { EpochPoint, SplitResult, StepPoint } from '../../shared/protocol';
import type { TrainingEngine } from '../../shared/train/engine';
import { divergenceMessage } from '../../shared/train/divergence';
import { evaluateSplit } from '../../shared/train/evaluate';
import { prepareData, type PreparedData } from '../../shared/train/prepare';
import { optimizerSettings, resolveSettings } from '../../shared/train/settings';
import { Trainer, type EpochRecord } from '../../shared/train/trainer';
import { readCheckpoint } from '../store/checkpoint-dir';
import { loadRunDataset } from './run-data';
import { createRunEngines, LOCKSTEP_CHECK_EVERY } from './run-engines';
import { CONTROL_PAUSE, CONTROL_RUN, CONTROL_STOP } from './worker-protocol';
import type { PredictionsOut, Resumed, WorkerInput, WorkerMessage } from './worker-protocol';

const FLOAT32_TINY = 1.1754944e-38;
/** An epoch's end saves the run's checkpoint at most this often (each save is a few ms of fsync on the main thread). */
const CHECKPOINT_INTERVAL_MS = 1000;

/** Like evaluateSplit (same loss, accuracy and confusion), keeping every example's probabilities. */
export function predictSplit(
  engine: TrainingEngine,
  split: Split,
  classes: number,
  batch: number,
): { result: SplitResult; probs: Float32Array } {
  const size = split.frames * split.channels;
  const probs = new Float32Array(split.n * classes);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0,
    correct = 0;
  for (let start = 0; start < split.n; start += batch) {
    const b = Math.min(batch, split.n - start);
    const out = probs.subarray(start * classes, (start + b) * classes);
    engine.predict(split.x.subarray(start * size, (start + b) * size), b, out);
    for (let i = 0; i < b; i++) {
      const truth = split.y[start + i];
      let best = 0;
      for (let k = 1; k < classes; k++) if (out[i * classes + k] > out[i * classes + best]) best = k;
      confusion[truth][best]++;
      if (best === truth) correct++;
      lossSum -= Math.log(Math.max(out[i * classes + truth], FLOAT32_TINY));
    }
  }
  return {
    result: {
      n: split.n,
      loss: split.n ? lossSum / split.n : NaN,
      accuracy: split.n ? correct / split.n : NaN,
      confusion,
    },
    probs,
  };
}

function maxAbsDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let max = 0;
  for (const [name, va] of a) {
    const vb = b.get(name);
    if (!vb) continue;
    for (let i = 0; i < va.length; i++) {
      const d = Math.abs(va[i] - vb[i]);
      if (d > max || Number.isNaN(d)) max = d;
    }
  }
  return max;
}

async function run(input: WorkerInput, post: (m: WorkerMessage, transfer?: ArrayBuffer[]) => void): Promise<void> {
  const control = new Int32Array(input.control);
  const settings = resolveSettings(input.settings);
  const fault = input.fault;

  const dataset = loadRunDataset(input.dataset, settings.frames);
  const data: PreparedData = prepareData(dataset, settings);
  const spec = { ...input.spec, input: [data.train.frames, data.train.channels] as [number, number] };
  resolveSpec(spec, data.classes.length);
  const { engine, pair } = await createRunEngines(input.engine, input.backend, {
    spec,
    optimizer: optimizerSettings(settings),
    maxBatch: settings.batch,
    seed: settings.seed,
  });
  const K = data.classes.length;
  const trainer = new Trainer(engine, data.train, settings.batch, settings.seed, settings);
  const totalSteps = trainer.stepsPerEpoch * settings.epochs;
  const engineIds = pair ? [pair.reference.id, pair.candidate.id] : [engine.id];
  const metrics: EpochRecord[] = [];
  const resumed = input.resumeFrom ? resumeRun(input.resumeFrom, engine, trainer, metrics) : undefined;
  const firstStep = trainer.step;
  const { stepsPerEpoch } = trainer;
  post({ type: 'ready', params: engine.paramCount, totalSteps, stepsPerEpoch, engines: engineIds, resumed });

  // Progress and epoch points, batched: at most one of each per progressIntervalMs, unless forced
  // (before pausing, stopping, failing or finishing), however short the steps and epochs are.
  let pending: StepPoint[] = [];
  let pendingEpochs: EpochPoint[] = [];
  let lastFlush = performance.now();
  let windowExamples = 0,
    windowMs = 0,
    activeMs = 0;
  let epochIndex = 0;
  const flush = (force: boolean): void => {
    if (!force && performance.now() - lastFlush < input.progressIntervalMs) return;
    if (!pending.length && !pendingEpochs.length) return;
    if (pending.length) {
      const stepsDone = trainer.step;
      const msPerStep = stepsDone > firstStep ? activeMs / (stepsDone - firstStep) : 0;
      post({
        type: 'progress',
        steps: pending,
        epoch: Math.ceil(pending[pending.length - 1].step / trainer.stepsPerEpoch),
        step: stepsDone,
        totalSteps,
        examplesPerSecond: windowMs > 0 ? (windowExamples * 1000) / windowMs : 0,
        etaSeconds: ((totalSteps - stepsDone) * msPerStep) / 1000,
      });
      pending = [];
      windowExamples = 0;
      windowMs = 0;
    }
    if (pendingEpochs.length) {
      post({ type: 'epoch', points: pendingEpochs, epochsDone: trainer.epoch });
      pendingEpochs = [];
    }
    lastFlush = performance.now();
  };

  /** Reads the control word; while paused, waits on it. Returns RUN or STOP. */
  const checkControl = (): number => {
    let c = Atomics.load(control, 0);
    if (c === CONTROL_PAUSE) {
      flush(true);
      post({ type: 'paused', step: trainer.step });
      while ((c = Atomics.load(control, 0)) === CONTROL_PAUSE) Atomics.wait(control, 0, CONTROL_PAUSE, 1000);
      if (c === CONTROL_RUN) post({ type: 'resumed', step: trainer.step });
      lastFlush = performance.now();
    }
    return c === CONTROL_STOP ? CONTROL_STOP : CONTROL_RUN;
  };

  const engineById = (id: string): TrainingEngine =>
    pair ? (id === pair.reference.id ? pair.reference : pair.candidate) : engine;
  /** The first engine's divergence message (in engine order), or null. */
  const divergence = (check: (id: string) => string | null): string | null => {
    for (const id of engineIds) {
      const message = check(id);
      if (message !== null) return message;
    }
    return null;
  };
  const fail = (message: string): void => {
    flush(true);
    post({ type: 'failed', message });
    engine.dispose();
  };

  let stopped = false;
  let lastCheckpoint = -Infinity;
  outer: for (epochIndex = trainer.epoch; epochIndex < settings.epochs; epochIndex++) {
    for (;;) {
      if (checkControl() === CONTROL_STOP) {
        stopped = true;
        break outer;
      }
      const t0 = performance.now();
      const stepNumber = trainer.step + 1;
      if (fault && stepNumber === fault.atStep) {
        if (fault.kind === 'throw') throw new Error(`injected fault at step ${fault.atStep}`);
        if (fault.kind === 'exit') process.exit(3);
        if (fault.kind === 'hang') for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      }
      const batchSize = Math.min(
        settings.batch,
        data.train.n - ((stepNumber - 1) % trainer.stepsPerEpoch) * settings.batch,
      );
      const { loss, epochDone } = trainer.trainStep();
      const losses: Record<string, number> = pair
        ? { [pair.reference.id]: pair.reference.lastLoss, [pair.candidate.id]: pair.candidate.lastLoss }
        : { [engine.id]: loss };
      if (fault?.kind === 'nan' && stepNumber === fault.atStep) losses[engineIds[0]] = NaN;
      const point: StepPoint = { step: stepNumber, losses };
      if (pair && (stepNumber % LOCKSTEP_CHECK_EVERY === 0 || stepNumber === totalSteps)) {
        point.maxAbsWeightDiff = maxAbsDiff(pair.reference.getWeights(), pair.candidate.getWeights());
        point.maxAbsGradDiff = maxAbsDiff(pair.reference.getGradients(), pair.candidate.getGradients());
      }
      pending.push(point);
      const dt = performance.now() - t0;
      activeMs += dt;
      windowMs += dt;
      windowExamples += batchSize;
      const diverged = divergence((id) =>
        divergenceMessage(engineById(id), {
          step: stepNumber,
          epoch: epochIndex + 1,
          lr: settings.lr,
          engineId: id,
          loss: losses[id],
        }),
      );
      if (diverged !== null) {
        fail(diverged);
        return;
      }
      flush(false);
      if (epochDone) break;
    }
    // A NaN or Inf weight can hide behind a finite loss (ReLU and max pooling drop NaNs): check once an epoch.
    const lastStep = trainer.step;
    const corrupt = divergence((id) =>
      divergenceMessage(engineById(id), { step: lastStep, epoch: epochIndex + 1, lr: settings.lr, engineId: id }),
    );
    if (corrupt !== null) {
      fail(corrupt);
      return;
    }
    const t0 = performance.now();
    const { trainEval: _t, devEval: _d, ...record } = trainer.finishEpoch(data.dev, K);
    metrics.push(record);
    const point = (id: string, r: Omit<EpochRecord, 'epoch'>): EpochPoint => {
      const p: EpochPoint = {
        epoch: record.epoch,
        engine: id,
        trainLoss: r.trainLoss,
        trainAccuracy: r.trainAccuracy,
        ms: r.ms,
      };
      if (r.devLoss !== undefined) p.devLoss = r.devLoss;
      if (r.devAccuracy !== undefined) p.devAccuracy = r.devAccuracy;
      return p;
    };
    const points: EpochPoint[] = [];
    if (pair) {
      // The trainer evaluated through the reference; the candidate is evaluated on its own.
      const refLosses = pair.reference.takeLosses();
      points.push(point(pair.reference.id, { ...record, trainLoss: mean(refLosses), ms: pair.reference.takeMs() }));
      const candLosses = pair.candidate.takeLosses();
      const trainEval = evaluateSplit(pair.candidate, data.train, K, settings.batch);
      const devEval = data.dev ? evaluateSplit(pair.candidate, data.dev, K, settings.batch) : undefined;
      points.push(
        point(pair.candidate.id, {
          trainLoss: mean(candLosses),
          trainAccuracy: trainEval.accuracy,
          devLoss: devEval?.loss,
          devAccuracy: devEval?.accuracy,
          ms: pair.candidate.takeMs(),
        }),
      );
    } else {
      points.push(point(engine.id, record));
    }
    activeMs += performance.now() - t0;
    pendingEpochs.push(...points);
    // The epoch's weights (at most one save a second): a run killed later keeps them, to export or resume from.
    if (performance.now() - lastCheckpoint >= CHECKPOINT_INTERVAL_MS) {
      // Every step and epoch point up to here goes out first: the saved epochs are all in the run's metrics.
      flush(true);
      const optimizerState = optimizerStateOf(engine);
      const checkpoint = buildCheckpoint({ spec, data, settings, engine, metrics, optimizerState });
      post({ type: 'checkpoint', checkpoint }, [checkpoint.bytes.buffer as ArrayBuffer]);
      lastCheckpoint = performance.now();
    }
    flush(false);
    if (trainer.stopEarly) break;
  }
  flush(true);
  if (stopped) post({ type: 'stopped', step: trainer.step });
  // Early stopping (settings.patience) ends with the best dev epoch's weights.
  trainer.restoreBest();

  if (trainer.step > 0) {
    const results: Partial<Record<'train' | 'dev' | 'eval', SplitResult>> = {};
    const predictions: Partial<Record<'train' | 'dev' | 'eval', PredictionsOut>> = {};
    const transfer: ArrayBuffer[] = [];
    for (const name of ['train', 'dev', 'eval'] as const) {
      const split = data[name];
      if (!split) continue;
      const { result, probs } = predictSplit(engine, split, K, settings.batch);
      results[name] = result;
      const labels = split.y.slice();
      predictions[name] = { probs, labels, ids: split.ids, classes: K };
      transfer.push(probs.buffer as ArrayBuffer, labels.buffer as ArrayBuffer);
    }
    const { manifest, bytes } = buildCheckpoint({ spec, data, settings, engine, metrics });
    transfer.push(bytes.buffer as ArrayBuffer);
    post(
      {
        type: 'results',
        results,
        predictions,
        checkpoint: {
          manifest,
          bytes,
        },
      },
      transfer,
    );
  }
  engine.dispose();
  post({ type: 'done' });
}

/** The scratch engine's optimizer state, to resume from (tfjs's is out of reach: resumed from weights alone). */
function optimizerStateOf(engine: TrainingEngine): OptimizerState | undefined {
  return engine instanceof ScratchEngine ? engine.getOptimizerState() : undefined;
}

/** Puts an interrupted run back where its last saved epoch ended: weights, optimizer state, metrics and batch order. */
function resumeRun(checkpointDir: string, engine: TrainingEngine, trainer: Trainer, metrics: EpochRecord[]): Resumed {
  const saved = readCheckpoint(checkpointDir);
  engine.setWeights(saved.weights);
  if (saved.optimizerState && engine instanceof ScratchEngine) engine.setOptimizerState(saved.optimizerState);
  metrics.push(...saved.manifest.metrics);
  trainer.resumeAfter(saved.manifest.metrics.length);
  return { epochs: trainer.epoch, steps: trainer.step };
}

const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

if (parentPort) {
  const port = parentPort;
  const post = (m: WorkerMessage, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  run(workerData as WorkerInput, post).catch((e: unknown) => {
    // A problem with the run's data, spec or settings is the user's to fix: report it as is.
    // Anything else is a bug: rethrown, it ends the worker with an 'error' event.
    if (isLockstepError(e)) post({ type: 'failed', message: e.message });
    else throw e;
  });
}
