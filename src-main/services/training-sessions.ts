import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Split } from '../../shared/data/dataset';
import { checkNetworkMemory } from '../../shared/engine/memory';
import { resolveSpec } from '../../shared/engine/spec';
import { LockstepError } from '../../shared/errors';
import { runName } from '../../shared/run-name';
import type { Events, Params, RunState, RunSummary } from '../../shared/protocol';
import { untrainableReason } from '../../shared/train/prepare';
import { DEMO_ID, type DatasetLibrary } from './dataset-library';
import type { RunStore } from './run-store';
import { startServiceWorker } from './worker-launch';
import {
  CONTROL_PAUSE,
  CONTROL_RUN,
  CONTROL_STOP,
  type WorkerFault,
  type WorkerInput,
  type WorkerMessage,
} from './worker-protocol';

/**
 * The training runs in flight: each in its own worker thread (training-worker.ts), so the main
 * event loop only relays progress and writes the run store. Runs beyond `maxConcurrent` wait
 * in 'queued'. A worker that throws, exits or cannot start fails its run with the reason; the
 * app carries on.
 */
export interface TrainingSessionsOptions {
  /** Runs training at once (default: cores − 1, between 2 and 4). */
  maxConcurrent?: number;
  /** Minimum time between a run's progress events (default 50 ms: at most 20 a second). */
  progressIntervalMs?: number;
  /** `runs.stop` waits this long for the worker to stop between steps, then terminates it. */
  stopGraceMs?: number;
  /** Tests: make the next started runs' workers fail on purpose. */
  fault?: WorkerFault;
}

type Emit = <E extends keyof Events>(event: E, payload: Events[E]) => void;

interface Session {
  id: string;
  input: WorkerInput;
  control: Int32Array;
  worker: Worker | null;
  /** The worker reported 'done' (or was ended on purpose): its exit is not a failure. */
  settled: boolean;
  /** Set by the worker's 'error' event, used when it exits. */
  crash?: string;
  /** Resolvers waiting for the worker's acknowledgement of a pause, resume or stop. */
  acks: { paused: Array<() => void>; resumed: Array<() => void>; stopped: Array<() => void> };
  exited: Promise<void>;
  markExited: () => void;
}

const TERMINAL: ReadonlySet<RunState> = new Set(['stopped', 'finished', 'failed', 'interrupted']);

