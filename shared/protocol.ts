import { z } from 'zod';
import type { AudioFrontEnd } from './audio/logmel';
import { frontEndSchema } from './data/front-end';
import { ENGINES, EXPERIMENT_ENGINES, LR_SCHEDULES, OPTIMIZERS, TFJS_BACKENDS } from './names';
import { MAX_TIME_STRETCH, crossSettingProblem } from './train/settings';

/**
 * The one protocol between the UI and the services behind it. The Electron preload, the
 * browser host's WebSocket bridge and the CLI all speak it: a request names a method and
 * carries params (validated here, on the Node side, before anything runs); the services push
 * events. Every params schema is strict: unknown keys are rejected, sizes are bounded.
 */

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an id of letters, digits, _ or -');
const path = z.string().min(1).max(4096);
const splitName = z.enum(['train', 'dev', 'eval']);
const finite = z.number().finite();

export const engineKind = z.enum(ENGINES);
export const backendKind = z.enum(TFJS_BACKENDS);
/** tfjs's backend wherever none is chosen: the Train tab, experiment grids, the CLI and the services. */
export const DEFAULT_TFJS_BACKEND: z.infer<typeof backendKind> = 'cpu';
export const exportFormat = z.enum(['tfjs', 'npz', 'onnx', 'checkpoint']);

/** Each training setting on its own (a grid overrides some of them: see experimentBaseSchema). */
export const trainingSettingsFields = z.strictObject({
  optimizer: z.enum(OPTIMIZERS),
  lr: finite.positive().max(100),
  momentum: finite.min(0).max(1).optional(),
  nesterov: z.boolean().optional(),
  weightDecay: finite.min(0).max(10).optional(),
  batch: z.number().int().min(1).max(4096),
  epochs: z.number().int().min(1).max(100_000),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  frames: z.number().int().min(1).max(10_000),
  standardize: z.boolean(),
  frontEnd: frontEndSchema.optional(),
  // Training aids (shared/train/schedule.ts, augment.ts, trainer.ts); each off when absent.
  lrSchedule: z.enum(LR_SCHEDULES).optional(),
  warmupEpochs: z.number().int().min(0).max(100_000).optional(),
  decayEvery: z.number().int().min(1).max(100_000).optional(),
  decayFactor: finite.positive().max(1).optional(),
  timeStretch: finite.min(0).max(MAX_TIME_STRETCH).optional(),
  timeShift: z.number().int().min(0).max(10_000).optional(),
  timeMask: z.number().int().min(0).max(10_000).optional(),
  freqMask: z.number().int().min(0).max(4096).optional(),
  patience: z.number().int().min(1).max(100_000).optional(),
});

/** A whole run's settings: each one, and the rules between them (shared/train/settings.ts). */
export const trainingSettingsSchema = trainingSettingsFields.superRefine((settings, context) => {
  const problem = crossSettingProblem(settings);
  if (problem) context.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
});

/** A network spec is checked in depth by resolveSpec; here only its outline and size. */
export const specSchema = z.strictObject({
  input: z.tuple([z.number().int().min(1).max(100_000), z.number().int().min(1).max(4096)]),
  layers: z.array(z.record(z.string(), z.unknown())).min(1).max(64),
});

// ---- Experiments (a base network and settings, a grid over them; see shared/experiment) ----

/** One value of a grid axis: a setting, a layer field, or a whole layer object. */
const gridValue = z.union([z.string().max(256), finite, z.boolean(), z.record(z.string(), z.unknown())]);
/**
 * A grid axis: its values (the axis's name is then the path it sets), or an object that sets
 * several paths to the same value (`hidden` → `layers.1.units` and `layers.2.units`) with
 * optional labels for the values (`TimeSum` shown as `sum`).
 */
