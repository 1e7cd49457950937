/**
 * Builds an ONNX graph node by node. A sequence flows through the graph in one of two layouts:
 * time-major `[batch, time, channels]` as Lockstep and the model's input hold it, or
 * channels-first `[batch, channels, time]` as ONNX's Conv, pooling and BatchNormalization want
 * it; a Transpose is added only where a layer needs the other one. Flat values are
 * `[batch, features]`.
 */
import { attribute, type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor } from './proto';

export type Layout = 'time-major' | 'channels-first' | 'flat';

/** A tensor in the graph: its name and how its axes are laid out. */
export interface Value {
  name: string;
  layout: Layout;
}

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'probabilities';

export class OnnxGraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly names = new Set<string>([INPUT_NAME, OUTPUT_NAME]);

  /** A float32 constant (a weight); returns its name. */
  constant(name: string, dims: number[], data: Float32Array): string {
    const unique = this.claim(name);
    this.initializers.push({ name: unique, dims, type: 'float32', data });
    return unique;
  }

  /** A 1-D int64 constant (axes); returns its name. */
  int64s(name: string, values: number[]): string {
    const unique = this.claim(name);
    this.initializers.push({ name: unique, dims: [values.length], type: 'int64', data: values });
    return unique;
  }

  /** One node with one output, named `<scope>/<opType>`; returns the output's name. */
  node(scope: string, opType: string, inputs: string[], attributes: OnnxAttribute[] = []): string {
    const name = this.claim(`${scope}/${opType}`);
    this.nodes.push({ name, opType, inputs, outputs: [name], attributes });
    return name;
  }

  /** `x` as `[batch, channels, time]`. */
  channelsFirst(x: Value, scope: string): Value {
    return x.layout === 'time-major' ? this.swapTimeAndChannels(x, scope, 'channels-first') : x;
  }

  /** `x` as `[batch, time, channels]`. */
  timeMajor(x: Value, scope: string): Value {
    return x.layout === 'channels-first' ? this.swapTimeAndChannels(x, scope, 'time-major') : x;
  }

  /**
   * The finished graph: `input` `[batch, frames, channels]` in, `probabilities` `[batch, classes]`
   * out, where `output` is the flat value the last node wrote.
   */
  finish(name: string, output: Value, frames: number, channels: number, classes: number): OnnxGraph {
    const last = this.nodes[this.nodes.length - 1];
    if (output.layout !== 'flat' || !last || last.outputs[0] !== output.name) {
      throw new Error(`the graph must end with the node writing a flat output, got ${output.name}`);
    }
    last.outputs[0] = OUTPUT_NAME;
    return {
      name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: [{ name: INPUT_NAME, shape: ['batch', frames, channels] }],
      outputs: [{ name: OUTPUT_NAME, shape: ['batch', classes] }],
    };
  }

  private swapTimeAndChannels(x: Value, scope: string, layout: Layout): Value {
    return { name: this.node(scope, 'Transpose', [x.name], [attribute.ints('perm', [0, 2, 1])]), layout };
  }

  private claim(name: string): string {
    let unique = name;
    for (let k = 2; this.names.has(unique); k++) unique = `${name}_${k}`;
    this.names.add(unique);
    return unique;
  }
}
