import { resolveSpec } from '../engine/spec';
import { LockstepError } from '../errors';
import { PRESET_NAMES, PRESETS } from '../presets';
import {
  DEFAULT_TFJS_BACKEND,
  experimentSchema,
  specSchema,
  trainingSettingsFields,
  trainingSettingsSchema,
  type ExperimentSpec,
} from '../protocol';
import { resolveSettings, type TrainingSettings } from '../train/settings';

/**
 * An experiment expanded into its runs: each part's base (a preset or a spec, training
 * settings, engine) crossed with the part's grid axes and then the experiment's shared axes,
 * so the shared ones (usually `engine`) vary fastest and a cell's engines sit side by side.
 *
 * An axis path is `engine`, `backend`, `model` (a preset: the run's spec and settings start
 * from it), a training setting (`lr` or `settings.lr`), `layers.N` (replace layer N, 0-based)
 * or `layers.N.field` (set one field of layer N).
 */
export type ExperimentBase = NonNullable<ExperimentSpec['base']>;
type Grid = NonNullable<ExperimentSpec['grid']>;
type GridValue = unknown;
export type NetworkSpecJson = { input: [number, number]; layers: Array<Record<string, unknown> & { type: string }> };

export interface PlannedRun {
  key: string;
  cell: string;
  part: string;
  /** The network and settings without the engine: `fnn hidden=10 activation=tanh`. */
  label: string;
  /** Axis name → value label (engine and backend included when they are axes). */
  axes: Record<string, string>;
  spec: NetworkSpecJson;
  settings: TrainingSettings;
  engine: 'scratch' | 'tfjs';
  backend: 'cpu' | 'wasm';
  /** `scratch`, `tfjs-cpu`, `tfjs-wasm`: the engine id the run reports. */
  engineId: string;
}

export interface TimingTarget {
  key: string;
  label: string;
  engineId: string;
  spec: NetworkSpecJson;
  settings: TrainingSettings;
  engine: 'scratch' | 'tfjs';
  backend: 'cpu' | 'wasm';
  batchSizes: number[];
  steps: number;
}

export interface ExperimentPlan {
  experiment: ExperimentSpec;
  runs: PlannedRun[];
  timing: TimingTarget[];
}

export const MAX_RUNS = 512;
export const DEFAULT_TIMING_STEPS = 30;
const ENGINE_AXES = new Set(['engine', 'backend']);
const SETTING_KEYS: readonly string[] = Object.keys(trainingSettingsFields.shape);

/** Checks an experiment file's JSON against the schema; the message names the file and the field. */
export function parseExperiment(raw: unknown, source: string): ExperimentSpec {
  const parsed = experimentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length ? issue.path.join('.') : '(root)';
    throw new LockstepError(`${issue.message}`, { file: source, field });
  }
  return parsed.data;
}

interface Axis {
  name: string;
  paths: string[];
  values: GridValue[];
  labels: string[];
}

function axesOf(grid: Grid | undefined, where: string): Axis[] {
  return Object.entries(grid ?? {}).map(([name, a]) => {
    const axis = Array.isArray(a) ? { name, paths: [name], values: a, labels: undefined } : { name, ...a };
    if (axis.labels && axis.labels.length !== axis.values.length) {
      throw new LockstepError(
        `${where}: grid axis "${name}" has ${axis.values.length} values but ${axis.labels.length} labels`,
      );
    }
    const labels = axis.values.map((v, i) => axis.labels?.[i] ?? (typeof v === 'object' ? `#${i + 1}` : String(v)));
    if (new Set(labels).size !== labels.length)
      throw new LockstepError(`${where}: grid axis "${name}" repeats a value (${labels.join(', ')})`);
    for (const p of axis.paths) checkPath(p, `${where}: grid axis "${name}"`);
    return { name, paths: axis.paths, values: axis.values, labels };
  });
}