export const gridAxisSchema = z.union([
  z.array(gridValue).min(1).max(64),
  z.strictObject({
    paths: z.array(z.string().min(1).max(128)).min(1).max(16),
    values: z.array(gridValue).min(1).max(64),
    labels: z.array(z.string().min(1).max(64)).optional(),
  }),
]);
export const experimentEngine = z.enum(EXPERIMENT_ENGINES);
/** What every run of an experiment (or of one of its parts) starts from; a part's base overrides the experiment's. */
export const experimentBaseSchema = z.strictObject({
  /** A preset name: its spec and its training settings. */
  model: z.string().min(1).max(64).optional(),
  /** A network spec (replaces the preset's). */
  spec: specSchema.optional(),
  /** Training settings over the preset's (or the defaults). */
  settings: trainingSettingsFields.partial().optional(),
  engine: experimentEngine.optional(),
  /** tfjs's backend (default wasm). */
  backend: backendKind.optional(),
});
const gridSchema = z.record(z.string().min(1).max(64), gridAxisSchema);
export const experimentSchema = z.strictObject({
  name: z.string().min(1).max(128),
  description: z.string().max(4000).optional(),
  base: experimentBaseSchema.optional(),
  /** Axes crossed with every part's own axes. */
  grid: gridSchema.optional(),
  /** Groups of runs with their own base and axes (e.g. the course's FNNs and its TDNNs). */
  parts: z
    .array(
      z.strictObject({
        name: id,
        description: z.string().max(4000).optional(),
        base: experimentBaseSchema.optional(),
        grid: gridSchema.optional(),
      }),
    )
    .min(1)
    .max(32)
    .optional(),
  /** ms per training iteration versus batch size, measured after the runs, one at a time. */
  timing: z
    .strictObject({
      batchSizes: z.array(z.number().int().min(1).max(4096)).min(1).max(12),
      /** Timed steps per point (fewer when they would take more than about 2 s). Default 30. */
      steps: z.number().int().min(3).max(10_000).optional(),
      /** Only runs of these parts (default all). */
      parts: z.array(id).max(32).optional(),
      /** Only runs whose axis value labels are among these (`{"activation": ["tanh"]}`). */
      where: z.record(z.string().min(1).max(64), z.array(z.string().max(256)).min(1).max(64)).optional(),
    })
    .optional(),
});
export type ExperimentSpec = z.infer<typeof experimentSchema>;

/** One file of an upload, its path relative to what the user dropped (a folder's files keep their folders). */
const uploadFile = z.strictObject({
  relativePath: z.string().min(1).max(1024),
  data: z.instanceof(Uint8Array).refine((d) => d.byteLength <= 64 * 1024 * 1024, 'a file of at most 64 MiB'),
});

export const methods = {
  /** What the UI needs on launch: presets, datasets, runs, the host kind. */
  'app.info': z.strictObject({}),
  'datasets.list': z.strictObject({}),
  /** Electron: a path the user chose (drop or File → Open). */
  'datasets.importPath': z.strictObject({ path }),
  /** Browser host: dropped files arrive in chunks, then are imported as one dataset. */
  'uploads.begin': z.strictObject({ name: z.string().min(1).max(256) }),
  'uploads.chunk': z.strictObject({ uploadId: id, files: z.array(uploadFile).min(1).max(10_000) }),
  'uploads.finish': z.strictObject({ uploadId: id }),
  'datasets.remove': z.strictObject({ datasetId: id }),
  /** A new name for an imported dataset (two imports of one folder would both be called after it). */
  'datasets.rename': z.strictObject({
    datasetId: id,
    name: z
      .string()
      .trim()
      .min(1, 'expected a name of 1 to 128 characters')
      .max(128, 'expected a name of 1 to 128 characters')
      // eslint-disable-next-line no-control-regex -- control characters are what it refuses
      .regex(/^[^\u0000-\u001f\u007f]*$/, 'expected a name without control characters'),
  }),
  /** One example's frames × channels, for the heatmap. */
  'datasets.example': z.strictObject({ datasetId: id, split: splitName, index: z.number().int().min(0) }),
  'runs.list': z.strictObject({}),
  'runs.get': z.strictObject({ runId: id }),
  'runs.start': z.strictObject({
    datasetId: id,
    spec: specSchema,
    settings: trainingSettingsSchema,
    engine: engineKind,
    backend: backendKind,
    name: z.string().max(256).optional(),
  }),
  'runs.pause': z.strictObject({ runId: id }),
  'runs.resume': z.strictObject({ runId: id }),
  'runs.stop': z.strictObject({ runId: id }),
  'runs.delete': z.strictObject({ runId: id }),
  /** The examples of one confusion-matrix cell. */
  'runs.examples': z.strictObject({
    runId: id,
    split: splitName,
    trueClass: z.number().int().min(0),
    predictedClass: z.number().int().min(0),
  }),
  /** Electron: writes to a path from the save dialog. Browser host: returns a download URL. */
  'runs.export': z.strictObject({ runId: id, format: exportFormat, path: path.optional() }),
  /** The built-in experiments (the course assignment), as editable specs. */
  'experiments.builtins': z.strictObject({}),
  /**
   * Queues every run of an experiment on a dataset: a built-in's name or a spec. `epochs`
   * overrides every run's epochs (quick runs). The report is written when the last run ends.
   */
  'experiments.start': z.strictObject({
    datasetId: id,
    experiment: z.union([z.string().min(1).max(64), experimentSchema]),
    epochs: z.number().int().min(1).max(100_000).optional(),
  }),
  'experiments.list': z.strictObject({}),
  'experiments.get': z.strictObject({ experimentId: id }),
  /** Stops the runs still queued or running; the report covers the runs that finished. */
  'experiments.stop': z.strictObject({ experimentId: id }),
  /** The experiment's self-contained report.html, once written (the UI opens it or saves it). */
  'experiments.report': z.strictObject({ experimentId: id }),
} as const;

