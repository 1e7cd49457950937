import { ACTIVATIONS } from '../../../shared/engine/activations';
import { fieldMeta, schemaFields, type FieldKind } from '../../../shared/engine/layers/fields';
import { descriptorOf } from '../../../shared/engine/layers/registry';
import {
  LAYER_TYPES,
  resolveSpec,
  type LayerType,
  type ResolvedLayer,
  type ResolvedNetwork,
} from '../../../shared/engine/spec';
import { LockstepError } from '../../../shared/errors';

/**
 * The network editor's operations, as pure functions over plain spec objects: every edit
 * returns a new spec (so undo, saving and Svelte's reactivity stay simple), and
 * `analyzeSpec` runs the real `resolveSpec` to give every layer's shape and parameter count,
 * or the first error with the layer it points at.
 */
export type Layer = { type: LayerType } & Record<string, unknown>;
export interface EditableSpec {
  input: [number, number];
  layers: Layer[];
}

export interface FieldDef {
  key: string;
  label: string;
  kind: FieldKind;
  /** Shown as the placeholder when the key is absent (the tfjs default). */
  fallback?: string;
  required?: boolean;
}

/** The fields of a layer type as the editor shows them, in its schema's order (hidden ones left out). */
function editorFields(type: LayerType): FieldDef[] {
  return Object.entries(schemaFields(descriptorOf(type).schema)).flatMap(([key, field]) => {
    const { kind, fallback, hidden } = fieldMeta(field);
    return hidden ? [] : [{ key, label: key, kind, ...(fallback === undefined ? { required: true } : { fallback }) }];
  });
}

/** The config keys each layer type takes, in the order the editor shows them (from the layer descriptors). */
export const LAYER_FIELDS = Object.fromEntries(LAYER_TYPES.map((t) => [t, editorFields(t)])) as Record<
  LayerType,
  FieldDef[]
>;

export const ACTIVATION_NAMES = ACTIVATIONS;
export { LAYER_TYPES };
export type { FieldKind };

/** A sensible new layer of a type. */
export function defaultLayer(type: LayerType, classes = 9): Layer {
  return { type, ...descriptorOf(type).starter?.(classes) };
}

function clone(spec: EditableSpec): EditableSpec {
  return { input: [spec.input[0], spec.input[1]], layers: spec.layers.map((l) => ({ ...l })) };
}

function isOutputLayer(l: Layer | undefined): boolean {
  return !!l && l.type === 'Dense' && l.activation === 'softmax';
}

/**
 * Adds a layer: at `index` when given, else just before the output layer (a softmax Dense,
 * which must stay last), else at the end. Returns the new spec and where the layer went.
 */
export function addLayer(
  spec: EditableSpec,
  type: LayerType,
  index?: number,
  classes = 9,
): { spec: EditableSpec; index: number } {
  const next = clone(spec);
  const n = next.layers.length;
  const at = index ?? (isOutputLayer(next.layers[n - 1]) ? n - 1 : n);
  const pos = Math.max(0, Math.min(n, at));
  next.layers.splice(pos, 0, defaultLayer(type, classes));
  return { spec: next, index: pos };
}

/**
 * Adds a layer where the network stays valid: the latest place before the output layer at which
 * it still resolves (a pooling layer goes before TimeSum or Flatten, not after them). A network
 * that is already invalid, or valid nowhere with the new layer, gets it just before the output layer.
 */
export function addLayerWhereValid(
  spec: EditableSpec,
  type: LayerType,
  input: [number, number],
  classes = 9,
): { spec: EditableSpec; index: number } {
  const fallback = addLayer(spec, type, undefined, classes);
  const valid = (s: EditableSpec) => analyzeSpec(withInput(s, input), classes).error === null;
  if (!valid(spec)) return fallback;
  for (let at = fallback.index; at >= 0; at--) {
    const placed = addLayer(spec, type, at, classes);
    if (valid(placed.spec)) return placed;
  }
  return fallback;
}

export function removeLayer(spec: EditableSpec, index: number): EditableSpec {
  const next = clone(spec);
  if (index >= 0 && index < next.layers.length) next.layers.splice(index, 1);
  return next;
}

/** Moves a layer up (delta −1) or down (+1); out-of-range moves leave the spec as it was. */
export function moveLayer(spec: EditableSpec, index: number, delta: number): EditableSpec {
  const to = index + delta;
  if (index < 0 || index >= spec.layers.length || to < 0 || to >= spec.layers.length) return spec;
  const next = clone(spec);
  const [layer] = next.layers.splice(index, 1);
  next.layers.splice(to, 0, layer);
  return next;
}

