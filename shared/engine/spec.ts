import { LockstepError } from '../errors';
import { ACTIVATIONS, type ActivationName } from './activations';
import { window1d } from './window1d';

/**
 * A network spec: plain JSON, one entry per layer, keyed as tfjs-layers configs are
 * (`filters`, `kernelSize`, `poolSize`, `strides`, `padding`), so it maps one to one onto a
 * tfjs model. `input` is `[time, channels]`. Resolving a spec fills every default, names
 * every layer, infers every shape and parameter count, and rejects what cannot be built.
 */
export type Padding = 'valid' | 'same';

export interface Conv1DConfig {
  type: 'Conv1D';
  name: string;
  filters: number;
  kernelSize: number;
  strides: number;
  padding: Padding;
  dilationRate: number;
  useBias: boolean;
  activation: ActivationName;
}
export interface Pool1DConfig {
  type: 'MaxPooling1D' | 'AveragePooling1D';
  name: string;
  poolSize: number;
  strides: number;
  padding: Padding;
}
export interface DenseConfig {
  type: 'Dense';
  name: string;
  units: number;
  useBias: boolean;
  activation: ActivationName;
}
export interface DropoutConfig {
  type: 'Dropout';
  name: string;
  rate: number;
}
export interface ActivationConfig {
  type: 'Activation';
  name: string;
  activation: ActivationName;
}
export interface BatchNormalizationConfig {
  type: 'BatchNormalization';
  name: string;
  /** The moving statistics' decay per training step (Keras default 0.99). */
  momentum: number;
  /** Added to the variance before its square root (Keras default 1e-3). */
  epsilon: number;
}
export interface ReshapeConfig {
  type: 'Flatten' | 'TimeSum' | 'GlobalAveragePooling1D';
  name: string;
}
export type LayerConfig = Conv1DConfig | Pool1DConfig | DenseConfig | DropoutConfig | ActivationConfig | BatchNormalizationConfig | ReshapeConfig;
export type LayerType = LayerConfig['type'];

/** A layer as written in a spec file: only `type` and the required keys are needed. */
export type LayerSpec = { type: LayerType } & Record<string, unknown>;

export interface NetworkSpec {
  input: [number, number];
  layers: LayerSpec[];
}

export interface ParamShape {
  name: string;
  shape: number[];
  /** Absent for trained weights; false for state the forward pass updates (batch norm's moving statistics). */
  trainable?: false;
  /** What a 1-D tensor starts at when not 0 (batch norm's γ and moving variance: 1). */
  fill?: number;
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

export const LAYER_TYPES: readonly LayerType[] = [
  'Conv1D',
  'MaxPooling1D',
  'AveragePooling1D',
  'Dense',
  'Flatten',
  'TimeSum',
  'GlobalAveragePooling1D',
  'Dropout',
  'Activation',
  'BatchNormalization',
];

const ALLOWED_KEYS: Record<LayerType, readonly string[]> = {
  Conv1D: ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'useBias', 'activation'],
  MaxPooling1D: ['poolSize', 'strides', 'padding'],
  AveragePooling1D: ['poolSize', 'strides', 'padding'],
  Dense: ['units', 'useBias', 'activation'],
  Flatten: [],
  TimeSum: [],
  GlobalAveragePooling1D: [],
  Dropout: ['rate'],
  Activation: ['activation'],
  BatchNormalization: ['momentum', 'epsilon'],
};

/** Keras's default layer-name stems (`conv1d_1`, `max_pooling1d_2`, …). */
const NAME_STEMS: Record<LayerType, string> = {
  Conv1D: 'conv1d',
  MaxPooling1D: 'max_pooling1d',
  AveragePooling1D: 'average_pooling1d',
  Dense: 'dense',
  Flatten: 'flatten',
  TimeSum: 'time_sum',
  GlobalAveragePooling1D: 'global_average_pooling1d',
  Dropout: 'dropout',
  Activation: 'activation',
  BatchNormalization: 'batch_normalization',
};

class SpecReader {
  constructor(
    private readonly where: string,
    private readonly raw: Record<string, unknown>,
  ) {}

  fail(message: string): never {
    throw new LockstepError(`${this.where}: ${message}`);
  }

