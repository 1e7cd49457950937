import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pkg from '../../package.json';
import { EE_SET_CLASSES } from '../../shared/data/dataset';
import { isLockstepError, LockstepError } from '../../shared/errors';
import { Experiments } from '../experiment/experiments';
import { PRESETS } from '../../shared/presets';
import {
  parseParams,
  type EventName,
  type Events,
  type LockstepApi,
  type Method,
  type Params,
  type PresetSummary,
  type Results,
} from '../../shared/protocol';
import { sweepStaleArchiveFolders } from '../store/stale';
import { DatasetLibrary } from './dataset-library';
import { exportFileName, exportRun } from './run-export';
import { RunStore } from './run-store';
import { TrainingSessions, type TrainingSessionsOptions } from './training-sessions';
import { Uploads, type UploadLimits } from './uploads';

/**
 * Everything behind the window, in plain Node: one object per user-data folder implementing
 * every method of shared/protocol.ts and pushing its Events. The Electron main process, the
 * browser host's WebSocket bridge and the tests all drive this same class.
 *
 * Layout of the user-data folder:
 *
 *     datasets/<id>/{dataset.json,data.bin}   imported datasets (dataset-library.ts)
 *     runs/<id>/{run.json,metrics.jsonl,…}    training runs (run-store.ts)
 *     uploads/<uploadId>/files/…              files being dropped (uploads.ts; cleared on start)
 *     exports/<exportId>/…                    browser-host downloads (cleared on start)
 *     experiments/<id>/…                      experiments: runs, results, report (src-main/experiment)
 */
export interface AppServicesOptions {
  /** Which shell carries the UI; `app.info` reports it and `runs.export` follows it. Default 'browser'. */
  host?: 'electron' | 'browser';
  /** Browser host: the URL the browser downloads an export from. */
  downloadUrl?: (exportId: string) => string;
  training?: TrainingSessionsOptions;
  uploads?: Partial<UploadLimits>;
}

type Handlers = { [M in Method]: (params: Params<M>) => Promise<Results[M]> | Results[M] };
type AnyListener = (event: EventName, payload: Events[EventName]) => void;

/** A user-facing message for any error a request raised; bugs are logged and say so. */
export function errorMessage(e: unknown): string {
  if (isLockstepError(e)) return e.message;
  console.error('lockstep: internal error:', e);
  return `internal error: ${(e as Error)?.message ?? String(e)}`;
}

export class AppServices implements LockstepApi {
  readonly userData: string;
  readonly datasets: DatasetLibrary;
  readonly runs: RunStore;
  readonly uploads: Uploads;
  readonly sessions: TrainingSessions;
  readonly experiments: Experiments;
  private readonly exportsDir: string;
  private readonly host: 'electron' | 'browser';
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  private readonly anyListeners = new Set<AnyListener>();
  private readonly handlers: Handlers;

  constructor(
    userData: string,
    private readonly options: AppServicesOptions = {},
  ) {
    this.userData = resolve(userData);
    mkdirSync(this.userData, { recursive: true });
    this.host = options.host ?? 'browser';
    sweepStaleArchiveFolders();
    this.datasets = new DatasetLibrary(join(this.userData, 'datasets'));
    this.runs = new RunStore(join(this.userData, 'runs'));
    this.uploads = new Uploads(join(this.userData, 'uploads'), options.uploads);
    this.exportsDir = join(this.userData, 'exports');
    rmSync(this.exportsDir, { recursive: true, force: true });
    this.sessions = new TrainingSessions(
      this.runs,
      this.datasets,
      (event, payload) => this.emit(event, payload),
      options.training,
    );
    this.experiments = new Experiments(join(this.userData, 'experiments'), {
      sessions: this.sessions,
      runs: this.runs,
      datasets: this.datasets,
      emit: (event, payload) => this.emit(event, payload),
      onRunState: (listener) => this.on('run.state', listener),
    });
    this.handlers = this.makeHandlers();
  }

  // ---- requests ----------------------------------------------------------------------

  /** Validates a request (method name and params) and runs it. Throws LockstepError for a bad request. */
  async handle(method: string, params: unknown): Promise<unknown> {
    let parsed: { method: Method; params: Params<Method> };
    try {
      parsed = parseParams(method, params);
    } catch (e) {
      throw new LockstepError((e as Error).message);
    }
    const handler = this.handlers[parsed.method] as (p: unknown) => unknown;
    return await handler(parsed.params);
  }

