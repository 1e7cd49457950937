import type { Split } from '../data/dataset';
import { Rng } from '../engine/rng';
import type { TrainingEngine } from './engine';
import { evaluateSplit, type Evaluation } from './evaluate';

export interface EpochRecord {
  epoch: number;
  /** Mean of the epoch's batch losses (training mode), as Keras reports it. */
  trainLoss: number;
  trainAccuracy: number;
  devLoss?: number;
  devAccuracy?: number;
  /** Wall time of the epoch's training steps (shuffle and batch gather included, evaluation not). */
  ms: number;
}

/**
 * Runs minibatch training one step at a time, so a caller can pause, stop or interleave two
 * engines between any two steps. Batch order comes from the seed's shuffle stream: every
 * epoch is a fresh permutation; the last batch of an epoch may be short.
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

  constructor(
    readonly engine: TrainingEngine,
    readonly train: Split,
    readonly batchSize: number,
    seed: number,
  ) {
    this.exampleSize = train.frames * train.channels;
    this.order = Int32Array.from({ length: train.n }, (_, i) => i);
    this.rng = Rng.derive(seed, 'shuffle');
    this.batchX = new Float32Array(batchSize * this.exampleSize);
    this.batchY = new Int32Array(batchSize);
    this.stepsPerEpoch = Math.ceil(train.n / batchSize);
  }

  /** The next batch's examples, gathered into the trainer's buffers (the same every call). */
  nextBatch(): { x: Float32Array; y: Int32Array; size: number } {
    if (this.position === 0) this.rng.shuffle(this.order);
    const size = Math.min(this.batchSize, this.train.n - this.position);
    const S = this.exampleSize;
    for (let i = 0; i < size; i++) {
      const src = this.order[this.position + i] * S, dst = i * S;
      for (let j = 0; j < S; j++) this.batchX[dst + j] = this.train.x[src + j];
      this.batchY[i] = this.train.y[this.order[this.position + i]];
    }
    this.position += size;
    return { x: this.batchX, y: this.batchY, size };
  }

  /** One optimizer step; returns its loss and whether it finished an epoch. */
  trainStep(): { loss: number; epochDone: boolean } {
    const t0 = performance.now();
    const { x, y, size } = this.nextBatch();
    const loss = this.engine.trainStep(x, y, size);
    this.epochMs += performance.now() - t0;
    this.step++;
    this.epochLossSum += loss;
    this.epochSteps++;
    const epochDone = this.position >= this.train.n;
    if (epochDone) this.position = 0;
    return { loss, epochDone };
  }

  /** Closes the epoch that trainStep just finished: evaluates and resets the running sums. */
  finishEpoch(dev: Split | undefined, classes: number): EpochRecord & { trainEval: Evaluation; devEval?: Evaluation } {
    this.epoch++;
    const trainEval = evaluateSplit(this.engine, this.train, classes, this.batchSize);
    const devEval = dev ? evaluateSplit(this.engine, dev, classes, this.batchSize) : undefined;
    const record = {
      epoch: this.epoch,
      trainLoss: this.epochLossSum / this.epochSteps,
      trainAccuracy: trainEval.accuracy,
      devLoss: devEval?.loss,
      devAccuracy: devEval?.accuracy,
      ms: this.epochMs,
      trainEval,
      devEval,
    };
    this.epochLossSum = 0;
    this.epochSteps = 0;
    this.epochMs = 0;
    return record;
  }
}
