import { PRESETS } from './presets';

/** Layer options in any key order: two layers with the same options are the same layer. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The preset these layers are (whatever the input size), else 'custom'. */
export function networkName(layers: ReadonlyArray<Record<string, unknown>>): string {
  const key = canonical(layers);
  for (const preset of PRESETS.values()) if (canonical(preset.spec.layers) === key) return preset.name;
  return 'custom';
}

export interface RunNameParts {
  layers: ReadonlyArray<Record<string, unknown>>;
  engine: 'scratch' | 'tfjs' | 'lockstep';
  backend: 'cpu' | 'wasm';
  datasetName: string;
  /** What the run belongs to (an experiment and its run key), put first. */
  context?: string;
}

/**
 * A run's one name, as every tab, the experiment table and the reports show it: the network
 * (its preset), the engine with the backend where tfjs runs, and the data.
 */
export function runName(run: RunNameParts): string {
  const engine = run.engine === 'scratch' ? 'scratch' : `${run.engine}/${run.backend}`;
  return [run.context, networkName(run.layers), engine, run.datasetName].filter(Boolean).join(' · ');
}
