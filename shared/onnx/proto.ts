/**
 * The ONNX messages an export needs (ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, OperatorSetIdProto, StringStringEntryProto), as plain objects,
 * and their encoding. Field numbers are those of onnx/onnx.proto.
 */
import { ProtoWriter } from './protobuf';

/** TensorProto.DataType values. */
const ELEM_TYPE = { float32: 1, int64: 7 } as const;
/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, ints: 7 } as const;

export type OnnxAttribute =
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'ints'; value: number[] };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

/** A constant; int64 values are small integers (axes). Stored as little-endian raw_data. */
export type OnnxTensor =
  | { name: string; dims: number[]; type: 'float32'; data: Float32Array }
  | { name: string; dims: number[]; type: 'int64'; data: number[] };

/** A float32 graph input or output; a string dimension is symbolic (`batch`). */
export interface OnnxValueInfo {
  name: string;
  shape: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  /** The default (ai.onnx) domain's opset. */
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: OnnxGraph;
  metadata: ReadonlyArray<readonly [string, string]>;
}

export const attribute = {
  float: (name: string, value: number): OnnxAttribute => ({ name, kind: 'float', value }),
  int: (name: string, value: number): OnnxAttribute => ({ name, kind: 'int', value }),
  ints: (name: string, value: number[]): OnnxAttribute => ({ name, kind: 'ints', value }),
};

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name).varint(20, ATTRIBUTE_TYPE[a.kind]);
  if (a.kind === 'float') w.float(2, a.value);
  else if (a.kind === 'int') w.varint(3, a.value);
  else for (const v of a.value) w.varint(8, v);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) w.message(5, (m) => writeAttribute(m, a));
}

function rawData(t: OnnxTensor): Uint8Array {
  const width = t.type === 'float32' ? 4 : 8;
  const bytes = new Uint8Array(t.data.length * width);
  const view = new DataView(bytes.buffer);
  t.data.forEach((v: number, i: number) => {
    if (t.type === 'float32') view.setFloat32(i * 4, v, true);
    else view.setBigInt64(i * 8, BigInt(v), true);
  });
  return bytes;
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, ELEM_TYPE[t.type]).string(8, t.name).bytes(9, rawData(t));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.varint(1, ELEM_TYPE.float32).message(2, (shape) => {
        for (const d of v.shape)
          shape.message(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : dim.string(2, d)));
      }),
    ),
  );
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** The model's bytes, as an `.onnx` file holds them. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  w.message(8, (opset) => opset.string(1, '').varint(2, model.opsetVersion));
  for (const [key, value] of model.metadata) w.message(14, (m) => m.string(1, key).string(2, value));
  return w.finish();
}
