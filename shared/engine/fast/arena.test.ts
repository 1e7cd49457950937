import { describe, expect, it } from 'vitest';
import { Arena, ArenaSizer } from './arena';

describe('Arena', () => {
  it('hands out 16-byte aligned views of one memory, and its ctor allocates there too', () => {
    const arena = new Arena(1024);
    const a = arena.f32(3),
      b = arena.i32(5),
      c = new arena.ctor(2);
    for (const v of [a, b, c]) {
      expect(v.buffer).toBe(arena.memory.buffer);
      expect(v.byteOffset % 16).toBe(0);
    }
    expect(b.byteOffset - a.byteOffset).toBe(16);
    expect(c.byteOffset - b.byteOffset).toBe(32);
    expect(c).toBeInstanceOf(Float32Array);
    expect(c.length).toBe(2);
  });

  it('counts, in a sizing pass, the bytes the same allocations take', () => {
    const sizer = new ArenaSizer();
    sizer.f32(3);
    sizer.i32(5);
    new sizer.ctor(2);
    const arena = new Arena(sizer.bytes);
    arena.f32(3);
    arena.i32(5);
    new arena.ctor(2);
    // The arena's pages hold more than asked; what was counted is what the build took.
    expect(sizer.bytes).toBe(64 + 16 + 32 + 16);
  });

  it('refuses to outgrow its memory, which would detach every view', () => {
    const arena = new Arena(100);
    expect(() => arena.f32(20000)).toThrow(/out of memory/);
    expect(arena.memory.buffer.byteLength).toBe(65536);
  });

  it('places a foreign input by copying it, and an arena view by address', () => {
    const arena = new Arena(1024);
    const stage = arena.f32(4),
      own = arena.f32(4);
    const foreign = Float64Array.from([1, 2, 3, 4, 5]);
    expect(arena.place(foreign, stage, 4)).toBe(stage.byteOffset);
    expect(Array.from(stage)).toEqual([1, 2, 3, 4]);
    expect(arena.place(own, stage, 4)).toBe(own.byteOffset);
    expect(() => arena.ptr(new Float32Array(4))).toThrow(/not in this arena/);
  });
});