  int(key: string, fallback?: number, min = 1): number {
    let v = this.raw[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(`${key} is required (an integer ≥ ${min})`);
      return fallback;
    }
    // Keras accepts 1-D sizes as one-element arrays too.
    if (Array.isArray(v) && v.length === 1) v = v[0];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      this.fail(`${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(`${key} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, options: readonly T[], fallback?: T): T {
    const v = this.raw[key];
    if (v === undefined) {
      if (fallback === undefined) this.fail(`${key} is required (one of ${options.map((o) => `'${o}'`).join(', ')})`);
      return fallback;
    }
    if (typeof v !== 'string' || !options.includes(v as T)) {
      this.fail(`${key} must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  /** A number in [lo, hi) (`open`: in (lo, hi)), or the fallback when absent. */
  number(key: string, fallback: number, lo: number, hi: number, open = false): number {
    const v = this.raw[key];
    if (v === undefined) return fallback;
    const inRange = typeof v === 'number' && (open ? v > lo : v >= lo) && v < hi;
    if (!inRange) this.fail(`${key} must be a number in ${open ? '(' : '['}${lo}, ${hi === Infinity ? '∞' : hi}), got ${JSON.stringify(v)}`);
    return v as number;
  }

  rate(key: string): number {
    const v = this.raw[key];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) this.fail(`${key} must be a number in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  }
}

function readConfig(raw: Record<string, unknown>, where: string, name: string): LayerConfig {
  const type = raw.type as LayerType;
  const r = new SpecReader(where, raw);
  const allowed = ['type', 'name', ...ALLOWED_KEYS[type]];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) r.fail(`unknown option '${key}' (expected one of ${allowed.join(', ')})`);
  }
  switch (type) {
    case 'Conv1D':
      return {
        type,
        name,
        filters: r.int('filters'),
        kernelSize: r.int('kernelSize'),
        strides: r.int('strides', 1),
        padding: r.oneOf('padding', ['valid', 'same'], 'valid'),
        dilationRate: r.int('dilationRate', 1),
        useBias: r.bool('useBias', true),
        activation: r.oneOf('activation', ACTIVATIONS, 'linear'),
      };
    case 'MaxPooling1D':
    case 'AveragePooling1D': {
      const poolSize = r.int('poolSize', 2);
      return { type, name, poolSize, strides: r.int('strides', poolSize), padding: r.oneOf('padding', ['valid', 'same'], 'valid') };
    }
    case 'Dense':
      return { type, name, units: r.int('units'), useBias: r.bool('useBias', true), activation: r.oneOf('activation', ACTIVATIONS, 'linear') };
    case 'Dropout':
      return { type, name, rate: r.rate('rate') };
    case 'Activation':
      return { type, name, activation: r.oneOf('activation', ACTIVATIONS) };
    case 'BatchNormalization':
      return { type, name, momentum: r.number('momentum', 0.99, 0, 1), epsilon: r.number('epsilon', 1e-3, 0, Infinity, true) };
    default:
      return { type, name };
  }
}

