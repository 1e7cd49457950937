import { activationLayer } from './activation';
import { averagePooling1DLayer } from './average-pooling1d';
import { batchNormalizationLayer } from './batch-normalization';
import { conv1dLayer } from './conv1d';
import { denseLayer } from './dense';
import type { LayerConfigOf, LayerDescriptor } from './descriptor';
import { dropoutLayer } from './dropout';
import { flattenLayer } from './flatten';
import { globalAveragePooling1dLayer } from './global-average-pooling1d';
import { globalMaxPooling1dLayer } from './global-max-pooling1d';
import { layerNormalizationLayer } from './layer-normalization';
import { maxPooling1DLayer } from './max-pooling1d';
import { timeSumLayer } from './time-sum';

/**
 * Every layer type, in the order the editor and error messages list them. A new layer type is
 * one file (its descriptor, see descriptor.ts) and one line here.
 */
export const LAYER_DESCRIPTORS = [
  conv1dLayer,
  maxPooling1DLayer,
  averagePooling1DLayer,
  denseLayer,
  flattenLayer,
  timeSumLayer,
  globalAveragePooling1dLayer,
  dropoutLayer,
  activationLayer,
  batchNormalizationLayer,
  globalMaxPooling1dLayer,
  layerNormalizationLayer,
] as const;

type AnyLayerDescriptor = (typeof LAYER_DESCRIPTORS)[number];
export type LayerType = AnyLayerDescriptor['type'];
/** A resolved layer config: one of the descriptors' types, every option filled. */
export type LayerConfig = AnyLayerDescriptor extends infer D
  ? D extends LayerDescriptor<infer T, infer O>
    ? LayerConfigOf<T, O>
    : never
  : never;

export const LAYER_TYPES: readonly LayerType[] = LAYER_DESCRIPTORS.map((d) => d.type);

const BY_TYPE = new Map<string, LayerDescriptor<string, object>>(
  LAYER_DESCRIPTORS.map((d) => [d.type, d as unknown as LayerDescriptor<string, object>]),
);

export function isLayerType(type: unknown): type is LayerType {
  return typeof type === 'string' && BY_TYPE.has(type);
}

/**
 * The descriptor of a layer type, its hooks taking any config (the caller holds a config of
 * that type: a resolved one, or a raw one it validates with the schema).
 */
export function descriptorOf(type: LayerType): LayerDescriptor<string, object> {
  return BY_TYPE.get(type)!;
}