function checkPath(path: string, where: string): void {
  if (path === 'engine' || path === 'backend' || path === 'model') return;
  if (SETTING_KEYS.includes(path.replace(/^settings\./, ''))) return;
  if (/^layers\.\d+(\.[A-Za-z][A-Za-z0-9_]*)?$/.test(path)) return;
  throw new LockstepError(
    `${where}: unknown path '${path}' (expected engine, backend, model, a training setting (${SETTING_KEYS.join(', ')}), layers.N or layers.N.field)`,
  );
}

interface Draft {
  spec: NetworkSpecJson | null;
  settings: Record<string, unknown>;
  /** The bases' settings, which stay over whichever preset the run's network comes from. */
  overrides: Record<string, unknown>;
  engine: 'scratch' | 'tfjs';
  backend: 'cpu' | 'wasm';
}

/** The run's network and settings start from a preset: its spec, its training settings under the bases' own. */
function usePreset(draft: Draft, name: string, where: string): void {
  const preset = PRESETS.get(name);
  if (!preset)
    throw new LockstepError(`${where}: model '${name}' is not a preset (expected one of ${PRESET_NAMES.join(', ')})`);
  draft.spec = structuredClone(preset.spec);
  draft.settings = { ...preset.training, ...draft.overrides };
}

function baseDraft(bases: Array<ExperimentBase | undefined>, where: string): Draft {
  const draft: Draft = { spec: null, settings: {}, overrides: {}, engine: 'scratch', backend: DEFAULT_TFJS_BACKEND };
  for (const b of bases) if (b?.settings) Object.assign(draft.overrides, b.settings);
  draft.settings = { ...draft.overrides };
  for (const b of bases) {
    if (!b) continue;
    if (b.model !== undefined) usePreset(draft, b.model, where);
    if (b.spec) draft.spec = structuredClone(b.spec) as NetworkSpecJson;
    if (b.engine) draft.engine = b.engine;
    if (b.backend) draft.backend = b.backend;
  }
  return draft;
}

function setPath(draft: Draft, path: string, value: GridValue, where: string): void {
  const fail = (expected: string): never => {
    throw new LockstepError(`${where}: ${path} must be ${expected}, got ${JSON.stringify(value)}`);
  };
  if (path === 'engine') {
    if (value !== 'scratch' && value !== 'tfjs') fail("'scratch' or 'tfjs'");
    draft.engine = value as Draft['engine'];
  } else if (path === 'backend') {
    if (value !== 'cpu' && value !== 'wasm') fail("'cpu' or 'wasm'");
    draft.backend = value as Draft['backend'];
  } else if (path.startsWith('layers.')) {
    if (!draft.spec) throw new LockstepError(`${where}: ${path} needs a network: give the base a model or a spec`);
    const [, index, field] = path.split('.');
    const i = Number(index);
    const n = draft.spec.layers.length;
    if (i >= n) throw new LockstepError(`${where}: ${path}: the network has ${n} layers (indices 0–${n - 1})`);
    if (field === undefined) {
      if (typeof value !== 'object' || value === null || typeof (value as { type?: unknown }).type !== 'string')
        fail('a layer object with a "type"');
      draft.spec.layers[i] = structuredClone(value) as NetworkSpecJson['layers'][number];
    } else {
      draft.spec.layers[i] = { ...draft.spec.layers[i], [field]: structuredClone(value) };
    }
  } else {
    draft.settings[path.replace(/^settings\./, '')] = value;
  }
}

function* product(axes: Axis[]): Generator<number[]> {
  const idx = axes.map(() => 0);
  for (;;) {
    yield [...idx];
    let k = axes.length - 1;
    while (k >= 0 && ++idx[k] === axes[k].values.length) idx[k--] = 0;
    if (k < 0) return;
  }
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9=._-]+/g, '-');

