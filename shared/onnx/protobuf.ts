/**
 * The protobuf wire format, write side only, for the few field kinds ONNX's messages use:
 * varints (int32, int64 and enums, never negative here), 32-bit floats, and length-delimited
 * fields (strings, bytes, nested messages). Fields are written in the order they are called;
 * a repeated field is the same field written again (unpacked, as proto2 declares ONNX's).
 * See https://protobuf.dev/programming-guides/encoding/.
 */
const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  /** An unsigned integer (int32, int64, enum or bool field). */
  varint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  /** A float field: 4 bytes, little-endian. */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  /** A string field, UTF-8. */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A bytes field, or an already encoded nested message. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.rawVarint(value.length);
    this.push(value);
    return this;
  }

  /** A nested message, written by `write` into its own writer. */
  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** Base-128, least significant group first; exact for every integer up to 2^53. */
  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`a varint must be a non-negative safe integer, got ${value}`);
    const bytes: number[] = [];
    let v = value;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
    this.push(Uint8Array.from(bytes));
  }

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
}
