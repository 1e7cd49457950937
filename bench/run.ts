/**
 * Lockstep benchmark: `npm run bench [-- --quick] [-- --json] [-- --engines scratch,torch] [-- --networks tdnn]`.
 * Training speed per epoch (scratch — the fast path —, scratch-reference, tfjs-cpu, tfjs-wasm,
 * PyTorch peer), ratios to scratch, the issue's targets checked against them,
 * per-iteration time versus batch size, dataset load time and peak RSS per engine.
 * Each engine runs in its own long-lived child process; the runner interleaves their
 * measurements round by round (warm-up first), so drift in machine load hits all alike.
 * The last stdout line with --json is one JSON object.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { demoDataset } from '../shared/data/demo';
import { median } from '../shared/median';
import { prepareData } from '../shared/train/prepare';
import {
  BENCH_LR,
  BENCH_NETWORKS,
  EPOCH_BATCH,
  NODE_ENGINES,
  benchSpec,
  dumpSplit,
  type EpochResult,
  type StepsResult,
  type WorkerCommand,
} from './common';
import { EE_SET_DIR, timeTrainLoad, type LoadTimes } from './load-time';
import { FAIR_BLAS_HINT, classifyPeerBlas, isFairPeer } from './peer-blas';
import { timeFrontEnd } from './audio-front-end';
import { checkTargets } from './targets';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    /** Comma-separated subsets (default: all). */
    engines: { type: 'string' },
    networks: { type: 'string' },
  },
});
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const quick = args.quick;
const log = (s: string): void => void process.stderr.write(`${s}\n`);

const CFG = quick
  ? {
      repeats: 3,
      capMs: 20000,
      capSteps: 8,
      scalingRepeats: 1,
      scalingSteps: 15,
      scalingBudgetMs: 1500,
      loadRepeats: 3,
    }
  : {
      repeats: 5,
      capMs: 20000,
      capSteps: 20,
      scalingRepeats: 3,
      scalingSteps: 36,
      scalingBudgetMs: 3000,
      loadRepeats: 3,
    };
const BATCH_SIZES = [1, 10, 50, 200];
const SCALING = ['tdnn', 'fnn-50-tanh'];
const ALL_PEERS = [...NODE_ENGINES, 'torch'] as const;
type Peer = (typeof ALL_PEERS)[number];
function subset<T extends string>(option: string | undefined, all: readonly T[], what: string): T[] {
  if (!option) return [...all];
  const picked = option.split(',').map((s) => s.trim());
  for (const p of picked)
    if (!all.includes(p as T)) throw new Error(`--${what}: unknown '${p}' (expected some of ${all.join(', ')})`);
  return all.filter((a) => picked.includes(a));
}
const PEERS: Peer[] = subset(args.engines, ALL_PEERS, 'engines');
const NETWORKS = subset(args.networks, BENCH_NETWORKS, 'networks');
const SCALING_NETWORKS = SCALING.filter((m) => (NETWORKS as string[]).includes(m));

