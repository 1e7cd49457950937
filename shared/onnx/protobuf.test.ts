import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

// The byte strings are those of the protobuf encoding guide (https://protobuf.dev/programming-guides/encoding/).
describe('ProtoWriter', () => {
  it('writes a varint field: tag (field << 3 | 0), then 7 bits a byte, least significant first', () => {
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe('08 96 01');
    expect(hex(new ProtoWriter().varint(1, 0).finish())).toBe('08 00');
    expect(hex(new ProtoWriter().varint(20, 7).finish())).toBe('a0 01 07');
  });

  it('writes integers up to 2^53 − 1 exactly and refuses negative or fractional ones', () => {
    expect(hex(new ProtoWriter().varint(1, 2 ** 53 - 1).finish())).toBe('08 ff ff ff ff ff ff ff 0f');
    expect(hex(new ProtoWriter().varint(1, 2 ** 32).finish())).toBe('08 80 80 80 80 10');
    expect(() => new ProtoWriter().varint(1, -1)).toThrow(RangeError);
    expect(() => new ProtoWriter().varint(1, 1.5)).toThrow(RangeError);
  });

  it('writes strings as UTF-8 with their byte length, and nested messages the same way', () => {
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('12 07 74 65 73 74 69 6e 67');
    expect(hex(new ProtoWriter().string(1, 'σ').finish())).toBe('0a 02 cf 83');
    expect(hex(new ProtoWriter().message(3, (m) => m.varint(1, 150)).finish())).toBe('1a 03 08 96 01');
    expect(hex(new ProtoWriter().message(3, () => {}).finish())).toBe('1a 00');
  });

  it('writes a float as 4 little-endian bytes (wire type 5)', () => {
    expect(hex(new ProtoWriter().float(2, 1.5).finish())).toBe('15 00 00 c0 3f');
    expect(hex(new ProtoWriter().float(2, 1e-3).finish())).toBe('15 6f 12 83 3a');
  });

  it('keeps fields in call order; a repeated field is the field written again', () => {
    const w = new ProtoWriter().varint(8, 1).varint(8, 2).string(1, 'a');
    expect(hex(w.finish())).toBe('40 01 40 02 0a 01 61');
  });
});