export class TrainingSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly queue: string[] = [];
  private readonly maxConcurrent: number;
  private readonly progressIntervalMs: number;
  private readonly stopGraceMs: number;
  private closed = false;

  constructor(
    private readonly store: RunStore,
    private readonly datasets: DatasetLibrary,
    private readonly emit: Emit,
    private readonly options: TrainingSessionsOptions = {},
  ) {
    this.maxConcurrent = options.maxConcurrent ?? Math.max(2, Math.min(4, availableParallelism() - 1));
    this.progressIntervalMs = options.progressIntervalMs ?? 50;
    this.stopGraceMs = options.stopGraceMs ?? 150;
  }

  /** Checks the request, records the run and starts (or queues) it. */
  start(params: Params<'runs.start'>): RunSummary {
    if (this.closed) throw new LockstepError('the app is shutting down');
    const dataset = this.datasets.get(params.datasetId);
    // Explained before training starts: a dataset the protocol left nothing (or one class) to learn from.
    const untrainable = untrainableReason(dataset.name, dataset.classes, dataset.splits.train?.classCounts);
    if (untrainable !== null) throw new LockstepError(untrainable);
    const spec = { ...params.spec, input: [params.settings.frames, dataset.channels] as [number, number] };
    // Checked here so a bad spec is an error response, not a failed run.
    const resolved = resolveSpec(spec, dataset.classes.length);
    checkNetworkMemory(resolved, params.settings.batch, params.settings.optimizer);
    if (dataset.id !== DEMO_ID && params.settings.frames > dataset.frames) {
      throw new LockstepError(
        `dataset ${dataset.name} holds ${dataset.frames} frames per example; settings.frames must be at most that (got ${params.settings.frames})`,
      );
    }
    const id = `run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const createdAt = new Date().toISOString();
    const { engine, backend } = params;
    const summary: RunSummary = {
      id,
      name: params.name?.trim() || runName({ layers: spec.layers, engine, backend, datasetName: dataset.name }),
      datasetId: dataset.id,
      datasetName: dataset.name,
      engine: params.engine,
      backend: params.backend,
      state: 'queued',
      createdAt,
      spec,
      settings: params.settings,
      params: resolved.paramCount,
      epochsDone: 0,
    };
    this.store.create(summary);
    return this.enqueue(summary);
  }

  /** Queues a recorded run's worker (from its last saved epoch, with `resumeFrom`) and returns its summary. */
  private enqueue(run: RunSummary, resumeFrom?: string): RunSummary {
    const { id } = run;
    const control = new Int32Array(new SharedArrayBuffer(4));
    let markExited!: () => void;
    const exited = new Promise<void>((r) => (markExited = r));
    const session: Session = {
      id,
      input: {
        runId: id,
        dataset: this.datasets.ref(run.datasetId),
        spec: run.spec,
        settings: run.settings,
        engine: run.engine,
        backend: run.backend,
        control: control.buffer as SharedArrayBuffer,
        progressIntervalMs: this.progressIntervalMs,
        resumeFrom,
        fault: this.options.fault,
      },
      control,
      worker: null,
      settled: false,
      acks: { paused: [], resumed: [], stopped: [] },
      exited,
      markExited,
    };
    this.sessions.set(id, session);
    this.queue.push(id);
    this.emit('run.state', this.store.get(id));
    this.pump();
    return this.store.get(id);
  }

  /**
   * Keeps training a run interrupted by a crash or a closed app from the last epoch it saved: its
   * weights, and with the scratch engine its optimizer state (tfjs's stays inside tfjs: a tfjs
   * or lockstep run restarts its optimizer from those weights). What it trained after that epoch
   * is dropped and trained again.
   */
  private resumeInterrupted(run: RunSummary): RunSummary {
    if (this.closed) throw new LockstepError('the app is shutting down');
    if (!this.store.hasCheckpoint(run.id)) {
      const why = 'it was interrupted before it completed an epoch: nothing was saved to resume from';
      throw new LockstepError(`run ${run.name} cannot be resumed: ${why}`);
    }
    this.datasets.get(run.datasetId); // still there?
    this.store.update(run.id, { state: 'queued', error: undefined });
    return this.enqueue(run, this.store.checkpointDir(run.id));
  }

  /** Resolves when the run's worker has exited (at once if it has none). */
  exited(id: string): Promise<void> {
    return this.sessions.get(id)?.exited ?? Promise.resolve();
  }

  /** Whether a run has a worker or waits for one. */
  isActive(id: string): boolean {
    return this.sessions.has(id);
  }

  /** The datasets that active runs train on (they must not be removed under them). */
  datasetInUse(datasetId: string): boolean {
    return [...this.sessions.keys()].some((id) => this.store.has(id) && this.store.get(id).datasetId === datasetId);
  }

  private running(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.worker) n++;
    return n;
  }

  private pump(): void {
    while (!this.closed && this.queue.length && this.running() < this.maxConcurrent) {
      const id = this.queue.shift()!;
      const session = this.sessions.get(id);
      if (session) this.launch(session);
    }
  }

  private setState(id: string, state: RunState, extra: Partial<RunSummary> = {}): void {
    if (!this.store.has(id)) return;
    this.emit('run.state', this.store.update(id, { state, ...extra }));
  }

  private launch(session: Session): void {
    const { id } = session;
    let worker: Worker;
    try {
      worker = startServiceWorker('training-worker', { workerData: session.input, name: `lockstep-run-${id}` });
    } catch (e) {
      this.sessions.delete(id);
      session.markExited();
      this.setState(id, 'failed', { error: `the training worker could not start: ${(e as Error).message}` });
      return;
    }
    session.worker = worker;
    this.setState(id, 'running');
    worker.on('message', (m: WorkerMessage) => {
      try {
        this.onMessage(session, m);
      } catch (e) {
        console.error(`lockstep: run ${id}: could not record a worker message (${m.type}):`, e);
      }
    });
    worker.on('error', (e: Error) => {
      session.crash = e?.message ?? String(e);
    });
    worker.on('exit', (code) => this.onExit(session, code));
  }

  private onMessage(session: Session, m: WorkerMessage): void {
    const { id } = session;
    if (!this.store.has(id)) return;
    switch (m.type) {
      case 'ready':
        if (this.store.get(id).params !== m.params) this.store.update(id, { params: m.params });
        if (m.resumed) {
          this.store.truncateMetrics(id, m.resumed.epochs, m.resumed.steps);
          this.store.update(id, { epochsDone: m.resumed.epochs });
        }
        return;
      case 'progress':
        this.store.appendSteps(id, m.steps);
        this.emit('run.progress', {
          runId: id,
          steps: m.steps,
          epoch: m.epoch,
          step: m.step,
          totalSteps: m.totalSteps,
          examplesPerSecond: m.examplesPerSecond,
          etaSeconds: m.etaSeconds,
        });
        return;
      case 'checkpoint':
        this.store.saveCheckpoint(id, m.checkpoint.manifest, m.checkpoint.bytes);
        return;
      case 'epoch':
        this.store.appendEpochs(id, m.points);
        this.store.update(id, { epochsDone: m.epochsDone });
        this.emit('run.epoch', { runId: id, points: m.points });
        return;
      case 'paused':
        this.setState(id, 'paused');
        this.flushAcks(session.acks.paused);
        return;
      case 'resumed':
        this.setState(id, 'running');
        this.flushAcks(session.acks.resumed);
        return;
      case 'stopped':
        if (this.store.get(id).state !== 'stopped') this.setState(id, 'stopped');
        this.flushAcks(session.acks.stopped);
        return;
      case 'failed':
        session.settled = true;
        this.setState(id, 'failed', { error: m.message });
        this.flushAcks(session.acks.stopped);
        return;
      case 'results': {
        const predictions: Record<string, Split> = {};
        for (const [name, p] of Object.entries(m.predictions)) {
          predictions[name] = {
            x: p.probs,
            y: p.labels,
            n: p.labels.length,
            frames: 1,
            channels: p.classes,
            ids: p.ids,
          };
        }
        this.store.savePredictions(id, predictions);
        this.store.saveCheckpoint(id, m.checkpoint.manifest, m.checkpoint.bytes);
        this.store.update(id, { results: m.results });
        return;
      }
      case 'done': {
        session.settled = true;
        const state = this.store.get(id).state;
        this.setState(id, state === 'stopped' ? 'stopped' : 'finished');
        return;
      }
    }
  }

  private onExit(session: Session, code: number): void {
    const { id } = session;
    this.sessions.delete(id);
    session.worker = null;
    if (!session.settled && this.store.has(id) && !TERMINAL.has(this.store.get(id).state)) {
      const reason = session.crash
        ? `the training worker failed: ${session.crash}`
        : `the training worker stopped unexpectedly (exit code ${code})`;
      this.setState(id, 'failed', { error: reason });
    }
    for (const list of Object.values(session.acks)) this.flushAcks(list);
    session.markExited();
    this.pump();
  }

  private flushAcks(list: Array<() => void>): void {
    for (const resolve of list.splice(0)) resolve();
  }

  private waitAck(session: Session, kind: keyof Session['acks'], ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = session.acks[kind].indexOf(done);
        if (i >= 0) session.acks[kind].splice(i, 1);
        resolve(false);
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      session.acks[kind].push(done);
    });
  }

  private session(id: string, action: string): Session {
    const run = this.store.get(id);
    const session = this.sessions.get(id);
    if (!session) throw new LockstepError(`run ${run.name} is ${run.state}; only an active run can be ${action}`);
    return session;
  }

  async pause(id: string): Promise<RunSummary> {
    const session = this.session(id, 'paused');
    const state = this.store.get(id).state;
    if (state === 'paused') return this.store.get(id);
    if (!session.worker)
      throw new LockstepError(`run ${this.store.get(id).name} is still queued; it can be stopped, not paused`);
    Atomics.store(session.control, 0, CONTROL_PAUSE);
    Atomics.notify(session.control, 0);
    await this.waitAck(session, 'paused', 2000);
    return this.store.get(id);
  }

  /** Resumes a paused run, or keeps training an interrupted one from its last saved epoch. */
  async resume(id: string): Promise<RunSummary> {
    const run = this.store.get(id);
    if (!this.sessions.has(id) && run.state === 'interrupted') return this.resumeInterrupted(run);
    const session = this.session(id, 'resumed');
    if (Atomics.load(session.control, 0) !== CONTROL_PAUSE) return this.store.get(id);
    const wasPaused = this.store.get(id).state === 'paused';
    Atomics.store(session.control, 0, CONTROL_RUN);
    Atomics.notify(session.control, 0);
    // Paused but not yet acknowledged: the worker never stopped, so there is nothing to wait for.
    if (wasPaused) await this.waitAck(session, 'resumed', 2000);
    return this.store.get(id);
  }

  /**
   * Stops a run between two steps. Resolves once the run is 'stopped' — within `stopGraceMs`:
   * a worker that has not stopped by then (busy in a long step or still starting) is terminated.
   * A worker that stops in time still reports results and weights for what it trained.
   */
  async stop(id: string): Promise<RunSummary> {
    const session = this.session(id, 'stopped');
    if (!session.worker) {
      // Still queued: it never started.
      this.queue.splice(this.queue.indexOf(id), 1);
      this.sessions.delete(id);
      session.settled = true;
      session.markExited();
      this.setState(id, 'stopped');
      return this.store.get(id);
    }
    Atomics.store(session.control, 0, CONTROL_STOP);
    Atomics.notify(session.control, 0);
    const acked = await this.waitAck(session, 'stopped', this.stopGraceMs);
    if (!acked && this.sessions.has(id)) {
      session.settled = true;
      this.setState(id, 'stopped', { error: undefined });
      void session.worker?.terminate();
    }
    return this.store.get(id);
  }

  /** Ends a run's worker (if any) and waits for it to exit. */
  async end(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    session.settled = true;
    const q = this.queue.indexOf(id);
    if (q >= 0) this.queue.splice(q, 1);
    if (session.worker) {
      await session.worker.terminate();
      await session.exited;
    } else {
      this.sessions.delete(id);
      session.markExited();
    }
  }

  /** Ends every worker; runs still active are marked 'interrupted'. */
  async close(): Promise<void> {
    this.closed = true;
    const ids = [...this.sessions.keys()];
    await Promise.all(
      ids.map(async (id) => {
        const wasActive = this.store.has(id) && !TERMINAL.has(this.store.get(id).state);
        await this.end(id);
        if (wasActive)
          this.setState(id, 'interrupted', { error: 'interrupted: the app closed while this run was active' });
      }),
    );
  }
}