export type Method = keyof typeof methods;
export type Params<M extends Method> = z.infer<(typeof methods)[M]>;

// ---- Results -------------------------------------------------------------------------

export interface PresetSummary {
  name: string;
  description: string;
  spec: z.infer<typeof specSchema>;
  training: z.infer<typeof trainingSettingsSchema>;
}

export interface DroppedSummary {
  file: string;
  line?: number;
  reason: 'nonFinite' | 'short' | 'missing' | 'malformed';
  message: string;
}

export interface SplitSummary {
  listed: number;
  kept: number;
  dropped: { nonFinite: number; short: number; missing: number; malformed: number };
  droppedExamples: DroppedSummary[];
  classCounts: number[];
}

export interface DatasetSummary {
  id: string;
  name: string;
  source: string;
  importedAt: string;
  classes: string[];
  frames: number;
  channels: number;
  splits: Partial<Record<z.infer<typeof splitName>, SplitSummary>>;
  /** The audio front end that made its features (audio datasets only); every model trained on it records it. */
  audio?: AudioFrontEnd;
}

export type RunState = 'queued' | 'running' | 'paused' | 'stopped' | 'finished' | 'failed' | 'interrupted';

export interface EpochPoint {
  epoch: number;
  engine: string;
  trainLoss: number;
  trainAccuracy: number;
  devLoss?: number;
  devAccuracy?: number;
  ms: number;
}

/** Per-step losses, both engines in lockstep runs; `divergence` where weights were compared. */
export interface StepPoint {
  step: number;
  losses: Record<string, number>;
  maxAbsWeightDiff?: number;
  maxAbsGradDiff?: number;
}

export interface SplitResult {
  n: number;
  loss: number;
  accuracy: number;
  confusion: number[][];
}

export interface RunSummary {
  id: string;
  name: string;
  datasetId: string;
  datasetName: string;
  engine: z.infer<typeof engineKind>;
  backend: z.infer<typeof backendKind>;
  state: RunState;
  error?: string;
  createdAt: string;
  spec: z.infer<typeof specSchema>;
  settings: z.infer<typeof trainingSettingsSchema>;
  params: number;
  epochsDone: number;
  results?: Partial<Record<z.infer<typeof splitName>, SplitResult>>;
}

export interface RunDetail extends RunSummary {
  epochs: EpochPoint[];
  steps: StepPoint[];
}

/** One run of an experiment, as its results table shows it (null: not known yet). */
export interface ExperimentRow {
  /** Unique in the experiment, e.g. `fnn_hidden=10_activation=tanh_tfjs-wasm`; its folder under runs/. */
  key: string;
  /** The runs of one cell differ only by engine: the same network, settings and seed. */
  cell: string;
  part: string;
  /** The network, e.g. `fnn hidden=10 activation=tanh`. */
  label: string;
  /** Axis name → value label, engine and backend included. */
  axes: Record<string, string>;
  /** 'scratch', 'tfjs-cpu' or 'tfjs-wasm'. */
  engine: string;
  /** The app's run (runs.get), once started. */
  runId: string | null;
  state: RunState | 'planned';
  error?: string;
  params: number;
  epochs: number;
  epochsDone: number;
  trainAccuracy: number | null;
  devAccuracy: number | null;
  evalAccuracy: number | null;
  /** The epoch with the highest dev accuracy, and that accuracy. */
  bestDevEpoch: number | null;
  bestDevAccuracy: number | null;
  /** Median training time of an epoch. */
  msPerEpoch: number | null;
  /** Max over steps of |L − L_other| / |L_other| against the other engine's run of the cell, once both ended. */
  agreement: number | null;
}

/** ms per training iteration (forward, backward, update, batch gather) at one batch size. */
export interface TimingPoint {
  /** The row key of the run whose network and engine were timed. */
  key: string;
  label: string;
  engine: string;
  batch: number;
  msPerIteration: number;
  steps: number;
}

export type ExperimentState = 'running' | 'timing' | 'reporting' | 'finished' | 'stopped' | 'failed' | 'interrupted';

export interface ExperimentSummary {
  id: string;
  name: string;
  description?: string;
  datasetId: string;
  datasetName: string;
  state: ExperimentState;
  error?: string;
  createdAt: string;
  finishedAt?: string;
  /** Where the runs, results and report are written. */
  outDir: string;
  rows: ExperimentRow[];
  timing: TimingPoint[];
  /** The row with the highest final dev accuracy (train accuracy without a dev split). */
  bestKey: string | null;
  /** Paths relative to outDir, once written: report.html, report.md, results.json, results.csv, figures/…. */
  reportFiles: string[];
}