/** Sets one key of one layer; `undefined` (or '') removes it, so the tfjs default applies. */
export function setLayerField(spec: EditableSpec, index: number, key: string, value: unknown): EditableSpec {
  const next = clone(spec);
  const layer = next.layers[index];
  if (!layer) return spec;
  if (value === undefined || value === '' || (typeof value === 'number' && Number.isNaN(value))) delete layer[key];
  else layer[key] = value;
  return next;
}

/** Changes a layer's type, keeping the keys the new type also takes (and its name). */
export function changeLayerType(spec: EditableSpec, index: number, type: LayerType, classes = 9): EditableSpec {
  const next = clone(spec);
  const old = next.layers[index];
  if (!old || old.type === type) return spec;
  const fresh = defaultLayer(type, classes);
  const keys = new Set(LAYER_FIELDS[type].map((f) => f.key));
  for (const [k, v] of Object.entries(old)) if (keys.has(k)) fresh[k] = v;
  if (typeof old.name === 'string') fresh.name = old.name;
  next.layers[index] = fresh;
  return next;
}

export function withInput(spec: EditableSpec, input: [number, number]): EditableSpec {
  if (spec.input[0] === input[0] && spec.input[1] === input[1]) return spec;
  return { input: [input[0], input[1]], layers: spec.layers };
}

export interface SpecAnalysis {
  /** Every layer that resolved: all of them when the spec is valid, else those before the error. */
  layers: ResolvedLayer[];
  network: ResolvedNetwork | null;
  error: string | null;
  /** The 0-based layer the error names, when it names one. */
  errorLayer: number | null;
  paramCount: number;
}

/** Which layer a resolveSpec message points at ("layer 3 Dense: …" → 2). */
export function errorLayerIndex(message: string): number | null {
  const m = /^layer (\d+)\b/.exec(message);
  return m ? Number(m[1]) - 1 : null;
}

const PROBE_FLATTEN = { type: 'Flatten', name: 'zz_probe_flatten' };
const probeOutput = (classes: number) => ({
  type: 'Dense',
  name: 'zz_probe_output',
  units: classes,
  activation: 'softmax',
});

/**
 * Resolves a spec with the real resolver. When it is invalid, the longest valid prefix is
 * resolved too (closed with a probe Flatten + softmax Dense), so the table still shows every
 * shape up to the layer that breaks.
 */
export function analyzeSpec(spec: EditableSpec, classes?: number): SpecAnalysis {
  try {
    const network = resolveSpec(spec, classes);
    return { layers: network.layers, network, error: null, errorLayer: null, paramCount: network.paramCount };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    if (!(e instanceof LockstepError)) {
      return { layers: [], network: null, error, errorLayer: null, paramCount: 0 };
    }
    let layers: ResolvedLayer[] = [];
    // The layer an error names may itself be fine (e.g. 'the last layer must be …'): try with it first.
    const named = errorLayerIndex(error);
    const limit = Math.min(spec.layers.length, named === null ? spec.layers.length : named + 1);
    for (let k = limit; k >= 1; k--) {
      try {
        const probe = resolveSpec({
          input: spec.input,
          layers: [...spec.layers.slice(0, k), PROBE_FLATTEN, probeOutput(classes ?? 2)],
        });
        layers = probe.layers.slice(0, k);
        break;
      } catch {
        // a shorter prefix, then
      }
    }
    return {
      layers,
      network: null,
      error,
      errorLayer: errorLayerIndex(error),
      paramCount: layers.reduce((s, l) => s + l.paramCount, 0),
    };
  }
}

/** A spec file: a bare spec, or a preset-shaped object with `spec` (and `training`). */
export function parseSpecFile(text: string): { spec: EditableSpec; training?: Record<string, unknown> } {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new LockstepError(`not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new LockstepError('a spec file holds an object with "input" and "layers"');
  const obj = raw as Record<string, unknown>;
  const specRaw = ('spec' in obj ? obj.spec : obj) as Record<string, unknown>;
  if (!specRaw || typeof specRaw !== 'object' || !Array.isArray(specRaw.layers))
    throw new LockstepError('a spec file holds an object with "input" and "layers"');
  const input =
    Array.isArray(specRaw.input) && specRaw.input.length === 2
      ? (specRaw.input as [number, number])
      : ([70, 16] as [number, number]);
  const layers = (specRaw.layers as unknown[]).map((l, i) => {
    if (!l || typeof l !== 'object' || Array.isArray(l))
      throw new LockstepError(`layer ${i + 1}: expected an object with a "type"`);
    return { ...(l as Layer) };
  });
  const training =
    'spec' in obj && obj.training && typeof obj.training === 'object'
      ? (obj.training as Record<string, unknown>)
      : undefined;
  return { spec: { input: [input[0], input[1]], layers }, training };
}

export function specToJson(spec: EditableSpec): string {
  return `${JSON.stringify({ input: spec.input, layers: spec.layers }, null, 2)}\n`;
}