/** A child speaking the line protocol: one command out, one JSON line back. */
class Worker {
  private readonly lines: AsyncIterator<string>;
  lastRssMb = 0;
  constructor(
    readonly name: Peer,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString().trim();
      if (s) log(`[${name}] ${s}`);
    });
    this.lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  async read(): Promise<Record<string, unknown>> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`${this.name} worker exited`);
    const o = JSON.parse(next.value) as Record<string, unknown>;
    if (typeof o.maxRssMb === 'number') this.lastRssMb = o.maxRssMb;
    return o;
  }
  async send<T>(c: WorkerCommand): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(c)}\n`);
    const o = await this.read();
    if (typeof o.error === 'string') throw new Error(`${this.name}: ${o.error}`);
    return o as T;
  }
  async close(): Promise<void> {
    try {
      await this.send({ cmd: 'exit' });
    } catch {
      /* already gone */
    }
    this.child.kill();
  }
}

const stats = (v: number[]) => ({ median: median(v), min: Math.min(...v), max: Math.max(...v) });
const r1 = (x: number): number => Math.round(x * 10) / 10;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  // 1. Data: load time of the real train split (a cold load, then the median of warm ones), then
  //    the prepared split dumped for the workers.
  const dataDir = EE_SET_DIR;
  const haveReal = fs.existsSync(dataDir);
  let load: LoadTimes | null = null;
  let dataset;
  if (haveReal) {
    ({ dataset, times: load } = await timeTrainLoad(dataDir, CFG.loadRepeats));
  } else {
    dataset = demoDataset(70);
  }
  const loadStats = load === null ? null : { ...stats(load.wallMs), cpuMs: median(load.cpuMs), coldMs: load.coldMs };
  const loadMs = loadStats?.median ?? null;
  const prepared = prepareData(dataset!, { standardize: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-'));
  const meta = dumpSplit(tmp, prepared.train, prepared.classes.length, haveReal ? dataDir : 'demo');
  const specs = Object.fromEntries(NETWORKS.map((m) => [m, benchSpec(m, meta)]));
  fs.writeFileSync(path.join(tmp, 'specs.json'), JSON.stringify(specs));
  log(
    `data: ${meta.source}, train ${meta.n}×${meta.frames}×${meta.channels}, ${meta.classes} classes${loadStats !== null ? `, load ${r1(loadStats.median)} ms (CPU ${r1(loadStats.cpuMs)} ms; first ${r1(loadStats.coldMs)} ms)` : ''}; ${quick ? 'quick' : 'full'} run`,
  );

  // 2. Workers, one process per engine.
  const workers = new Map<Peer, Worker>();
  let torchInfo: Record<string, unknown> | null = null;
  const tsxCli = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  for (const e of NODE_ENGINES.filter((n) => PEERS.includes(n))) {
    const child = spawn(
      process.execPath,
      [tsxCli, path.join(here, 'engine-worker.ts'), '--engine', e, '--data', tmp, '--serve'],
      { cwd: repoRoot },
    );
    const w = new Worker(e, child);
    await w.read();
    workers.set(e, w);
  }
  const threadEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  let torchMissing: string | null = PEERS.includes('torch') ? null : 'not asked for (--engines)';
  if (!torchMissing)
    try {
      const child = spawn(
        '/usr/bin/python3',
        [
          path.join(here, 'torch_peer.py'),
          '--data',
          tmp,
          '--specs',
          path.join(tmp, 'specs.json'),
          '--lr',
          String(BENCH_LR),
        ],
        { cwd: repoRoot, env: threadEnv },
      );
      const started = new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', () => resolve());
      });
      await started;
      const w = new Worker('torch', child);
      const first = await w.read();
      if (first.missing) {
        torchMissing = String(first.reason ?? 'import torch failed');
        child.kill();
      } else {
        torchInfo = first;
        workers.set('torch', w);
      }
    } catch (e) {
      torchMissing = e instanceof Error ? e.message : String(e);
    }
  if (torchMissing) log(`torch: missing (${torchMissing})`);
  const torchBlas = torchInfo
    ? classifyPeerBlas(
        (torchInfo.blasLibraries as string[] | undefined) ?? [],
        (torchInfo.blasInfo as string | null) ?? null,
      )
    : null;
  const torchThreads = (torchInfo?.threads as number | undefined) ?? null;
  // Ratios against a peer on the reference BLAS would measure Debian's packaging, not the engines.
  const torchUnfair =
    torchBlas !== null && !isFairPeer(torchBlas)
      ? `torch runs the reference BLAS: ${FAIR_BLAS_HINT}; no ratios against it are reported`
      : null;
  if (torchUnfair) log(`torch: ${torchUnfair}`);
  const ratioPeer = (p: string): boolean => p !== 'scratch' && !(p === 'torch' && torchUnfair);

  const failures: string[] = [];
  const peers = PEERS.filter((p) => workers.has(p));

  // 3. Epoch times, interleaved: every round visits every network on every engine.
  const epochRuns = new Map<string, EpochResult[]>();
  const key = (p: string, m: string) => `${p}|${m}`;
  const epochCmd = (p: Peer, model: string): WorkerCommand => ({
    cmd: 'epoch',
    model,
    batch: EPOCH_BATCH,
    capMs: CFG.capMs,
    // Epochs estimated (from warm-up speed) to exceed capMs are timed over capSteps steps and extrapolated.
    capSteps: CFG.capSteps,
    warmupSteps: 5,
  });
  for (let round = 0; round <= CFG.repeats; round++) {
    const t0 = performance.now();
    for (const model of NETWORKS) {
      for (const p of peers) {
        try {
          const c = epochCmd(p, model) as Extract<WorkerCommand, { cmd: 'epoch' }>;
          // tfjs-cpu: cap conv nets regardless of the estimate; they take seconds per step.
          if (p === 'tfjs-cpu' && model !== 'fnn-50-tanh') c.capMs = 0;
          const r = await workers.get(p)!.send<EpochResult>(c);
          if (round > 0) epochRuns.set(key(p, model), [...(epochRuns.get(key(p, model)) ?? []), r]);
        } catch (e) {
          failures.push(`${p} ${model} epoch: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    log(
      `epoch round ${round === 0 ? 'warm-up' : `${round}/${CFG.repeats}`} done in ${r1((performance.now() - t0) / 1000)} s`,
    );
  }

  // 4. ms per iteration versus batch size, interleaved the same way.
  const scalingRuns = new Map<string, number[]>();
  for (let round = 0; round <= CFG.scalingRepeats; round++) {
    const t0 = performance.now();
    for (const model of SCALING_NETWORKS) {
      for (const batch of BATCH_SIZES) {
        for (const p of peers) {
          try {
            const r = await workers.get(p)!.send<StepsResult>({
              cmd: 'steps',
              model,
              batch,
              steps: CFG.scalingSteps,
              budgetMs: CFG.scalingBudgetMs,
              warmupSteps: 3,
            });
            if (round > 0)
              scalingRuns.set(`${p}|${model}|${batch}`, [
                ...(scalingRuns.get(`${p}|${model}|${batch}`) ?? []),
                r.msPerStep,
              ]);
          } catch (e) {
            failures.push(`${p} ${model} batch ${batch}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
      }
    }
    log(
      `batch-scaling round ${round === 0 ? 'warm-up' : `${round}/${CFG.scalingRepeats}`} done in ${r1((performance.now() - t0) / 1000)} s`,
    );
  }

  for (const w of workers.values()) await w.close();
  fs.rmSync(tmp, { recursive: true, force: true });

  // 5. Results.
  type Cell = {
    msPerEpoch: number;
    min: number;
    max: number;
    cpuMsPerEpoch: number;
    repeats: number;
    stepsPerEpoch: number;
    extrapolatedFromSteps: number | null;
    note?: string;
  } | null;
  const networks: Record<string, Record<string, Cell>> = {};
  const ratios: Record<string, Record<string, number | null>> = {};
  const cpuRatios: Record<string, Record<string, number | null>> = {};
  for (const model of NETWORKS) {
    networks[model] = {};
    for (const p of PEERS) {
      const runs = epochRuns.get(key(p, model));
      if (!runs?.length) {
        networks[model][p] = null;
        continue;
      }
      const s = stats(runs.map((r) => r.ms));
      const ex = runs[0].extrapolatedFrom;
      networks[model][p] = {
        msPerEpoch: r1(s.median),
        min: r1(s.min),
        max: r1(s.max),
        cpuMsPerEpoch: r1(median(runs.map((r) => r.cpuMs))),
        repeats: runs.length,
        stepsPerEpoch: runs[0].stepsPerEpoch,
        extrapolatedFromSteps: ex,
        ...(ex ? { note: `extrapolated from ${ex} steps to ${runs[0].stepsPerEpoch}` } : {}),
      };
    }
    const ratioTo = (field: 'msPerEpoch' | 'cpuMsPerEpoch') => {
      const base = networks[model].scratch?.[field];
      return Object.fromEntries(
        PEERS.filter(ratioPeer).map((p) => [
          p,
          base && networks[model][p] ? r3(networks[model][p]![field] / base) : null,
        ]),
      );
    };
    ratios[model] = ratioTo('msPerEpoch');
    cpuRatios[model] = ratioTo('cpuMsPerEpoch');
  }
  const batchScaling: Record<
    string,
    Record<string, Record<string, { msPerIter: number; min: number; max: number } | null>>
  > = {};
  for (const model of SCALING_NETWORKS) {
    batchScaling[model] = {};
    for (const p of PEERS) {
      batchScaling[model][p] = {};
      for (const b of BATCH_SIZES) {
        const v = scalingRuns.get(`${p}|${model}|${b}`);
        batchScaling[model][p][String(b)] = v?.length
          ? (({ median: m, min, max }) => ({ msPerIter: r3(m), min: r3(min), max: r3(max) }))(stats(v))
          : null;
      }
    }
  }
  const peakRssMb = Object.fromEntries(PEERS.map((p) => [p, workers.has(p) ? r1(workers.get(p)!.lastRssMb) : null]));
  const medians = (field: 'msPerEpoch' | 'cpuMsPerEpoch') =>
    Object.fromEntries(
      Object.entries(networks).map(([m, cells]) => [
        m,
        Object.fromEntries(
          Object.entries(cells)
            .filter(([p]) => p === 'scratch' || ratioPeer(p))
            .map(([p, c]) => [p, c?.[field] ?? null]),
        ),
      ]),
    );
  const audio = timeFrontEnd(quick ? 100 : 300);
  const targets = checkTargets({
    msPerEpoch: medians('msPerEpoch'),
    loadMs,
    peakRssMb,
    audioMsPerSecond: audio.msPerSecond,
  });
  const cpuTargets = checkTargets({
    msPerEpoch: medians('cpuMsPerEpoch'),
    loadMs: loadStats?.cpuMs ?? null,
    peakRssMb,
    audioMsPerSecond: audio.cpuMsPerSecond,
  });
  const cpus = os.cpus();
  const result = {
    machine: {
      cpus: cpus.length,
      model: cpus[0]?.model ?? 'unknown',
      node: process.version,
      torch: (torchInfo?.torch as string | undefined) ?? null,
      loadavg: os.loadavg().map(r1),
    },
    protocol: {
      data: meta.source,
      train: [meta.n, meta.frames, meta.channels],
      classes: meta.classes,
      standardized: true,
      batch: EPOCH_BATCH,
      optimizer: 'sgd',
      lr: BENCH_LR,
      threads: 1,
      quick,
      repeats: CFG.repeats,
    },
    networks,
    ratios,
    cpuRatios,
    batchScaling,
    loadMs: loadMs === null ? null : r1(loadMs),
    load:
      loadStats === null
        ? null
        : {
            min: r1(loadStats.min),
            max: r1(loadStats.max),
            cpuMs: r1(loadStats.cpuMs),
            coldMs: r1(loadStats.coldMs),
            repeats: CFG.loadRepeats,
          },
    peakRssMb,
    audioFrontEnd: {
      msPerSecond: r3(audio.msPerSecond),
      min: r3(audio.min),
      max: r3(audio.max),
      cpuMsPerSecond: r3(audio.cpuMsPerSecond),
      realTimeFactor: Math.round(audio.realTimeFactor),
    },
    targets,
    cpuTargets,
    torchMissing,
    torchBlas,
    torchThreads,
    torchUnfair,
    failures,
  };

  // Human-readable tables.
  const out: string[] = [];
  const fmt = (c: Cell): string =>
    c
      ? `${Math.round(c.msPerEpoch)} (${Math.round(c.min)}–${Math.round(c.max)})${c.extrapolatedFromSteps ? ` ‡${c.extrapolatedFromSteps}` : ''}`
      : 'missing';
  out.push(
    `## ms per training epoch (train ${meta.n} examples, batch ${EPOCH_BATCH}, SGD lr ${BENCH_LR}; median (min–max) of ${CFG.repeats})`,
    '',
  );
  const others = PEERS.filter(ratioPeer);
  out.push(`| network | ${PEERS.join(' | ')} | ${others.map((p) => `${p}/scratch`).join(' | ')} |`);
  out.push(`|---|${PEERS.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`);
  for (const model of NETWORKS) {
    out.push(
      `| ${model} | ${PEERS.map((p) => fmt(networks[model][p])).join(' | ')} | ${others.map((p) => ratios[model][p] ?? '—').join(' | ')} |`,
    );
  }
  out.push(
    '',
    `## CPU ms per training epoch (the engine process's CPU time over the same epochs, median; steadier than wall time when other jobs share the cores)`,
    '',
  );
  out.push(`| network | ${PEERS.join(' | ')} | ${others.map((p) => `${p}/scratch`).join(' | ')} |`);
  out.push(`|---|${PEERS.map(() => '---:').join('|')}|${others.map(() => '---:').join('|')}|`);
  for (const model of NETWORKS) {
    out.push(
      `| ${model} | ${PEERS.map((p) => (networks[model][p] ? String(Math.round(networks[model][p]!.cpuMsPerEpoch)) : 'missing')).join(' | ')} | ${others.map((p) => cpuRatios[model][p] ?? '—').join(' | ')} |`,
    );
  }
  const notes = NETWORKS.flatMap((m) =>
    PEERS.filter((p) => networks[m][p]?.note).map((p) => `${m}/${p}: ${networks[m][p]!.note}`),
  );
  if (notes.length)
    out.push('', `‡ extrapolated from N timed steps (after warm-up) to the full epoch: ${notes.join('; ')}`);
  out.push('', '## ms per training iteration vs batch size (median)', '');
  out.push(
    `| network | engine | ${BATCH_SIZES.map((b) => `b=${b}`).join(' | ')} |`,
    `|---|---|${BATCH_SIZES.map(() => '---:').join('|')}|`,
  );
  for (const model of SCALING_NETWORKS) {
    for (const p of PEERS)
      out.push(
        `| ${model} | ${p} | ${BATCH_SIZES.map((b) => batchScaling[model][p][String(b)]?.msPerIter.toFixed(2) ?? '—').join(' | ')} |`,
      );
  }
  const loadLine = (l: NonNullable<typeof result.load>): string =>
    `${result.loadMs} ms (${l.min}–${l.max}; median of ${l.repeats} after a first load of ${l.coldMs} ms), CPU ${l.cpuMs} ms`;
  out.push('', `train-split load: ${result.load === null ? 'n/a (no ee-set; demo data)' : loadLine(result.load)}`);
  const a = result.audioFrontEnd;
  out.push(
    `audio front end (log mel, 1 s of 16 kHz): ${a.msPerSecond} ms (${a.min}–${a.max}), ` +
      `CPU ${a.cpuMsPerSecond} ms: ${a.realTimeFactor}× real time`,
  );
  out.push(`peak RSS MB: ${PEERS.map((p) => `${p} ${peakRssMb[p] ?? '—'}`).join(', ')}`);
  const met = (m: boolean | null): string => (m === null ? 'not measured' : m ? 'yes' : 'NO');
  out.push(
    '',
    '## targets (ratios of medians from this run)',
    '',
    '| target | wall-time ratio | met | CPU-time ratio | met |',
    '|---|---:|---|---:|---|',
  );
  targets.forEach((t, i) =>
    out.push(
      `| ${t.target} | ${t.value ?? '—'} | ${met(t.met)} | ${cpuTargets[i].value ?? '—'} | ${met(cpuTargets[i].met)} |`,
    ),
  );
  const torchLine =
    result.machine.torch === null
      ? 'missing'
      : `${result.machine.torch} (BLAS ${torchBlas}, ${torchThreads} thread${torchThreads === 1 ? '' : 's'})`;
  out.push(
    '',
    `machine: ${result.machine.cpus}× ${result.machine.model}, node ${result.machine.node}, torch ${torchLine}, load avg ${result.machine.loadavg.join(' ')}`,
  );
  if (torchUnfair) out.push('', `torch: ${torchUnfair}`);
  if (failures.length) out.push('', 'failures:', ...failures.map((f) => `- ${f}`));
  if (args.json) {
    log(out.join('\n'));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

await main();
