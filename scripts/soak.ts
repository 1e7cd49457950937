/**
 * Memory soak: trains `tdnn` for many epochs with each engine and checks memory stays flat.
 *
 *     npm run soak [-- --engines scratch,tfjs] [--epochs 500] [--warmup 10] [--data PATH] [--json]
 *
 * Each engine runs in its own child process (so one engine's heap never counts against the
 * other), training exactly as the CLI does (Trainer steps, then each epoch's evaluation of
 * train and dev). After every epoch the child records its RSS and tf.memory().numTensors,
 * after a full garbage collection (the script runs Node with --expose-gc) so the figures are
 * what stays alive, not garbage not yet collected (numTensors is 0 for the scratch engine,
 * which uses no tfjs). Targets (issue 6): RSS growth from the end
 * of the warm-up epochs to the last epoch ≤ 10 MB, and numTensors the same after every epoch.
 * Without --data the built-in demo dataset is used (900 train examples); with the ee-set
 * (5060 train examples) an epoch takes about 5.6 times longer. Exits 1 if a target is missed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { Trainer } from '../shared/train/trainer';
import { createEngine, type EngineName } from '../src-main/services/engines';
import { setUpRun } from '../src-main/services/run-setup';

const RSS_GROWTH_LIMIT_MB = 10;
const MB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    engines: { type: 'string', default: 'scratch,tfjs' },
    epochs: { type: 'string', default: '500' },
    warmup: { type: 'string', default: '10' },
    data: { type: 'string' },
    json: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

interface SoakResult {
  engine: string;
  epochs: number;
  warmupEpochs: number;
  data: string;
  stepsPerEpoch: number;
  rssAfterWarmupMb: number;
  rssEndMb: number;
  rssGrowthMb: number;
  rssMaxMb: number;
  numTensorsFirst: number;
  numTensorsMin: number;
  numTensorsMax: number;
  secondsPerEpoch: number;
  finalTrainLoss: number;
  ok: boolean;
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);

function liveRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/** The child: one engine, `epochs` epochs; prints one JSON line. */
async function soak(engineName: EngineName): Promise<SoakResult> {
  const epochs = Number(args.epochs);
  const warmup = Number(args.warmup);
  if (!(Number.isInteger(epochs) && epochs > 0 && Number.isInteger(warmup) && warmup >= 1 && warmup < epochs)) {
    throw new Error(
      `--epochs must be a positive integer and --warmup an integer in 1…epochs−1, got ${args.epochs} and ${args.warmup}`,
    );
  }
  const { settings, data, engineOptions } = await setUpRun('tdnn', args.data, { epochs });
  const engine = await createEngine({ engine: engineName, backend: 'cpu' }, engineOptions);
  const trainer = new Trainer(engine, data.train, settings.batch, settings.seed);
  const tensors: number[] = [];
  const rss: number[] = [];
  const t0 = performance.now();
  let lastLog = t0;
  let lastLoss = NaN;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    while (!trainer.trainStep().epochDone) {
      // steps until the epoch ends
    }
    lastLoss = trainer.finishEpoch(data.dev, data.classes.length).trainLoss;
    rss.push(liveRss());
    tensors.push(engineName === 'tfjs' ? tf.memory().numTensors : 0); // the scratch engine holds no tensors
    // Progress every 50 epochs, or every minute when epochs are slow (a long soak reports as it goes).
    if (epoch % 50 === 0 || epoch === warmup || performance.now() - lastLog > 60_000) {
      lastLog = performance.now();
      log(
        `[${engine.id}] epoch ${epoch}: rss ${(rss[rss.length - 1] / MB).toFixed(1)} MB, numTensors ${tensors[tensors.length - 1]}, loss ${lastLoss.toFixed(4)}`,
      );
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  engine.dispose();
  const after = rss[warmup - 1];
  const end = rss[rss.length - 1];
  const growth = (end - after) / MB;
  const post = tensors.slice(warmup - 1);
  const result: SoakResult = {
    engine: engine.id,
    epochs,
    warmupEpochs: warmup,
    data: args.data ?? 'demo',
    stepsPerEpoch: trainer.stepsPerEpoch,
    rssAfterWarmupMb: after / MB,
    rssEndMb: end / MB,
    rssGrowthMb: growth,
    rssMaxMb: Math.max(...rss) / MB,
    numTensorsFirst: tensors[0],
    numTensorsMin: Math.min(...tensors),
    numTensorsMax: Math.max(...tensors),
    secondsPerEpoch: seconds / epochs,
    finalTrainLoss: lastLoss,
    ok: growth <= RSS_GROWTH_LIMIT_MB && Math.min(...post) === Math.max(...post),
  };
  return result;
}

async function main(): Promise<void> {
  if (args.child) {
    process.stdout.write(JSON.stringify(await soak(args.child as EngineName)) + '\n');
    return;
  }
  const engines = args.engines!.split(',').map((e) => e.trim());
  for (const e of engines)
    if (e !== 'scratch' && e !== 'tfjs') throw new Error(`--engines takes scratch and/or tfjs, got '${e}'`);
  const self = fileURLToPath(import.meta.url);
  const results: SoakResult[] = [];
  for (const engine of engines) {
    const childArgs = [
      '--expose-gc',
      '--import',
      'tsx',
      self,
      '--child',
      engine,
      '--epochs',
      args.epochs!,
      '--warmup',
      args.warmup!,
      ...(args.data ? ['--data', args.data] : []),
    ];
    const r = spawnSync(process.execPath, childArgs, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`the ${engine} soak exited with ${r.status ?? r.signal}`);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as SoakResult;
    results.push(result);
    log(
      `${result.engine}: ${result.epochs} epochs of tdnn on ${result.data} (${result.stepsPerEpoch} steps each, ${result.secondsPerEpoch.toFixed(2)} s/epoch): ` +
        `RSS ${result.rssAfterWarmupMb.toFixed(1)} MB after ${result.warmupEpochs} warm-up epochs → ${result.rssEndMb.toFixed(1)} MB at the end ` +
        `(growth ${result.rssGrowthMb.toFixed(1)} MB, limit ${RSS_GROWTH_LIMIT_MB}); numTensors ${result.numTensorsMin}–${result.numTensorsMax}: ${result.ok ? 'ok' : 'FAILED'}`,
    );
  }
  if (args.json) process.stdout.write(JSON.stringify(results) + '\n');
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  log(`soak: ${(e as Error).message}`);
  process.exitCode = 2;
});
