import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Split } from '../../shared/data/dataset';
import { LockstepError } from '../../shared/errors';
import type { CheckpointManifest } from '../../shared/model/checkpoint';
import {
  backendKind,
  engineKind,
  specSchema,
  trainingSettingsSchema,
  type EpochPoint,
  type RunDetail,
  type RunSummary,
  type StepPoint,
} from '../../shared/protocol';
import { writeFileAtomic } from '../store/atomic';
import { removeUnreferencedWeights, writeCheckpoint } from '../store/checkpoint-dir';
import { ATOMIC_TEMP, sweepStale } from '../store/stale';
import { encodeSplits, readSplits } from '../store/split-file';

/**
 * Every run the app has started, one folder each under `<root>/<id>/`:
 *
 * - `run.json`: the RunSummary, replaced atomically on every state change and epoch;
 * - `metrics.jsonl`: one JSON line per batch of steps (`{"steps": […]}`) or per epoch
 *   (`{"epochs": […]}`), appended as the worker reports them, so a crash loses at most the
 *   steps not yet reported (a torn last line is ignored on reading);
 * - `predictions.bin`: at the end, every example's class probabilities per split (a split
 *   file: `frames` 1, `channels` = classes, labels and ids), for `runs.examples`;
 * - `checkpoint/`: the weights of a completed epoch, replaced at an epoch's end at most once a
 *   second, then the final weights (see store/checkpoint-dir); an interrupted run is exported and resumed from it.
 *
 * On opening, runs left 'running', 'paused' or 'queued' by a process that died are marked
 * 'interrupted', and the temp files of writes it did not finish are removed; a folder whose
 * run.json cannot be read is reported with console.warn and skipped.
 */
const RUN_FILE = 'run.json';
const METRICS_FILE = 'metrics.jsonl';
const PREDICTIONS_FILE = 'predictions.bin';
export const RUN_CHECKPOINT_DIR = 'checkpoint';

const splitResult = z.object({
  n: z.number(),
  loss: z.number().nullable(),
  accuracy: z.number().nullable(),
  confusion: z.array(z.array(z.number())),
});

/** What run.json must hold to be listed (extra keys are kept, not checked). */
const runFileSchema = z.looseObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  name: z.string(),
  datasetId: z.string(),
  datasetName: z.string(),
  engine: engineKind,
  backend: backendKind,
  state: z.enum(['queued', 'running', 'paused', 'stopped', 'finished', 'failed', 'interrupted']),
  error: z.string().optional(),
  createdAt: z.string(),
  spec: specSchema,
  settings: trainingSettingsSchema,
  params: z.number().int().min(0),
  epochsDone: z.number().int().min(0),
  results: z.partialRecord(z.enum(['train', 'dev', 'eval']), splitResult).optional(),
});

const ACTIVE_STATES = new Set(['running', 'paused', 'queued']);