function shapeText(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Output shape and parameter shapes of one layer, or a LockstepError naming what does not fit. */
function inferLayer(config: LayerConfig, inputShape: number[], where: string): { outputShape: number[]; params: ParamShape[] } {
  const fail = (message: string): never => {
    throw new LockstepError(`${where}: ${message}`);
  };
  const needSequence = (): [number, number] => {
    if (inputShape.length !== 2) fail(`expects a [time, channels] input, got ${shapeText(inputShape)}`);
    return [inputShape[0], inputShape[1]];
  };
  switch (config.type) {
    case 'Conv1D': {
      const [length, channels] = needSequence();
      const { kernelSize, strides, dilationRate, padding } = config;
      if (strides > 1 && dilationRate > 1) fail(`strides ${strides} with dilationRate ${dilationRate}: tfjs supports strides > 1 only with dilationRate 1`);
      const span = (kernelSize - 1) * dilationRate + 1;
      if (padding === 'valid' && span > length) {
        fail(dilationRate > 1
          ? `kernelSize ${kernelSize} with dilationRate ${dilationRate} spans ${span} steps, longer than its input length ${length}`
          : `kernelSize ${kernelSize} is longer than its input length ${length}`);
      }
      const { outLength } = window1d(length, span, strides, padding);
      const params = [{ name: `${config.name}/kernel`, shape: [kernelSize, channels, config.filters] }];
      if (config.useBias) params.push({ name: `${config.name}/bias`, shape: [config.filters] });
      return { outputShape: [outLength, config.filters], params };
    }
    case 'MaxPooling1D':
    case 'AveragePooling1D': {
      const [length, channels] = needSequence();
      if (config.padding === 'valid' && config.poolSize > length) fail(`poolSize ${config.poolSize} is longer than its input length ${length}`);
      const { outLength } = window1d(length, config.poolSize, config.strides, config.padding);
      return { outputShape: [outLength, channels], params: [] };
    }
    case 'Dense': {
      if (inputShape.length !== 1) {
        fail(`expects a flat input, got ${shapeText(inputShape)}: add a Flatten, TimeSum or GlobalAveragePooling1D before it`);
      }
      const params = [{ name: `${config.name}/kernel`, shape: [inputShape[0], config.units] }];
      if (config.useBias) params.push({ name: `${config.name}/bias`, shape: [config.units] });
      return { outputShape: [config.units], params };
    }
    case 'Flatten':
      return { outputShape: [inputShape.reduce((a, b) => a * b, 1)], params: [] };
    case 'TimeSum':
    case 'GlobalAveragePooling1D':
      return { outputShape: [needSequence()[1]], params: [] };
    case 'Dropout':
    case 'Activation':
      return { outputShape: [...inputShape], params: [] };
    case 'BatchNormalization': {
      const channels = [inputShape[inputShape.length - 1]];
      return {
        outputShape: [...inputShape],
        params: [
          { name: `${config.name}/gamma`, shape: channels, fill: 1 },
          { name: `${config.name}/beta`, shape: channels },
          { name: `${config.name}/moving_mean`, shape: channels, trainable: false },
          { name: `${config.name}/moving_variance`, shape: channels, trainable: false, fill: 1 },
        ],
      };
    }
  }
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
    if (key !== 'input' && key !== 'layers') throw new LockstepError(`network spec: unknown key '${key}' (expected input, layers)`);
  }
  const input = spec.input;
  if (!Array.isArray(input) || input.length !== 2 || !input.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new LockstepError(`network spec: input must be [time, channels], two integers ≥ 1, got ${JSON.stringify(input)}`);
  }
  const rawLayers = spec.layers;
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) throw new LockstepError('network spec: layers must be a non-empty array');

  const counters = new Map<LayerType, number>();
  const names = new Set<string>();
  const layers: ResolvedLayer[] = [];
  let shape: number[] = [input[0], input[1]];
  rawLayers.forEach((raw: unknown, i: number) => {
    const where0 = `layer ${i + 1}`;
    if (!isRecord(raw)) throw new LockstepError(`${where0}: expected an object with a "type"`);
    const type = raw.type;
    if (typeof type !== 'string' || !LAYER_TYPES.includes(type as LayerType)) {
      throw new LockstepError(`${where0}: unknown type ${JSON.stringify(type)} (expected one of ${LAYER_TYPES.join(', ')})`);
    }
    const where = `${where0} ${type}`;
    const count = (counters.get(type as LayerType) ?? 0) + 1;
    counters.set(type as LayerType, count);
    let name = `${NAME_STEMS[type as LayerType]}_${count}`;
    if (raw.name !== undefined) {
      if (typeof raw.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(raw.name)) {
        throw new LockstepError(`${where}: name must start with a letter and hold only letters, digits and _, got ${JSON.stringify(raw.name)}`);
      }
      name = raw.name;
    }
    if (names.has(name)) throw new LockstepError(`${where}: name '${name}' is used by an earlier layer`);
    names.add(name);
    const config = readConfig(raw, where, name);
    const isLast = i === rawLayers.length - 1;
    if ('activation' in config && config.activation === 'softmax' && !(isLast && config.type === 'Dense')) {
      throw new LockstepError(`${where}: activation 'softmax' only ends the network (a last Dense layer, fused with the NLL loss)`);
    }
    const { outputShape, params } = inferLayer(config, shape, where);
    if (outputShape.some((d) => d < 1)) throw new LockstepError(`${where}: output shape ${shapeText(outputShape)} is empty`);
    const paramCount = params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    layers.push({ config, inputShape: shape, outputShape, params, paramCount });
    shape = outputShape;
  });

  const last = layers[layers.length - 1].config;
  if (last.type !== 'Dense' || last.activation !== 'softmax') {
    throw new LockstepError(`layer ${layers.length} ${last.type}: the last layer must be a Dense layer with activation 'softmax' (one unit per class)`);
  }
  if (classes !== undefined && last.units !== classes) {
    throw new LockstepError(`layer ${layers.length} Dense: units ${last.units} must equal the number of classes, ${classes}`);
  }
  return {
    input: [input[0], input[1]],
    layers,
    paramCount: layers.reduce((s, l) => s + l.paramCount, 0),
    classes: last.units,
  };
}