  invoke<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    return this.handle(method, params) as Promise<Results[M]>;
  }

  private makeHandlers(): Handlers {
    return {
      'app.info': () => ({
        version: pkg.version,
        host: this.host,
        presets: [...PRESETS.values()].map(
          (p) =>
            structuredClone({
              name: p.name,
              description: p.description,
              spec: p.spec,
              training: p.training,
            }) as PresetSummary,
        ),
        classes: [...EE_SET_CLASSES],
      }),
      'datasets.list': () => this.datasets.list(),
      'datasets.importPath': async ({ path }) => {
        const summary = await this.datasets.importPath(path);
        this.emit('datasets.changed', this.datasets.list());
        return summary;
      },
      'uploads.begin': ({ name }) => this.uploads.begin(name),
      'uploads.chunk': ({ uploadId, files }) => this.uploads.chunk(uploadId, files),
      'uploads.finish': async ({ uploadId }) => {
        const summary = await this.uploads.finish(uploadId, (path, name) =>
          this.datasets.importPath(path, { name, source: `upload: ${name}` }),
        );
        this.emit('datasets.changed', this.datasets.list());
        return summary;
      },
      'datasets.remove': ({ datasetId }) => {
        if (this.sessions.datasetInUse(datasetId)) {
          throw new LockstepError(
            `dataset ${this.datasets.get(datasetId).name} is in use by an active run; stop the run first`,
          );
        }
        const removed = this.datasets.remove(datasetId);
        if (removed) this.emit('datasets.changed', this.datasets.list());
        return { removed };
      },
      'datasets.rename': ({ datasetId, name }) => {
        const summary = this.datasets.rename(datasetId, name);
        this.emit('datasets.changed', this.datasets.list());
        return summary;
      },
      'datasets.example': ({ datasetId, split, index }) => this.datasets.example(datasetId, split, index),
      'runs.list': () => this.runs.list(),
      'runs.get': ({ runId }) => this.runs.detail(runId),
      'runs.start': (params) => this.sessions.start(params),
      'runs.pause': ({ runId }) => this.sessions.pause(runId),
      'runs.resume': ({ runId }) => this.sessions.resume(runId),
      'runs.stop': ({ runId }) => this.sessions.stop(runId),
      'runs.delete': async ({ runId }) => {
        if (!this.runs.has(runId)) return { removed: false };
        await this.sessions.end(runId);
        return { removed: this.runs.delete(runId) };
      },
      'runs.examples': ({ runId, split, trueClass, predictedClass }) => ({
        examples: this.runs.examples(runId, split, trueClass, predictedClass),
      }),
      'experiments.builtins': () => this.experiments.builtins(),
      'experiments.start': (params) => this.experiments.start(params),
      'experiments.list': () => this.experiments.list(),
      'experiments.get': ({ experimentId }) => this.experiments.get(experimentId),
      'experiments.stop': ({ experimentId }) => this.experiments.stop(experimentId),
      'experiments.report': ({ experimentId }) => {
        const s = this.experiments.get(experimentId);
        if (!s.reportFiles.includes('report.html'))
          throw new LockstepError(
            `experiment ${s.name} has no report yet (it is ${s.state}; the report is written once its runs have ended)`,
          );
        return { html: readFileSync(join(s.outDir, 'report.html'), 'utf8') };
      },
      'runs.export': async ({ runId, format, path }) => {
        const run = this.runs.get(runId);
        if (!this.runs.hasCheckpoint(runId)) {
          const when = 'a run saves its weights at the end of every epoch';
          throw new LockstepError(`run ${run.name} has no weights to export yet (it is ${run.state}; ${when})`);
        }
        if (this.host === 'browser') {
          if (path !== undefined)
            throw new LockstepError('runs.export: the browser host exports as a download; leave out path');
          const exportId = `ex-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
          const dir = join(this.exportsDir, exportId);
          const dest = join(dir, exportFileName(run.name, format));
          const files = await exportRun(this.runs.checkpointDir(runId), format, dest);
          return {
            files: files.map((f) => f.slice(dir.length + 1)),
            downloadUrl: this.options.downloadUrl?.(exportId),
            downloadName: this.exportEntry(exportId)?.downloadName,
          };
        }
        if (path === undefined) throw new LockstepError('runs.export: path is needed (where to save)');
        return { files: await exportRun(this.runs.checkpointDir(runId), format, path) };
      },
    };
  }

  /**
   * Browser host: what a download serves — the export's top entry (a file, or a folder of
   * files), or null for an unknown id.
   */
  exportEntry(exportId: string): { name: string; path: string; isDirectory: boolean; downloadName: string } | null {
    if (!/^ex-[a-z0-9]+-[0-9a-f]{12}$/.test(exportId)) return null;
    const dir = join(this.exportsDir, exportId);
    if (!existsSync(dir)) return null;
    const [name] = readdirSync(dir);
    if (!name) return null;
    const path = join(dir, name);
    // lstat: a link placed here is not the folder it points to (the download refuses it).
    const isDirectory = lstatSync(path).isDirectory();
    // What the browser receives: a folder is served zipped.
    const downloadName = `${name}${isDirectory ? '.zip' : ''}`.replace(/[^A-Za-z0-9._-]/g, '_');
    return { name, path, isDirectory, downloadName };
  }

  // ---- events ------------------------------------------------------------------------

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  }

  /** Every event, for the bridges that forward them all (IPC, WebSocket). */
  onAny(listener: AnyListener): () => void {
    this.anyListeners.add(listener);
    return () => void this.anyListeners.delete(listener);
  }

  private emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as (p: Events[E]) => void)(payload);
      } catch (e) {
        console.error(`lockstep: a ${event} listener threw:`, e);
      }
    }
    for (const l of this.anyListeners) {
      try {
        l(event, payload);
      } catch (e) {
        console.error(`lockstep: a ${event} listener threw:`, e);
      }
    }
  }

  /** Ends every training worker (active runs and experiments become 'interrupted') and drops unfinished uploads. */
  async close(): Promise<void> {
    await this.experiments.close();
    await this.sessions.close();
    await this.experiments.settled();
    this.uploads.close();
  }
}
