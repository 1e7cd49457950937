/**
 * A resolved Lockstep network and its weights as an ONNX model (opset 13): input `input`
 * `[batch, frames, channels]` float32 (already standardised), output `probabilities`
 * `[batch, classes]`; each layer mapped by its descriptor's `onnx` hook. The caller's metadata (classes,
 * standardisation, …) goes into metadata_props.
 */
import { descriptorOf } from '../engine/layers/registry';
import type { ResolvedNetwork } from '../engine/spec';
import { LockstepError } from '../errors';
import { OnnxGraphBuilder, INPUT_NAME, type Value } from './graph';
import { encodeModel } from './proto';

export const ONNX_OPSET = 13;
/** The IR version that opset 13 was released with (ONNX 1.8), which every runtime since reads. */
export const ONNX_IR_VERSION = 7;
/** The version of this mapping, written as the model's producer_version. */
export const ONNX_EXPORT_VERSION = '1';

export interface OnnxExportOptions {
  /** Every tensor of the network by its Lockstep name (`conv1d_1/kernel`), in the Lockstep layout. */
  weights: ReadonlyMap<string, Float32Array>;
  docString: string;
  metadata: ReadonlyArray<readonly [string, string]>;
}

export function buildOnnxModel(network: ResolvedNetwork, options: OnnxExportOptions): Uint8Array {
  const graph = new OnnxGraphBuilder();
  let x: Value = { name: INPUT_NAME, layout: 'time-major' };
  for (const layer of network.layers) {
    const { config } = layer;
    const weights = (param: string): Float32Array => {
      const name = `${config.name}/${param}`;
      const spec = layer.params.find((p) => p.name === name);
      const value = options.weights.get(name);
      if (!spec || !value) throw new LockstepError(`the model has no values for ${name}`);
      const size = spec.shape.reduce((a, b) => a * b, 1);
      if (value.length !== size)
        throw new LockstepError(
          `${name}: expected ${size} values (shape [${spec.shape.join(', ')}]), found ${value.length}`,
        );
      return value;
    };
    x = descriptorOf(config.type).onnx({ config, inputShape: layer.inputShape }, weights, graph, x);
  }
  const [frames, channels] = network.input;
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'Lockstep',
    producerVersion: ONNX_EXPORT_VERSION,
    docString: options.docString,
    graph: graph.finish('lockstep', x, frames, channels, network.classes),
    metadata: options.metadata,
  });
}
