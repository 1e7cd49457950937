import { LockstepError } from '../../../shared/errors';
import { OPTIMIZERS, type OptimizerName } from '../../../shared/engine/optimizers';
import { DEFAULT_TFJS_BACKEND } from '../../../shared/protocol';
import { LR_SCHEDULES, type LrScheduleName } from '../../../shared/train/settings';
import { checkEngineChoice } from '../../services/engines';
import { trainRun } from '../../services/train-run';
import { intFlag, numberFlag, required } from '../args';
import { FRONT_END_FLAGS, FRONT_END_USAGE, frontEndFromFlags } from '../front-end-flags';
import { pct, type Command } from '../command';
import { ProgressBar } from '../progress';
import { SPLIT_FLAGS, SPLIT_USAGE, splitPolicy } from '../split-flags';

export const train: Command = {
  summary: 'train a preset or spec file; save a checkpoint with --out',
  usage:
    'train [--data PATH] --model PRESET|SPEC.json [--engine scratch|tfjs|lockstep] [--backend cpu|wasm]\n' +
    '      [--optimizer sgd|momentum|adam] [--lr X] [--momentum X] [--batch N] [--epochs N] [--seed N] [--frames 70]\n' +
    '      [--no-standardize] [--weight-decay X] [--bound 1e-4 (lockstep)] [--out DIR (lockstep also writes lockstep.json)]\n' +
    '      [--lr-schedule constant|cosine|step] [--warmup-epochs N] [--decay-every N] [--decay-factor X]\n' +
    '      [--time-stretch FRACTION] [--time-shift FRAMES] [--time-mask FRAMES] [--freq-mask CHANNELS] [--patience EPOCHS (early stopping on dev accuracy)]\n' +
    `      ${SPLIT_USAGE} (an audio folder without split folders)\n` +
    `      ${FRONT_END_USAGE}`,
  flags: {
    data: { type: 'string' },
    model: { type: 'string' },
    engine: { type: 'string' },
    backend: { type: 'string' },
    bound: { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    momentum: { type: 'string' },
    batch: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    frames: { type: 'string' },
    'no-standardize': { type: 'boolean' },
    'weight-decay': { type: 'string' },
    out: { type: 'string' },
    'lr-schedule': { type: 'string' },
    'warmup-epochs': { type: 'string' },
    'decay-every': { type: 'string' },
    'decay-factor': { type: 'string' },
    'time-stretch': { type: 'string' },
    'time-shift': { type: 'string' },
    'time-mask': { type: 'string' },
    'freq-mask': { type: 'string' },
    patience: { type: 'string' },
    ...SPLIT_FLAGS,
    ...FRONT_END_FLAGS,
  },
  async run(flags) {
    const f = flags as Record<string, string | undefined>;
    const { engine, backend } = checkEngineChoice(f.engine ?? 'scratch', f.backend ?? DEFAULT_TFJS_BACKEND);
    const bound = numberFlag('bound', f.bound);
    if (bound !== undefined && !(bound > 0))
      throw new LockstepError(`--bound must be a positive number, got '${f.bound}'`);
    if (f.optimizer !== undefined && !OPTIMIZERS.includes(f.optimizer as OptimizerName)) {
      throw new LockstepError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${f.optimizer}'`);
    }
    if (f['lr-schedule'] !== undefined && !LR_SCHEDULES.includes(f['lr-schedule'] as LrScheduleName)) {
      throw new LockstepError(`--lr-schedule must be one of ${LR_SCHEDULES.join(', ')}, got '${f['lr-schedule']}'`);
    }
    let bar: ProgressBar | null = null;
    let lastLoss = NaN;
    const result = await trainRun(
      {
        data: f.data,
        model: required('model', f.model),
        engine,
        backend,
        bound,
        out: f.out,
        split: splitPolicy(f),
        settings: {
          optimizer: f.optimizer as OptimizerName | undefined,
          lr: numberFlag('lr', f.lr),
          momentum: numberFlag('momentum', f.momentum),
          batch: intFlag('batch', f.batch, 1),
          epochs: intFlag('epochs', f.epochs, 1),
          seed: intFlag('seed', f.seed, 0),
          frames: intFlag('frames', f.frames, 1),
          standardize: flags['no-standardize'] ? false : undefined,
          frontEnd: frontEndFromFlags(f),
          weightDecay: numberFlag('weight-decay', f['weight-decay']),
          lrSchedule: f['lr-schedule'] as LrScheduleName | undefined,
          warmupEpochs: intFlag('warmup-epochs', f['warmup-epochs'], 0),
          decayEvery: intFlag('decay-every', f['decay-every'], 1),
          decayFactor: numberFlag('decay-factor', f['decay-factor']),
          timeStretch: numberFlag('time-stretch', f['time-stretch']),
          timeShift: intFlag('time-shift', f['time-shift'], 0),
          timeMask: intFlag('time-mask', f['time-mask'], 0),
          freqMask: intFlag('freq-mask', f['freq-mask'], 0),
          patience: intFlag('patience', f.patience, 1),
        },
      },
      {
        onStep(step, total, loss) {
          bar ??= new ProgressBar('train', total);
          lastLoss = loss;
          bar.update(step, `batch loss ${lastLoss.toFixed(4)}`);
        },
        onEpoch(r, trainEval) {
          bar?.done();
          // The figures after the epoch (as the final result reports them); the running mean of
          // its batches apart, labelled.
          process.stderr.write(
            `epoch ${r.epoch}: train loss ${trainEval.loss.toFixed(4)} acc ${pct(trainEval.accuracy)}` +
              (r.devLoss !== undefined ? `, dev loss ${r.devLoss.toFixed(4)} acc ${pct(r.devAccuracy)}` : '') +
              ` (running train loss during the epoch ${r.trainLoss.toFixed(4)}; ${r.ms.toFixed(0)} ms)\n`,
          );
        },
      },
    );
    const json = {
      params: result.params,
      epochs: result.epochs,
      bestEpoch: result.bestEpoch,
      engine: result.engine,
      settings: result.settings,
      train: result.train,
      dev: result.dev,
      ...(result.eval ? { eval: result.eval } : {}),
      msPerEpoch: result.msPerEpoch,
      metrics: result.metrics,
      checkpoint: result.checkpoint,
      lockstep: result.lockstep,
      lockstepFile: result.lockstepFile,
    };
    const l = result.lockstep;
    const text = [
      `params ${result.params}, ${result.epochs} epochs, ${result.msPerEpoch.toFixed(0)} ms/epoch (median)` +
        (result.bestEpoch !== null ? `; early stopping kept epoch ${result.bestEpoch}'s weights` : ''),
      `train: loss ${result.train.loss.toFixed(4)}, accuracy ${pct(result.train.accuracy)} (n=${result.train.n})`,
      result.dev
        ? `dev:   loss ${result.dev.loss.toFixed(4)}, accuracy ${pct(result.dev.accuracy)} (n=${result.dev.n})`
        : 'dev:   (no dev split)',
      ...(result.eval
        ? [`eval:  loss ${result.eval.loss.toFixed(4)}, accuracy ${pct(result.eval.accuracy)} (n=${result.eval.n})`]
        : []),
      result.checkpoint ? `checkpoint: ${result.checkpoint}` : 'checkpoint: not saved (pass --out DIR)',
      ...(l
        ? [
            `lockstep ${l.reference} vs ${l.candidate} over ${l.steps} steps: max relative loss difference ${l.maxRelLossDiff.toExponential(2)} (bound ${l.bound}), ` +
              `max |Δweight| ${l.maxAbsWeightDiff.toExponential(2)}, ms/step ${l.referenceMsPerStep.toFixed(2)} vs ${l.candidateMsPerStep.toFixed(2)}: ` +
              (l.ok ? 'ok' : `FAILED at step ${l.firstFailingStep}`),
            result.lockstepFile
              ? `lockstep record: ${result.lockstepFile}`
              : 'lockstep record: not saved (pass --out DIR)',
          ]
        : []),
    ].join('\n');
    const failed = l !== null && !l.ok;
    return {
      json,
      text,
      exitCode: failed ? 1 : 0,
      reason: failed
        ? `lockstep failed: step ${l.firstFailingStep}'s relative loss difference exceeds ${l.bound}`
        : undefined,
    };
  },
};