export class RunStore {
  private readonly runs = new Map<string, RunSummary>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    for (const name of readdirSync(root)) {
      const dir = join(root, name);
      const file = join(dir, RUN_FILE);
      if (!existsSync(file)) {
        if (!name.startsWith('.')) console.warn(`lockstep: skipping the run folder ${dir}: it holds no run.json`);
        continue;
      }
      let run: RunSummary;
      try {
        const parsed = runFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new Error(`field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
        }
        run = parsed.data as unknown as RunSummary;
        if (run.id !== name) throw new Error(`its id '${run.id}' does not match its folder`);
      } catch (e) {
        console.warn(`lockstep: skipping the run folder ${dir}: run.json is unreadable (${(e as Error).message})`);
        continue;
      }
      this.runs.set(run.id, run);
      // Temp files of a process killed mid-write (run.json, checkpoint.json, weights).
      sweepStale(dir, ATOMIC_TEMP);
      removeUnreferencedWeights(this.checkpointDir(run.id));
      if (ACTIVE_STATES.has(run.state)) {
        this.update(run.id, {
          state: 'interrupted',
          error: `interrupted: the app stopped while this run was ${run.state}`,
        });
      }
    }
  }

  private dir(id: string): string {
    return join(this.root, id);
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  /** Newest first. */
  list(): RunSummary[] {
    return [...this.runs.values()]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .map((r) => structuredClone(r));
  }

  get(id: string): RunSummary {
    const run = this.runs.get(id);
    if (!run) throw new LockstepError(`no run with id '${id}' (it may have been deleted)`);
    return structuredClone(run);
  }

  create(run: RunSummary): RunSummary {
    if (this.runs.has(run.id)) throw new Error(`run ${run.id} exists`);
    mkdirSync(this.dir(run.id), { recursive: true });
    this.write(run);
    this.runs.set(run.id, run);
    return structuredClone(run);
  }

  update(id: string, patch: Partial<RunSummary>): RunSummary {
    const run = this.runs.get(id);
    if (!run) throw new LockstepError(`no run with id '${id}' (it may have been deleted)`);
    Object.assign(run, patch);
    if ('error' in patch && patch.error === undefined) delete run.error;
    this.write(run);
    return structuredClone(run);
  }

  private write(run: RunSummary): void {
    writeFileAtomic(join(this.dir(run.id), RUN_FILE), JSON.stringify(run, null, 1));
  }

  appendSteps(id: string, steps: StepPoint[]): void {
    if (steps.length && this.runs.has(id))
      appendFileSync(join(this.dir(id), METRICS_FILE), JSON.stringify({ steps }) + '\n');
  }

  appendEpochs(id: string, epochs: EpochPoint[]): void {
    if (epochs.length && this.runs.has(id))
      appendFileSync(join(this.dir(id), METRICS_FILE), JSON.stringify({ epochs }) + '\n');
  }

  /** Drops the metrics past a run's first `epochs` epochs and `steps` steps (a resumed run trains them again). */
  truncateMetrics(id: string, epochs: number, steps: number): void {
    const { epochs: kept, steps: keptSteps } = this.detail(id);
    const lines = [
      JSON.stringify({ steps: keptSteps.filter((s) => s.step <= steps) }),
      JSON.stringify({ epochs: kept.filter((e) => e.epoch <= epochs) }),
    ];
    writeFileAtomic(join(this.dir(id), METRICS_FILE), lines.join('\n') + '\n');
  }

  detail(id: string): RunDetail {
    const run = this.get(id);
    const epochs: EpochPoint[] = [];
    const steps: StepPoint[] = [];
    let text = '';
    try {
      text = readFileSync(join(this.dir(id), METRICS_FILE), 'utf8');
    } catch {
      // no metrics yet
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as { steps?: StepPoint[]; epochs?: EpochPoint[] };
        if (Array.isArray(entry.steps)) steps.push(...entry.steps);
        if (Array.isArray(entry.epochs)) epochs.push(...entry.epochs);
      } catch {
        // a line torn by a crash: the rest is still good
      }
    }
    return { ...run, epochs, steps };
  }

  savePredictions(id: string, splits: Record<string, Split>): void {
    if (this.runs.has(id)) writeFileAtomic(join(this.dir(id), PREDICTIONS_FILE), encodeSplits(splits));
  }

  /** The examples of one confusion-matrix cell: true class `trueClass`, predicted `predictedClass`. */
  examples(
    id: string,
    split: string,
    trueClass: number,
    predictedClass: number,
  ): Array<{ index: number; id: string; probabilities: number[] }> {
    const run = this.get(id);
    const file = join(this.dir(id), PREDICTIONS_FILE);
    if (!existsSync(file)) {
      throw new LockstepError(
        `run ${run.name} has no per-example results${run.state === 'finished' || run.state === 'stopped' ? '' : ` (it is ${run.state})`}`,
      );
    }
    const s = readSplits(file).get(split);
    if (!s) throw new LockstepError(`run ${run.name} has no results for the ${split} split`);
    const K = s.channels;
    const out: Array<{ index: number; id: string; probabilities: number[] }> = [];
    for (let i = 0; i < s.n; i++) {
      if (s.y[i] !== trueClass) continue;
      let best = 0;
      for (let k = 1; k < K; k++) if (s.x[i * K + k] > s.x[i * K + best]) best = k;
      if (best === predictedClass)
        out.push({ index: i, id: s.ids[i], probabilities: Array.from(s.x.subarray(i * K, (i + 1) * K)) });
    }
    return out;
  }

  saveCheckpoint(id: string, manifest: Omit<CheckpointManifest, 'weightsFile'>, bytes: Uint8Array): string | null {
    if (!this.runs.has(id)) return null;
    return writeCheckpoint(this.checkpointDir(id), manifest, bytes);
  }

  checkpointDir(id: string): string {
    return join(this.dir(id), RUN_CHECKPOINT_DIR);
  }

  hasCheckpoint(id: string): boolean {
    return existsSync(join(this.checkpointDir(id), 'checkpoint.json'));
  }

  delete(id: string): boolean {
    if (!this.runs.delete(id)) return false;
    rmSync(this.dir(id), { recursive: true, force: true });
    return true;
  }
}