export interface Results {
  'app.info': { version: string; host: 'electron' | 'browser'; presets: PresetSummary[]; classes: string[] };
  'datasets.list': DatasetSummary[];
  'datasets.importPath': DatasetSummary;
  'uploads.begin': { uploadId: string };
  'uploads.chunk': { received: number };
  'uploads.finish': DatasetSummary;
  'datasets.remove': { removed: boolean };
  'datasets.rename': DatasetSummary;
  'datasets.example': { id: string; label: number; frames: number; channels: number; values: number[] };
  'runs.list': RunSummary[];
  'runs.get': RunDetail;
  'runs.start': RunSummary;
  'runs.pause': RunSummary;
  'runs.resume': RunSummary;
  'runs.stop': RunSummary;
  'runs.delete': { removed: boolean };
  'runs.examples': { examples: Array<{ index: number; id: string; probabilities: number[] }> };
  /** Browser host: `downloadName` is the one file the browser receives (a folder arrives as a .zip of `files`). */
  'runs.export': { files: string[]; downloadUrl?: string; downloadName?: string };
  'experiments.builtins': ExperimentSpec[];
  'experiments.start': ExperimentSummary;
  'experiments.list': ExperimentSummary[];
  'experiments.get': ExperimentSummary;
  'experiments.stop': ExperimentSummary;
  'experiments.report': { html: string };
}

// ---- Events (services → UI) ----------------------------------------------------------

export interface Events {
  /** Batched: the steps since the last event (at most ~20 events a second). */
  'run.progress': {
    runId: string;
    steps: StepPoint[];
    epoch: number;
    step: number;
    totalSteps: number;
    examplesPerSecond: number;
    etaSeconds: number;
  };
  'run.epoch': { runId: string; points: EpochPoint[] };
  'run.state': RunSummary;
  'datasets.changed': DatasetSummary[];
  /** The whole experiment: on start, on every row change, on timing and report progress, at the end. */
  'experiment.state': ExperimentSummary;
  /** One row changed (a run started, finished or failed); the run's own run.* events carry its curves. */
  'experiment.row': { experimentId: string; row: ExperimentRow };
}
export type EventName = keyof Events;

// ---- Wire format (WebSocket and IPC) ---------------------------------------------------

export interface RequestMessage {
  kind: 'request';
  id: number;
  method: Method;
  params: unknown;
}
export interface ResponseMessage {
  kind: 'response';
  id: number;
  ok: boolean;
  result?: unknown;
  /** A complete, user-facing message (see LockstepError). */
  error?: string;
}
export interface EventMessage {
  kind: 'event';
  event: EventName;
  payload: unknown;
}

/** The API the UI sees, whatever carries it (preload or WebSocket). */
export interface LockstepApi {
  invoke<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}

/**
 * How deeply params may nest (params itself is level 1). The deepest real request, an experiment
 * whose grid sets whole layers, stays under 12; zod, JSON.stringify and structuredClone recurse,
 * so a request nested thousands deep is refused before any of them sees it.
 */
export const MAX_PARAMS_DEPTH = 32;
const PLAIN = [Object.prototype, null];

/** The path (keys from params down) to the first array or object deeper than `limit`, or null. Iterative. */
export function tooDeep(params: unknown, limit: number): string[] | null {
  type Node = { value: unknown; depth: number; key: string; parent: Node | null };
  const stack: Node[] = [{ value: params, depth: 1, key: '', parent: null }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const { value, depth } = node;
    const isArray = Array.isArray(value);
    // Only plain arrays and objects: a Uint8Array of an upload is data, not nesting.
    const plainObject = typeof value === 'object' && value !== null && PLAIN.includes(Object.getPrototypeOf(value));
    if (!isArray && !plainObject) continue;
    if (depth > limit) {
      const path: string[] = [];
      for (let n: Node | null = node; n?.parent; n = n.parent) path.unshift(n.key);
      return path;
    }
    for (const [key, child] of Object.entries(value as object)) {
      stack.push({ value: child, depth: depth + 1, key, parent: node });
    }
  }
  return null;
}

/** Validates a request's params against its method's schema; the message names the field. */
export function parseParams<M extends Method>(method: string, params: unknown): { method: M; params: Params<M> } {
  if (!Object.hasOwn(methods, method)) throw new Error(`unknown method '${method}'`);
  const deep = tooDeep(params, MAX_PARAMS_DEPTH);
  if (deep) {
    const where =
      deep
        .slice(0, 8)
        .map((key) => key.slice(0, 40))
        .join('.') + (deep.length > 8 ? '.…' : '');
    throw new Error(`${method}: ${where}: expected at most ${MAX_PARAMS_DEPTH} levels of nesting, found more`);
  }
  const result = methods[method as M].safeParse(params);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : 'params';
    throw new Error(`${method}: ${where}: ${issue.message}`);
  }
  return { method: method as M, params: result.data as Params<M> };
}
