import { resolveSpec } from '../../../shared/engine/spec';
import { expandExperiment, type ExperimentPlan } from '../../../shared/experiment/grid';
import { experimentSchema, type ExperimentSpec } from '../../../shared/protocol';
import { findJsonSyntaxError } from './experiments-json';

/**
 * Checks the experiment JSON the user types, before anything is sent, with the same rules the
 * services apply: JSON syntax (line, column and what was expected there), the protocol's zod schema (every
 * problem, each naming its field), then the grid itself expanded by shared/experiment/grid.ts
 * (unknown paths, presets, networks that do not resolve) and, given a dataset, each run's
 * network against the dataset's channels and classes.
 */
export interface GridProblem {
  message: string;
  /** 1-based, where the JSON syntax broke. */
  line?: number;
  column?: number;
  /** Offset in the text, to put the caret there. */
  offset?: number;
}

export interface GridPreview {
  runs: number;
  /** Runs per part, in plan order. */
  parts: Array<{ name: string; runs: number }>;
  engines: string[];
  /** Batch-size timings measured after the runs. */
  timingPoints: number;
  epochs: number[];
}

export type GridCheck =
  { ok: true; experiment: ExperimentSpec; preview: GridPreview } | { ok: false; problems: GridProblem[] };

/** At most this many schema problems are listed; the rest are counted. */
export const MAX_PROBLEMS = 6;

export interface DatasetShape {
  name: string;
  channels: number;
  classes: readonly string[];
}

/** Line and column (1-based) of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

function syntaxProblem(text: string, e: unknown): GridProblem {
  const found = findJsonSyntaxError(text);
  if (!found) return { message: `JSON: ${e instanceof Error ? e.message : String(e)}` };
  const { line, column } = lineColumn(text, found.offset);
  return { message: `JSON, line ${line}, column ${column}: ${found.message}`, line, column, offset: found.offset };
}

function fieldOf(path: ReadonlyArray<PropertyKey>): string {
  return path.length ? path.map(String).join('.') : '(top level)';
}

function previewOf(plan: ExperimentPlan): GridPreview {
  const parts: GridPreview['parts'] = [];
  for (const run of plan.runs) {
    const last = parts[parts.length - 1];
    if (last?.name === run.part) last.runs++;
    else parts.push({ name: run.part, runs: 1 });
  }
  return {
    runs: plan.runs.length,
    parts,
    engines: [...new Set(plan.runs.map((r) => r.engineId))],
    timingPoints: plan.timing.reduce((n, t) => n + t.batchSizes.length, 0),
    epochs: [...new Set(plan.runs.map((r) => r.settings.epochs))].sort((a, b) => a - b),
  };
}

export function checkExperimentText(
  text: string,
  options: { dataset?: DatasetShape; epochs?: number } = {},
): GridCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [syntaxProblem(text, e)] };
  }
  const parsed = experimentSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const problems = issues.slice(0, MAX_PROBLEMS).map((i) => ({ message: `${fieldOf(i.path)}: ${i.message}` }));
    if (issues.length > MAX_PROBLEMS) problems.push({ message: `… and ${issues.length - MAX_PROBLEMS} more` });
    return { ok: false, problems };
  }
  return checkExperiment(parsed.data, options);
}

/** A schema-valid experiment (a built-in, or parsed JSON): its runs expanded and, given a dataset, fitted to it. */
export function checkExperiment(
  experiment: ExperimentSpec,
  options: { dataset?: DatasetShape; epochs?: number } = {},
): GridCheck {
  let plan: ExperimentPlan;
  try {
    plan = expandExperiment(experiment, { epochs: options.epochs });
  } catch (e) {
    return { ok: false, problems: [{ message: (e as Error).message }] };
  }
  const { dataset } = options;
  if (dataset) {
    for (const run of plan.runs) {
      try {
        resolveSpec({ ...run.spec, input: [run.settings.frames, dataset.channels] }, dataset.classes.length);
      } catch (e) {
        return {
          ok: false,
          problems: [{ message: `run ${run.key} on dataset ${dataset.name}: ${(e as Error).message}` }],
        };
      }
    }
  }
  return { ok: true, experiment, preview: previewOf(plan) };
}

/** A small grid to start from: two learning rates × both engines on a course FNN, 3 epochs. */
export const EXAMPLE_GRID: ExperimentSpec = {
  name: 'lr-sweep',
  description: 'Two learning rates for the tanh FNN with 10 hidden units, both engines.',
  base: { model: 'fnn-10-tanh', backend: 'wasm', settings: { epochs: 3 } },
  grid: { lr: [0.001, 0.01], engine: ['scratch', 'tfjs'] },
};

export function experimentJson(experiment: ExperimentSpec): string {
  return JSON.stringify(experiment, null, 2);
}
