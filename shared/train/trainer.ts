import type { Split } from '../data/dataset';
import { Rng } from '../engine/rng';
import { Augmenter, type AugmentSettings } from './augment';
import type { TrainingEngine } from './engine';
import { evaluateSplit, type Evaluation } from './evaluate';
import { learningRateSchedule, type ScheduleSettings } from './schedule';
import type { TrainingSettings } from './settings';

export interface EpochRecord {
  epoch: number;
  /** Mean of the epoch's batch losses (training mode), as Keras reports it. */
  trainLoss: number;
  trainAccuracy: number;
  devLoss?: number;
  devAccuracy?: number;
  /** Wall time of the epoch's training steps (shuffle and batch gather included, evaluation not). */
  ms: number;
  /** The learning rate of the epoch's last step, when a schedule or warm-up changes it. */
  lr?: number;
}

export type EpochResult = EpochRecord & { trainEval: Evaluation; devEval?: Evaluation };

/** The training aids a Trainer applies itself, for every engine: a TrainingSettings carries them all. */
export type TrainingAids = ScheduleSettings & AugmentSettings & Pick<TrainingSettings, 'patience'>;

/**
 * Runs minibatch training one step at a time, so a caller can pause, stop or interleave two
 * engines between any two steps. Batch order comes from the seed's shuffle stream: every
 * epoch is a fresh permutation; the last batch of an epoch may be short.
 *
 * Given training aids (a TrainingSettings will do), it also sets every step's learning rate
 * through the engine (shared/train/schedule.ts), augments every training batch
 * (shared/train/augment.ts), and with `patience` keeps the weights of the epoch with the best
 * dev accuracy: `stopEarly` turns true after `patience` epochs without a better one, and
 * `restoreBest()` puts those weights back.
 */
export class Trainer {
  readonly stepsPerEpoch: number;
  epoch = 0;
  step = 0;
  private readonly order: Int32Array;
  private readonly rng: Rng;
  private readonly batchX: Float32Array;
  private readonly batchY: Int32Array;
  private readonly exampleSize: number;
  private position = 0;
  private epochLossSum = 0;
  private epochSteps = 0;
  private epochMs = 0;
  private readonly lrAt: ((step: number) => number) | null;
  private readonly augmenter: Augmenter | null;
  private readonly patience: number | null;
  private best: { result: EpochResult; weights: Map<string, Float32Array> } | null = null;
  private lr: number | undefined;

  constructor(
    readonly engine: TrainingEngine,
    readonly train: Split,
    readonly batchSize: number,
    seed: number,
    aids?: TrainingAids,
  ) {
    this.exampleSize = train.frames * train.channels;
    this.order = Int32Array.from({ length: train.n }, (_, i) => i);
    this.rng = Rng.derive(seed, 'shuffle');
    this.batchX = new Float32Array(batchSize * this.exampleSize);
    this.batchY = new Int32Array(batchSize);
    this.stepsPerEpoch = Math.ceil(train.n / batchSize);
    this.lrAt = aids ? learningRateSchedule(aids, this.stepsPerEpoch) : null;
    this.augmenter = aids && Augmenter.wanted(aids) ? new Augmenter(aids, train.frames, train.channels, seed) : null;
    this.patience = aids?.patience ?? null;
  }

  /** True once `patience` epochs have passed without a better dev accuracy than the best one. */
  get stopEarly(): boolean {
    return this.patience !== null && this.best !== null && this.epoch - this.best.result.epoch >= this.patience;
  }

  /** With `patience`: sets the best epoch's weights back and returns that epoch's record; otherwise null. */
  restoreBest(): EpochResult | null {
    if (!this.best) return null;
    this.engine.setWeights(this.best.weights);
    return this.best.result;
  }

  /**
   * Continues a run after its first `epochs` epochs (resuming from their checkpoint): the step
   * count, and so the learning-rate schedule, and the batch order go on as they would have. The
   * random draws of augmentation (and the engine's dropout) are made afresh.
   */
  resumeAfter(epochs: number): void {
    for (let e = 0; e < epochs; e++) this.rng.shuffle(this.order);
    this.epoch = epochs;
    this.step = epochs * this.stepsPerEpoch;
  }

  /** The next batch's examples, gathered into the trainer's buffers (the same every call). */
  nextBatch(): { x: Float32Array; y: Int32Array; size: number } {
    if (this.position === 0) this.rng.shuffle(this.order);
    const size = Math.min(this.batchSize, this.train.n - this.position);
    const S = this.exampleSize;
    for (let i = 0; i < size; i++) {
      const src = this.order[this.position + i] * S,
        dst = i * S;
      for (let j = 0; j < S; j++) this.batchX[dst + j] = this.train.x[src + j];
      this.batchY[i] = this.train.y[this.order[this.position + i]];
    }
    this.position += size;
    this.augmenter?.apply(this.batchX, size);
    return { x: this.batchX, y: this.batchY, size };
  }

  /** One optimizer step; returns its loss and whether it finished an epoch. */
  trainStep(): { loss: number; epochDone: boolean } {
    const t0 = performance.now();
    const { x, y, size } = this.nextBatch();
    if (this.lrAt) this.engine.setLearningRate((this.lr = this.lrAt(this.step)));
    const loss = this.engine.trainStep(x, y, size);
    this.epochMs += performance.now() - t0;
    this.step++;
    this.epochLossSum += loss;
    this.epochSteps++;
    const epochDone = this.position >= this.train.n;
    if (epochDone) this.position = 0;
    return { loss, epochDone };
  }

  /** Closes the epoch that trainStep just finished: evaluates, keeps the best weights (with `patience`) and resets the running sums. */
  finishEpoch(dev: Split | undefined, classes: number): EpochResult {
    this.epoch++;
    const trainEval = evaluateSplit(this.engine, this.train, classes, this.batchSize);
    const devEval = dev ? evaluateSplit(this.engine, dev, classes, this.batchSize) : undefined;
    const record: EpochResult = {
      epoch: this.epoch,
      trainLoss: this.epochLossSum / this.epochSteps,
      trainAccuracy: trainEval.accuracy,
      devLoss: devEval?.loss,
      devAccuracy: devEval?.accuracy,
      ms: this.epochMs,
      trainEval,
      devEval,
    };
    if (this.lr !== undefined) record.lr = this.lr;
    if (this.patience !== null && devEval && (!this.best || devEval.accuracy > this.best.result.devEval!.accuracy)) {
      this.best = { result: record, weights: this.engine.getWeights() };
    }
    this.epochLossSum = 0;
    this.epochSteps = 0;
    this.epochMs = 0;
    return record;
  }
}
