import { LockstepError } from '../errors';
import { failAt, shapeText, type ParamShape } from './layers/descriptor';
import { schemaFields } from './layers/fields';
import { LAYER_TYPES, descriptorOf, isLayerType, type LayerConfig, type LayerType } from './layers/registry';

/**
 * A network spec: plain JSON, one entry per layer, keyed as tfjs-layers configs are
 * (`filters`, `kernelSize`, `poolSize`, `strides`, `padding`), so it maps one to one onto a
 * tfjs model. `input` is `[time, channels]`. Resolving a spec fills every default, names
 * every layer, infers every shape and parameter count, and rejects what cannot be built;
 * what each layer type takes and does is its descriptor's (layers/registry.ts).
 */
export type { Padding } from './layers/fields';
export type { ParamShape } from './layers/descriptor';
export type { LayerConfig, LayerType } from './layers/registry';
export type { Conv1DConfig } from './layers/conv1d';
export type { DenseConfig } from './layers/dense';
export type { Pool1DConfig } from './layers/pool1d';
export type { BatchNormalizationConfig } from './layers/batch-normalization';
export { LAYER_TYPES };

/** A layer as written in a spec file: only `type` and the required keys are needed. */
export type LayerSpec = { type: LayerType } & Record<string, unknown>;

export interface NetworkSpec {
  input: [number, number];
  layers: LayerSpec[];
}

export interface ResolvedLayer {
  config: LayerConfig;
  inputShape: number[];
  outputShape: number[];
  /** Every weight tensor, trained and state, in Keras's weight order (what is saved and exported). */
  params: ParamShape[];
  paramCount: number;
}

export interface ResolvedNetwork {
  input: [number, number];
  layers: ResolvedLayer[];
  paramCount: number;
  classes: number;
}

/** A layer's options checked against its descriptor's schema, every default filled. */
function readConfig(raw: Record<string, unknown>, type: LayerType, where: string, name: string): LayerConfig {
  const fail = failAt(where);
  const descriptor = descriptorOf(type);
  const allowed = ['type', 'name', ...Object.keys(schemaFields(descriptor.schema))];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) fail(`unknown option '${key}' (expected one of ${allowed.join(', ')})`);
  }
  const { type: _type, name: _name, ...options } = raw;
  const parsed = descriptor.schema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`${issue.path.join('.')} ${issue.message}`);
  }
  return { type, name, ...parsed.data } as LayerConfig;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks a spec and computes everything fixed at build time. `classes`, when given, is the
 * number of classes the last layer must output.
 */
export function resolveSpec(spec: unknown, classes?: number): ResolvedNetwork {
  if (!isRecord(spec)) throw new LockstepError('network spec: expected an object with "input" and "layers"');
  for (const key of Object.keys(spec)) {
    if (key !== 'input' && key !== 'layers')
      throw new LockstepError(`network spec: unknown key '${key}' (expected input, layers)`);
  }
  const input = spec.input;
  if (!Array.isArray(input) || input.length !== 2 || !input.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new LockstepError(
      `network spec: input must be [time, channels], two integers ≥ 1, got ${JSON.stringify(input)}`,
    );
  }
  const rawLayers = spec.layers;
  if (!Array.isArray(rawLayers) || rawLayers.length === 0)
    throw new LockstepError('network spec: layers must be a non-empty array');

  const counters = new Map<LayerType, number>();
  const names = new Set<string>();
  const layers: ResolvedLayer[] = [];
  let shape: number[] = [input[0], input[1]];
  rawLayers.forEach((raw: unknown, i: number) => {
    const where0 = `layer ${i + 1}`;
    if (!isRecord(raw)) throw new LockstepError(`${where0}: expected an object with a "type"`);
    const type = raw.type;
    if (!isLayerType(type)) {
      throw new LockstepError(
        `${where0}: unknown type ${JSON.stringify(type)} (expected one of ${LAYER_TYPES.join(', ')})`,
      );
    }
    const where = `${where0} ${type}`;
    const count = (counters.get(type) ?? 0) + 1;
    counters.set(type, count);
    let name = `${descriptorOf(type).nameStem}_${count}`;
    if (raw.name !== undefined) {
      if (typeof raw.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(raw.name)) {
        throw new LockstepError(
          `${where}: name must start with a letter and hold only letters, digits and _, got ${JSON.stringify(raw.name)}`,
        );
      }
      name = raw.name;
    }
    if (names.has(name)) throw new LockstepError(`${where}: name '${name}' is used by an earlier layer`);
    names.add(name);
    const config = readConfig(raw, type, where, name);
    const isLast = i === rawLayers.length - 1;
    if ('activation' in config && config.activation === 'softmax' && !(isLast && config.type === 'Dense')) {
      throw new LockstepError(
        `${where}: activation 'softmax' only ends the network (a last Dense layer, fused with the NLL loss)`,
      );
    }
    const { outputShape, params } = descriptorOf(type).infer(config, shape, failAt(where));
    if (outputShape.some((d) => d < 1))
      throw new LockstepError(`${where}: output shape ${shapeText(outputShape)} is empty`);
    const paramCount = params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    layers.push({ config, inputShape: shape, outputShape, params, paramCount });
    shape = outputShape;
  });

  const last = layers[layers.length - 1].config;
  if (last.type !== 'Dense' || last.activation !== 'softmax') {
    throw new LockstepError(
      `layer ${layers.length} ${last.type}: the last layer must be a Dense layer with activation 'softmax' (one unit per class)`,
    );
  }
  if (classes !== undefined && last.units !== classes) {
    throw new LockstepError(
      `layer ${layers.length} Dense: units ${last.units} must equal the number of classes, ${classes}`,
    );
  }
  return {
    input: [input[0], input[1]],
    layers,
    paramCount: layers.reduce((s, l) => s + l.paramCount, 0),
    classes: last.units,
  };
}