function checkedSettings(raw: Record<string, unknown>, where: string): TrainingSettings {
  let settings: TrainingSettings;
  try {
    settings = resolveSettings(raw as Parameters<typeof resolveSettings>[0]);
  } catch (e) {
    throw new LockstepError(`${where}: ${(e as Error).message}`);
  }
  const full = { ...raw, ...settings };
  const parsed = trainingSettingsSchema.safeParse(full);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LockstepError(`${where}: setting ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data as TrainingSettings;
}

/** Every run of an experiment, checked: each spec resolves and each run's settings are valid. */
export function expandExperiment(experiment: ExperimentSpec, options: { epochs?: number } = {}): ExperimentPlan {
  const exp = `experiment "${experiment.name}"`;
  const shared = axesOf(experiment.grid, exp);
  const parts = experiment.parts ?? [{ name: 'main', base: undefined, grid: undefined }];
  const runs: PlannedRun[] = [];
  const keys = new Set<string>();
  for (const part of parts) {
    const where = `${exp}, part ${part.name}`;
    const own = axesOf(part.grid, where);
    for (const a of own)
      if (shared.some((s) => s.name === a.name))
        throw new LockstepError(`${where}: grid axis "${a.name}" is also an experiment-wide axis`);
    const axes = [...own, ...shared];
    const count = axes.reduce((n, a) => n * a.values.length, 1);
    if (runs.length + count > MAX_RUNS)
      throw new LockstepError(`${exp}: more than ${MAX_RUNS} runs; make the grid smaller`);
    for (const choice of product(axes)) {
      const labels: Record<string, string> = {};
      axes.forEach((a, k) => (labels[a.name] = a.labels[choice[k]]));
      const networkAxes = axes.filter((a) => !a.paths.every((p) => ENGINE_AXES.has(p)));
      const label = [part.name, ...networkAxes.map((a) => `${a.name}=${labels[a.name]}`)].join(' ');
      const runWhere = `${where}, run ${
        Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '(base)'
      }`;
      const draft = baseDraft([experiment.base, part.base], where);
      // A model axis picks the network first; the other axes then edit it.
      axes.forEach((a, k) => a.paths.includes('model') && usePreset(draft, String(a.values[choice[k]]), runWhere));
      axes.forEach((a, k) =>
        a.paths.filter((p) => p !== 'model').forEach((p) => setPath(draft, p, a.values[choice[k]], runWhere)),
      );
      if (options.epochs !== undefined) draft.settings.epochs = options.epochs;
      if (!draft.spec) throw new LockstepError(`${where}: no network: give the base a model (a preset) or a spec`);
      const spec = draft.spec;
      const outline = specSchema.safeParse(spec);
      if (!outline.success)
        throw new LockstepError(
          `${runWhere}: spec: ${outline.error.issues[0].path.join('.')}: ${outline.error.issues[0].message}`,
        );
      try {
        resolveSpec(spec);
      } catch (e) {
        throw new LockstepError(`${runWhere}: ${(e as Error).message}`);
      }
      const settings = checkedSettings(draft.settings, runWhere);
      const engineId = draft.engine === 'scratch' ? 'scratch' : `tfjs-${draft.backend}`;
      const cell = safe(label.replace(/ /g, '_'));
      const key = `${cell}_${engineId}`;
      if (keys.has(key))
        throw new LockstepError(`${runWhere}: the same run (${key}) is planned twice; give the axes distinct labels`);
      keys.add(key);
      runs.push({
        key,
        cell,
        part: part.name,
        label,
        axes: labels,
        spec,
        settings,
        engine: draft.engine,
        backend: draft.backend,
        engineId,
      });
    }
  }
  return { experiment, runs, timing: timingTargets(experiment, runs) };
}

function timingTargets(experiment: ExperimentSpec, runs: PlannedRun[]): TimingTarget[] {
  const t = experiment.timing;
  if (!t) return [];
  const where = Object.entries(t.where ?? {});
  const chosen = runs.filter(
    (r) => (!t.parts || t.parts.includes(r.part)) && where.every(([axis, values]) => values.includes(r.axes[axis])),
  );
  if (!chosen.length)
    throw new LockstepError(
      `experiment "${experiment.name}": timing selects no run (check timing.parts and timing.where)`,
    );
  return chosen.map((r) => ({
    key: r.key,
    label: r.label,
    engineId: r.engineId,
    spec: r.spec,
    settings: r.settings,
    engine: r.engine,
    backend: r.backend,
    batchSizes: [...t.batchSizes],
    steps: t.steps ?? DEFAULT_TIMING_STEPS,
  }));
}
