import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveSpec } from '../../shared/engine/spec';
import { LockstepError } from '../../shared/errors';
import { BUILTIN_EXPERIMENTS } from '../../shared/experiment/course';
import { expandExperiment, type ExperimentPlan, type PlannedRun } from '../../shared/experiment/grid';
import { bestRow, plannedRow, rowFromRun, withAgreement, type RunRecord } from '../../shared/experiment/results';
import { runName } from '../../shared/run-name';
import type {
  Events,
  ExperimentRow,
  ExperimentSpec,
  ExperimentState,
  ExperimentSummary,
  Params,
  RunSummary,
} from '../../shared/protocol';
import type { DatasetLibrary } from '../services/dataset-library';
import type { RunStore } from '../services/run-store';
import type { TrainingSessions } from '../services/training-sessions';
import { writeFileAtomic } from '../store/atomic';
import { writeExperimentReport } from './report-files';
import { startTiming, type TimingJob } from './timing';

/**
 * Experiments: a plan of runs (shared/experiment/grid.ts) queued on the app's TrainingSessions —
 * so each is an ordinary run, in its own worker thread, as many at once as the sessions allow,
 * listed and opened like any other — then, once every run has ended, a timing measurement
 * (timing.ts) and the report (report-files.ts).
 *
 * Each experiment writes into its folder (`<root>/<id>/` in the app, the CLI's `--out DIR`):
 *
 *     experiment.json             the ExperimentSummary, replaced atomically on every change
 *     spec.json                   the experiment as given
 *     runs/<row key>/run.json     each run's summary, epoch curves and per-step losses
 *     runs/<row key>/checkpoint/  its final weights
 *     report.html, report.md, figures/, results.json, results.csv
 */
type Emit = <E extends keyof Events>(event: E, payload: Events[E]) => void;

export interface ExperimentDeps {
  sessions: TrainingSessions;
  runs: RunStore;
  datasets: DatasetLibrary;
  emit: Emit;
  /** Subscribes to every run's state changes (the sessions' run.state events). */
  onRunState(listener: (run: RunSummary) => void): () => void;
}

export interface StartOptions {
  /** Where to write (default `<root>/<id>`). */
  outDir?: string;
  /** The command line, quoted in the report. */
  command?: string;
}

interface Active {
  summary: ExperimentSummary;
  plan: ExperimentPlan;
  records: Map<string, RunRecord>;
  stopped: boolean;
  timing: TimingJob | null;
  done: Promise<ExperimentSummary>;
}

const SUMMARY_FILE = 'experiment.json';
const TERMINAL: ReadonlySet<ExperimentState> = new Set(['finished', 'stopped', 'failed', 'interrupted']);
const RUN_TERMINAL: ReadonlySet<ExperimentRow['state']> = new Set(['finished', 'stopped', 'failed', 'interrupted']);

export function machineDescription(): string {
  return `${availableParallelism()} cores, Node ${process.version}, ${process.platform} ${process.arch}`;
}

export class Experiments {
  private readonly summaries = new Map<string, ExperimentSummary>();
  private readonly active = new Map<string, Active>();
  private closing = false;

  constructor(
    readonly root: string,
    private readonly deps: ExperimentDeps,
  ) {
    mkdirSync(root, { recursive: true });
    for (const name of readdirSync(root)) {
      const file = join(root, name, SUMMARY_FILE);
      if (!existsSync(file)) continue;
      try {
        const summary = JSON.parse(readFileSync(file, 'utf8')) as ExperimentSummary;
        if (summary?.id !== name || !Array.isArray(summary.rows))
          throw new Error('not an experiment summary of this folder');
        if (!TERMINAL.has(summary.state)) {
          const stopped = (what: string, state: string): string =>
            `interrupted: the app stopped while this ${what} was ${state}`;
          Object.assign(summary, { state: 'interrupted', error: stopped('experiment', summary.state) });
          // A process killed mid-experiment left rows planned, queued or running: none of them will end now.
          for (const row of summary.rows) {
            if (RUN_TERMINAL.has(row.state)) continue;
            Object.assign(row, { state: 'interrupted', error: stopped('run', row.state) });
          }
          this.save(summary);
        }
        this.summaries.set(name, summary);
      } catch (e) {
        console.warn(`lockstep: skipping the experiment folder ${join(root, name)}: ${(e as Error).message}`);
      }
    }
  }

  builtins(): ExperimentSpec[] {
    return [...BUILTIN_EXPERIMENTS.values()].map((e) => structuredClone(e));
  }

  /** Newest first. */
  list(): ExperimentSummary[] {
    return [...this.summaries.values()]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .map((s) => structuredClone(s));
  }

