import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Split } from '../../shared/data/dataset';
import { tempDir } from '../services/test-helpers';
import { encodeSplits, readSplitExample, readSplits } from './split-file';

const dir = tempDir();
afterAll(dir.cleanup);

function split(n: number, frames: number, channels: number, seed: number): Split {
  const x = Float32Array.from({ length: n * frames * channels }, (_, i) => Math.fround(Math.sin(seed + i) * 1e3));
  return {
    x,
    y: Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 9),
    n,
    frames,
    channels,
    ids: Array.from({ length: n }, (_, i) => `s${seed}/ü-${i}.txt`),
  };
}

describe('split files', () => {
  it('round-trip every split exactly and read single examples in place', () => {
    const splits = { train: split(37, 5, 3, 1), dev: split(1, 5, 3, 2), eval: split(0, 5, 3, 3) };
    const file = join(dir.path, 'a.bin');
    writeFileSync(file, encodeSplits(splits));
    const back = readSplits(file);
    expect([...back.keys()]).toEqual(['train', 'dev', 'eval']);
    for (const [name, s] of Object.entries(splits)) {
      const b = back.get(name)!;
      expect(b.n).toBe(s.n);
      expect(Array.from(b.x)).toEqual(Array.from(s.x));
      expect(Array.from(b.y)).toEqual(Array.from(s.y));
      expect(b.ids).toEqual(s.ids);
    }
    const ex = readSplitExample(file, 'train', 36)!;
    expect(ex).toMatchObject({ id: 's1/ü-36.txt', label: splits.train.y[36], frames: 5, channels: 3 });
    expect(Array.from(ex.values)).toEqual(Array.from(splits.train.x.subarray(36 * 15, 37 * 15)));
    expect(readSplitExample(file, 'train', 37)).toBeNull();
    expect(readSplitExample(file, 'nope', 0)).toBeNull();
  });

  it('report truncated or foreign files', () => {
    const bytes = encodeSplits({ train: split(10, 4, 2, 5) });
    const file = join(dir.path, 'b.bin');
    writeFileSync(file, bytes.subarray(0, bytes.byteLength - 50));
    expect(() => readSplits(file)).toThrow(/truncated/);
    writeFileSync(file, 'hello world, not a split file');
    expect(() => readSplits(file)).toThrow(/not a readable Lockstep split file/);
  });
});
