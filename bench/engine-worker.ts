/**
 * One engine in its own process, so its peak RSS is its own. Two modes:
 *   tsx bench/engine-worker.ts --engine scratch|tfjs-cpu|tfjs-wasm --data DIR --serve
 *     reads WorkerCommand lines on stdin, answers one JSON line each (the runner interleaves them);
 *   tsx bench/engine-worker.ts --engine E --data DIR --model M --repeats N
 *     measures N epochs of M after a warm-up and prints one JSON object.
 * Every answer carries maxRssMb (process.resourceUsage().maxRSS).
 */
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { Trainer } from '../shared/train/trainer';
import type { TrainingEngine } from '../shared/train/engine';
import { ScratchEngine } from '../shared/engine/scratch-engine';
import {
  BENCH_LR,
  EPOCH_BATCH,
  NODE_ENGINES,
  benchSpec,
  readSplit,
  type EpochResult,
  type NodeEngine,
  type StepsResult,
  type WorkerCommand,
} from './common';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string' },
    data: { type: 'string' },
    serve: { type: 'boolean', default: false },
    model: { type: 'string' },
    repeats: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});

const engineName = args.engine as NodeEngine;
if (!NODE_ENGINES.includes(engineName)) throw new Error(`--engine must be one of ${NODE_ENGINES.join(', ')}`);
if (!args.data) throw new Error('--data DIR is required');
const { split, meta } = readSplit(args.data);
const seed = Number(args.seed);

const maxRssMb = (): number => process.resourceUsage().maxRSS / 1024;
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

interface Slot {
  engine: TrainingEngine;
  trainer: Trainer;
  /** ms per step seen during warm-up. */
  warmMsPerStep: number;
}
const slots = new Map<string, Slot>();

async function slot(model: string, batch: number, warmupSteps: number): Promise<Slot> {
  const key = `${model}@${batch}`;
  const have = slots.get(key);
  if (have) return have;
  const options = {
    spec: benchSpec(model, meta),
    optimizer: { optimizer: 'sgd' as const, lr: BENCH_LR },
    maxBatch: batch,
    seed,
  };
  let engine: TrainingEngine;
  if (engineName === 'scratch' || engineName === 'scratch-reference') {
    engine = new ScratchEngine({ ...options, kernels: engineName === 'scratch' ? 'fast' : 'reference' });
  } else {
    // Imported here so that the scratch engines' processes never load tfjs.
    const { createTfjsEngine } = await import('../src-main/services/engines');
    engine = await createTfjsEngine(engineName === 'tfjs-cpu' ? 'cpu' : 'wasm', options);
  }
  const trainer = new Trainer(engine, split, batch, seed);
  // Warm-up: the first steps (JIT, kernel setup, buffer allocation) are not timed.
  // The speed estimate skips the first step, which pays for one-time setup.
  if (warmupSteps > 0) trainer.trainStep();
  const t0 = performance.now();
  for (let i = 1; i < warmupSteps; i++) trainer.trainStep();
  const warmMsPerStep = warmupSteps > 1 ? (performance.now() - t0) / (warmupSteps - 1) : NaN;
  const s = { engine, trainer, warmMsPerStep };
  slots.set(key, s);
  return s;
}

/** Forward+backward+update over one epoch (shuffle and gather included), or `capSteps` steps extrapolated when the epoch would exceed capMs. */
async function epoch(c: Extract<WorkerCommand, { cmd: 'epoch' }>): Promise<EpochResult> {
  const s = await slot(c.model, c.batch, c.warmupSteps);
  const { trainer } = s;
  const estimate = s.warmMsPerStep * trainer.stepsPerEpoch;
  if (Number.isFinite(estimate) && estimate > c.capMs) {
    const t0 = performance.now(),
      cpu0 = cpuMs();
    for (let i = 0; i < c.capSteps; i++) trainer.trainStep();
    const perEpoch = trainer.stepsPerEpoch / c.capSteps;
    return {
      ms: (performance.now() - t0) * perEpoch,
      cpuMs: (cpuMs() - cpu0) * perEpoch,
      stepsPerEpoch: trainer.stepsPerEpoch,
      extrapolatedFrom: c.capSteps,
    };
  }
  // Start at an epoch boundary so the timed loop is exactly one epoch.
  while (!trainer.trainStep().epochDone) {
    /* finish the partial epoch left by warm-up */
  }
  const t0 = performance.now(),
    cpu0 = cpuMs();
  let steps = 0;
  for (;;) {
    steps++;
    if (trainer.trainStep().epochDone) break;
  }
  return { ms: performance.now() - t0, cpuMs: cpuMs() - cpu0, stepsPerEpoch: steps, extrapolatedFrom: null };
}

/** ms per training iteration at a batch size: `steps` steps, fewer when they would exceed budgetMs. */
async function steps(c: Extract<WorkerCommand, { cmd: 'steps' }>): Promise<StepsResult> {
  const s = await slot(c.model, c.batch, c.warmupSteps);
  const n = Math.max(
    3,
    Math.min(c.steps, Number.isFinite(s.warmMsPerStep) ? Math.floor(c.budgetMs / s.warmMsPerStep) : c.steps),
  );
  const t0 = performance.now();
  for (let i = 0; i < n; i++) s.trainer.trainStep();
  return { msPerStep: (performance.now() - t0) / n, steps: n };
}

function reply(o: object): void {
  process.stdout.write(`${JSON.stringify({ ...o, maxRssMb: maxRssMb() })}\n`);
}

if (args.serve) {
  reply({ ready: true, engine: engineName });
  const rl = readline.createInterface({ input: process.stdin });
  // Commands run one at a time, in order.
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      const c = JSON.parse(line) as WorkerCommand;
      try {
        if (c.cmd === 'exit') {
          for (const s of slots.values()) s.engine.dispose();
          reply({ exit: true });
          process.exit(0);
        } else if (c.cmd === 'epoch') reply(await epoch(c));
        else reply(await steps(c));
      } catch (e) {
        reply({ error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
} else {
  if (!args.model) throw new Error('--model is required without --serve');
  const repeats = Number(args.repeats);
  const results: EpochResult[] = [];
  for (let r = 0; r < repeats; r++)
    results.push(
      await epoch({ cmd: 'epoch', model: args.model, batch: EPOCH_BATCH, capMs: 20000, capSteps: 20, warmupSteps: 5 }),
    );
  reply({ engine: engineName, model: args.model, results });
  process.exit(0);
}