  get(id: string): ExperimentSummary {
    const s = this.summaries.get(id);
    if (!s) throw new LockstepError(`no experiment with id '${id}'`);
    return structuredClone(s);
  }

  /** Resolves with the final summary once the experiment has ended (report written). */
  finished(id: string): Promise<ExperimentSummary> {
    return this.active.get(id)?.done ?? Promise.resolve(this.get(id));
  }

  /** Checks the experiment against the dataset, queues every run and returns at once. */
  start(params: Params<'experiments.start'>, options: StartOptions = {}): ExperimentSummary {
    if (this.closing) throw new LockstepError('the app is shutting down');
    const experiment =
      typeof params.experiment === 'string' ? BUILTIN_EXPERIMENTS.get(params.experiment) : params.experiment;
    if (!experiment)
      throw new LockstepError(
        `no built-in experiment '${params.experiment}' (expected one of ${[...BUILTIN_EXPERIMENTS.keys()].join(', ')}, or an experiment spec)`,
      );
    const plan = expandExperiment(experiment, { epochs: params.epochs });
    const dataset = this.deps.datasets.get(params.datasetId);
    // Checked against the dataset before anything is queued, so a misfit is one error, not N failed runs.
    const rows = plan.runs.map((run) => {
      try {
        return plannedRow(
          run,
          resolveSpec({ ...run.spec, input: [run.settings.frames, dataset.channels] }, dataset.classes.length)
            .paramCount,
        );
      } catch (e) {
        throw new LockstepError(
          `experiment "${experiment.name}", run ${run.key} on dataset ${dataset.name}: ${(e as Error).message}`,
        );
      }
    });
    const id = `exp-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const outDir = resolve(options.outDir ?? join(this.root, id));
    mkdirSync(outDir, { recursive: true });
    const summary: ExperimentSummary = {
      id,
      name: experiment.name,
      ...(experiment.description ? { description: experiment.description } : {}),
      datasetId: dataset.id,
      datasetName: dataset.name,
      state: 'running',
      createdAt: new Date().toISOString(),
      outDir,
      rows,
      timing: [],
      bestKey: null,
      reportFiles: [],
    };
    writeFileAtomic(join(outDir, 'spec.json'), JSON.stringify(experiment, null, 1));
    this.summaries.set(id, summary);
    const active: Active = {
      summary,
      plan,
      records: new Map(),
      stopped: false,
      timing: null,
      done: Promise.resolve(summary),
    };
    this.active.set(id, active);
    // Every run is queued now: the sessions start them as cores free up, and a stop reaches them all.
    plan.runs.forEach((run, i) => {
      try {
        const { spec, settings, engine, backend } = run;
        const context = `${experiment.name}: ${run.label}`;
        const name = runName({ layers: spec.layers, engine, backend, datasetName: dataset.name, context });
        const started = this.deps.sessions.start({ datasetId: dataset.id, spec, settings, engine, backend, name });
        rows[i] = { ...rows[i], runId: started.id, state: started.state };
      } catch (e) {
        rows[i] = { ...rows[i], state: 'failed', error: (e as Error).message };
      }
    });
    this.save(summary);
    active.done = this.drive(active, options.command).catch((e: unknown) => {
      console.error(`lockstep: experiment ${id} failed:`, e);
      this.setState(active, 'failed', { error: `the experiment failed: ${(e as Error)?.message ?? String(e)}` });
      return this.get(id);
    });
    return this.get(id);
  }

  private save(summary: ExperimentSummary): void {
    writeFileAtomic(join(summary.outDir, SUMMARY_FILE), JSON.stringify(summary, null, 1));
    this.deps.emit('experiment.state', structuredClone(summary));
  }

  private setState(active: Active, state: ExperimentState, extra: Partial<ExperimentSummary> = {}): void {
    Object.assign(active.summary, { state, ...extra });
    if (TERMINAL.has(state)) active.summary.finishedAt = new Date().toISOString();
    this.save(active.summary);
  }

  private updateRow(active: Active, row: ExperimentRow): void {
    const rows = active.summary.rows;
    rows[rows.findIndex((r) => r.key === row.key)] = row;
    this.deps.emit('experiment.row', { experimentId: active.summary.id, row: structuredClone(row) });
  }

  private async drive(active: Active, command: string | undefined): Promise<ExperimentSummary> {
    const { summary, plan } = active;
    const planned = new Map(plan.runs.map((r) => [r.key, r]));
    const unsubscribe = this.deps.onRunState((run) => {
      const row = summary.rows.find((r) => r.runId === run.id);
      // A run's end is recorded by record(), with its results, once its worker has exited.
      if (!row || RUN_TERMINAL.has(row.state) || RUN_TERMINAL.has(run.state) || row.state === run.state) return;
      this.updateRow(active, { ...row, state: run.state, epochsDone: run.epochsDone });
      this.save(summary);
    });
    try {
      await Promise.all(
        summary.rows.map(async (row) => {
          if (!row.runId) return;
          await this.deps.sessions.exited(row.runId);
          this.record(active, planned.get(row.key)!, row.runId);
        }),
      );
    } finally {
      unsubscribe();
    }
    if (this.closing) {
      this.setState(active, 'interrupted', { error: 'interrupted: the app closed while this experiment was running' });
      return this.get(summary.id);
    }
    if (plan.timing.length && !active.stopped) {
      this.setState(active, 'timing');
      active.timing = startTiming(
        { dataset: this.deps.datasets.ref(summary.datasetId), targets: plan.timing },
        (point) => {
          summary.timing.push(point);
          this.save(summary);
        },
      );
      const { error } = await active.timing.done;
      active.timing = null;
      if (error && !active.stopped && !this.closing) summary.error = `timing: ${error}`;
    }
    this.setState(active, 'reporting');
    const allFailed = summary.rows.every((r) => r.state === 'failed');
    const final: ExperimentState = active.stopped ? 'stopped' : allFailed ? 'failed' : 'finished';
    const dataset = this.deps.datasets.get(summary.datasetId);
    const records = plan.runs.map((r) => active.records.get(r.key)).filter((r): r is RunRecord => r !== undefined);
    summary.reportFiles = writeExperimentReport(summary.outDir, {
      experiment: plan.experiment,
      summary: { ...summary, state: final },
      records,
      classes: dataset.classes,
      splits: Object.fromEntries(Object.entries(dataset.splits).map(([k, s]) => [k, s.kept])),
      machine: machineDescription(),
      command,
    });
    this.setState(active, final, allFailed && !summary.error ? { error: 'every run failed' } : {});
    this.active.delete(summary.id);
    return this.get(summary.id);
  }

  /** A run has ended: its row, record and folder under runs/; the cell's agreement and the best row. */
  private record(active: Active, run: PlannedRun, runId: string): void {
    if (!this.deps.runs.has(runId)) {
      const row = active.summary.rows.find((r) => r.key === run.key)!;
      this.updateRow(active, { ...row, state: 'failed', error: 'the run was deleted before it ended' });
      this.save(active.summary);
      return;
    }
    const detail = this.deps.runs.detail(runId);
    const { epochs, steps, ...summaryOnly } = detail;
    const row = rowFromRun(
      active.summary.rows.find((r) => r.key === run.key)!,
      summaryOnly,
      epochs,
    );
    const stepLosses = steps.map((s) => s.losses[run.engineId] ?? Object.values(s.losses)[0]);
    active.records.set(run.key, {
      row,
      spec: detail.spec as RunRecord['spec'],
      settings: run.settings,
      epochs,
      stepLosses,
      results: detail.results ?? {},
    });
    const dir = join(active.summary.outDir, 'runs', run.key);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'run.json'), JSON.stringify({ ...summaryOnly, epochs, stepLosses }));
    if (this.deps.runs.hasCheckpoint(runId))
      cpSync(this.deps.runs.checkpointDir(runId), join(dir, 'checkpoint'), { recursive: true });
    const records = [...active.records.values()];
    const before = new Map(records.map((r) => [r.row.key, r.row.agreement]));
    for (const r of records) r.row.agreement = null;
    withAgreement(records);
    for (const r of records)
      if (r.row.key === run.key || r.row.agreement !== before.get(r.row.key)) this.updateRow(active, r.row);
    active.summary.bestKey = bestRow(active.summary.rows)?.key ?? null;
    this.save(active.summary);
  }

  /** Stops the experiment's queued and running runs (and its timing); the report covers what ended. */
  async stop(id: string): Promise<ExperimentSummary> {
    const active = this.active.get(id);
    if (!active) {
      const s = this.get(id);
      throw new LockstepError(`experiment ${s.name} is ${s.state}; only a running experiment can be stopped`);
    }
    active.stopped = true;
    await Promise.all(
      active.summary.rows
        .filter((r) => r.runId && this.deps.sessions.isActive(r.runId))
        .map((r) => this.deps.sessions.stop(r.runId!)),
    );
    await active.timing?.stop();
    await active.done;
    return this.get(id);
  }

  /** Before the sessions close: no report for experiments cut short; they are marked interrupted. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.active.values()].map((a) => a.timing?.stop()));
  }

  /** After the sessions closed: every experiment has recorded its end. */
  async settled(): Promise<void> {
    await Promise.all([...this.active.values()].map((a) => a.done));
  }
}
