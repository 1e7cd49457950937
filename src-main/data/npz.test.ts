import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { zipSync, type Zippable } from 'fflate';
import { LockstepError } from '../../shared/errors';
import { openDataset } from '../services/datasets';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { zip64Bytes } from './archive-fixtures';
import {
  encodeNpz,
  loadNpzDataset,
  MAX_CLASSES,
  npyFloat32,
  npyInt32,
  npyUnicode,
  NpzFile,
  npyFloats,
  npyInts,
  npyStrings,
  parseNpy,
} from './npz';

const tmp = tempDirsRemovedAfterAll('npz-test-');

// ----------------------------------------------------------------------------------------------
// .npy written by hand (independently of the module under test)
// ----------------------------------------------------------------------------------------------

interface NpyOptions {
  fortran?: boolean;
  /** Bytes cut from the end of the payload. */
  truncate?: number;
  version?: 1 | 2;
}

function npy(descr: string, shape: number[], payload: Uint8Array, o: NpyOptions = {}): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': ${dims}, }`;
  const pre = o.version === 2 ? 12 : 10;
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const data = payload.subarray(0, payload.length - (o.truncate ?? 0));
  const out = new Uint8Array(pre + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, o.version ?? 1, 0]);
  const dv = new DataView(out.buffer);
  if (o.version === 2) dv.setUint32(8, header.length, true);
  else dv.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(data, pre + header.length);
  return out;
}

const f32 = (v: ArrayLike<number>) => new Uint8Array(Float32Array.from(v).buffer);
const f64 = (v: ArrayLike<number>) => new Uint8Array(Float64Array.from(v).buffer);
const i64 = (v: number[]) => new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer);
const u8 = (v: number[]) => Uint8Array.from(v);
function unicode(strings: string[]): { descr: string; bytes: Uint8Array } {
  const w = Math.max(...strings.map((s) => [...s].length));
  const a = new Uint32Array(strings.length * w);
  strings.forEach((s, i) => [...s].forEach((ch, k) => (a[i * w + k] = ch.codePointAt(0)!)));
  return { descr: `<U${w}`, bytes: new Uint8Array(a.buffer) };
}

function npzFile(arrays: Record<string, Uint8Array>, level: 0 | 6 = 0): string {
  const z: Zippable = {};
  for (const [k, v] of Object.entries(arrays)) z[`${k}.npy`] = [v, { level }];
  const p = path.join(tmp(), 'data.npz');
  fs.writeFileSync(p, zipSync(z));
  return p;
}

/** Example i, frame t, channel c. */
const val = (i: number, t: number, c: number) => Math.sin(i * 1.7 + t * 0.3 + c * 0.9) * 2 + c;
function xs(n: number, T: number, C: number, first = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) out.push(val(first + i, t, c));
  return out;
}

async function refused(
  p: Promise<unknown>,
  file: string,
  field: string | undefined,
  ...fragments: string[]
): Promise<LockstepError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LockstepError);
  const le = err as LockstepError;
  expect(le.file).toBe(file);
  if (field !== undefined) {
    expect(le.field).toBe(field);
    expect(le.message).toContain(`field ${field}`);
  }
  for (const f of fragments) expect(le.message).toContain(f);
  return le;
}

// ----------------------------------------------------------------------------------------------

describe('npz datasets: good files', () => {
  it('splits from X_train/y_train, X_dev/y_dev, X_eval/y_eval; float32 and float64; named classes', async () => {
    const cls = unicode(['ba', 'da', 'ga']);
    const p = npzFile({
      X_train: npy('<f4', [4, 6, 3], f32(xs(4, 6, 3))),
      y_train: npy('<i8', [4], i64([0, 1, 2, 1])),
      X_dev: npy('<f8', [2, 5, 3], f64(xs(2, 5, 3, 10))),
      y_dev: npy('|u1', [2], u8([2, 0])),
      X_eval: npy('<f4', [1, 7, 3], f32(xs(1, 7, 3, 20))),
      y_eval: npy('<i2', [1], new Uint8Array(Int16Array.from([1]).buffer)),
      classes: npy(cls.descr, [3], cls.bytes),
      notes: npy('<f4', [1], f32([1])),
    });
    const ds = await openDataset(p, { frames: 5 });
    expect(ds.name).toBe('data');
    expect(ds.classes).toEqual(['ba', 'da', 'ga']);
    const tr = ds.splits.train!;
    expect([tr.n, tr.frames, tr.channels]).toEqual([4, 5, 3]);
    expect([...tr.y]).toEqual([0, 1, 2, 1]);
    expect(tr.ids).toEqual(['X_train[0]', 'X_train[1]', 'X_train[2]', 'X_train[3]']);
    // example 2, frame 4, channel 1: the first 5 of 6 frames kept
    expect(tr.x[(2 * 5 + 4) * 3 + 1]).toBe(Math.fround(val(2, 4, 1)));
    const dev = ds.splits.dev!;
    expect([...dev.y]).toEqual([2, 0]);
    expect(dev.x[(1 * 5 + 3) * 3 + 2]).toBe(Math.fround(val(11, 3, 2)));
    expect(ds.splits.eval!.n).toBe(1);
    expect(ds.reports.train).toEqual({
      listed: 4,
      kept: 4,
      dropped: { nonFinite: 0, short: 0, missing: 0, malformed: 0 },
      droppedExamples: [],
      classCounts: [1, 2, 1],
    });
  });

  it('bare X/y are the train split; default classes are 0…max', async () => {
    const a = npzFile({
      X: npy('<f4', [3, 4, 2], f32(xs(3, 4, 2))),
      y: npy('<i4', [3], new Uint8Array(Int32Array.from([0, 8, 3]).buffer)),
    });
    const ds = await loadNpzDataset(a, { frames: 4 });
    expect(ds.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8']);
    expect(Object.keys(ds.splits)).toEqual(['train']);
    const b = npzFile({ X: npy('<f4', [2, 4, 2], f32(xs(2, 4, 2))), y: npy('|u1', [2], u8([11, 0])) });
    const ds2 = await loadNpzDataset(b, { frames: 4 });
    expect(ds2.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(ds2.reports.train!.classCounts[11]).toBe(1);
  });

  it('savez_compressed-style (deflated) entries and .npy format 2.0 read the same', async () => {
    const arrays = { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2)), { version: 2 }), y: npy('|i1', [2], u8([1, 0])) };
    const a = await loadNpzDataset(npzFile(arrays, 0), { frames: 3 });
    const b = await loadNpzDataset(npzFile(arrays, 6), { frames: 3 });
    expect(b.splits.train!.x).toEqual(a.splits.train!.x);
  });

  it('frames protocol: short examples dropped or padded, non-finite ones dropped, with per-example reports', async () => {
    const X = xs(4, 6, 2);
    X[(1 * 6 + 2) * 2 + 1] = NaN; // example 1, frame 2
    const X64 = xs(2, 6, 2);
    X64[(0 * 6 + 5) * 2] = 1e300; // beyond float32
    const p = npzFile({
      X_train: npy('<f4', [4, 6, 2], f32(X)),
      y_train: npy('<i8', [4], i64([0, 1, 2, 3])),
      lengths_train: npy('<i8', [4], i64([6, 6, 3, 5])),
      X_dev: npy('<f8', [2, 6, 2], f64(X64)),
      y_dev: npy('<i8', [2], i64([0, 1])),
    });
    const ds = await loadNpzDataset(p, { frames: 5 });
    const r = ds.reports.train!;
    expect([r.listed, r.kept]).toEqual([4, 2]);
    expect(r.dropped).toEqual({ nonFinite: 1, short: 1, missing: 0, malformed: 0 });
    expect(r.droppedExamples).toEqual([
      { file: 'X_train[1]', reason: 'nonFinite', message: 'expected finite numbers, found NaN at frame 2, channel 1' },
      { file: 'X_train[2]', reason: 'short', message: '3 frames, at least 5 needed' },
    ]);
    expect(ds.splits.train!.ids).toEqual(['X_train[0]', 'X_train[3]']);
    expect(ds.reports.dev!.droppedExamples[0]).toMatchObject({ file: 'X_dev[0]', reason: 'nonFinite' });
    expect(ds.reports.dev!.droppedExamples[0].message).toContain('beyond the float32 range');

    const padded = await loadNpzDataset(p, { frames: 5, short: 'pad' });
    const tr = padded.splits.train!;
    expect(tr.ids).toEqual(['X_train[0]', 'X_train[2]', 'X_train[3]']);
    // example 2 has 3 valid frames: frames 3 and 4 are zeros (not the array's frames 3, 4)
    const ex = tr.x.subarray(1 * 10, 2 * 10);
    expect([...ex.subarray(6)]).toEqual([0, 0, 0, 0]);
    expect(ex[4]).toBe(Math.fround(val(2, 2, 0)));

    const allShort = await loadNpzDataset(p, { frames: 8 });
    expect(allShort.reports.train!.kept).toBe(0);
    expect(allShort.reports.train!.dropped.short).toBe(3);
  });
});

describe('npz datasets: bad arrays are LockstepErrors naming the file and array', () => {
  const goodY = npy('<i8', [2], i64([0, 1]));
  const cases: Array<[string, Record<string, Uint8Array>, string, string[]]> = [
    [
      'wrong dtype',
      { X: npy('<i4', [2, 3, 2], new Uint8Array(48)), y: goodY },
      'X',
      ["expected dtype float32 or float64 ('<f4' or '<f8', little-endian)", "found '<i4' (int32)"],
    ],
    ['big-endian', { X: npy('>f4', [2, 3, 2], new Uint8Array(48)), y: goodY }, 'X', ["'>f4' (big-endian float32)"]],
    [
      'fortran order',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2)), { fortran: true }), y: goodY },
      'X',
      ['expected C order (fortran_order False), found Fortran order'],
    ],
    [
      'wrong rank',
      { X: npy('<f4', [2, 6], f32(xs(2, 3, 2))), y: goodY },
      'X',
      ['expected shape [N, T, C]', 'found [2, 6]'],
    ],
    [
      'truncated payload',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2)), { truncate: 5 }), y: goodY },
      'X',
      ['expected 2×3×2 = 12 values of 4 bytes (48 bytes)', 'found 43 bytes (truncated)'],
    ],
    [
      'labels of the wrong length',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y: npy('<i8', [3], i64([0, 1, 1])) },
      'y',
      ['expected shape [2] (one label per example of X), found [3]'],
    ],
    [
      'float labels',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y: npy('<f8', [2], f64([0, 1])) },
      'y',
      ['expected an integer dtype', "'<f8' (float64)"],
    ],
    [
      'negative label',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y: npy('<i8', [2], i64([0, -1])) },
      'y',
      ['expected labels in 0–999', 'found -1 at index 1'],
    ],
    [
      'label past the class limit',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y: npy('<i8', [2], i64([999, 1000])) },
      'y',
      [
        'expected labels in 0–999 (without a classes array the labels are class indices, at most 1000 classes), found 1000 at index 1',
      ],
    ],
    [
      'too many class names',
      {
        X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))),
        y: goodY,
        classes: npy('<U1', [MAX_CLASSES + 1], new Uint8Array(new Uint32Array(MAX_CLASSES + 1).fill(65).buffer)),
      },
      'classes',
      ['expected at most 1000 class names, found shape [1001]'],
    ],
    [
      'label beyond classes',
      {
        X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))),
        y: npy('<i8', [2], i64([0, 2])),
        classes: npy(unicode(['a', 'b']).descr, [2], unicode(['a', 'b']).bytes),
      },
      'y',
      ['expected labels in 0–1 (classes holds 2 names), found 2 at index 1'],
    ],
    [
      'pickled classes',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y: goodY, classes: npy('|O', [2], new Uint8Array(16)) },
      'classes',
      ["expected a unicode string array (dtype '<U…')", 'dtype=str'],
    ],
    [
      'unknown split',
      { X_test: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y_test: goodY },
      'X_test',
      ['X_train, X_dev or X_eval, found X_test'],
    ],
    [
      'X and X_train',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), X_train: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y: goodY },
      'X',
      ['either X (the train split) or X_train, found both'],
    ],
    [
      'X without y',
      { X_dev: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))) },
      'y_dev',
      ['expected an array y_dev (the labels) beside X_dev'],
    ],
    [
      'channels differ',
      {
        X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))),
        y: goodY,
        X_dev: npy('<f4', [1, 3, 3], f32(xs(1, 3, 3))),
        y_dev: npy('<i8', [1], i64([0])),
      },
      'X_dev',
      ['expected 2 channels (as in X)'],
    ],
    [
      'lengths out of range',
      { X: npy('<f4', [2, 3, 2], f32(xs(2, 3, 2))), y: goodY, lengths: npy('<i8', [2], i64([3, 4])) },
      'lengths',
      ['expected lengths in 0–3', 'found 4 at index 1'],
    ],
    ['not an npy', { X: new TextEncoder().encode('hello'), y: goodY }, 'X', ['expected a .npy array']],
    [
      'no arrays',
      { other: npy('<f4', [1], f32([1])) },
      undefined as unknown as string,
      ['expected arrays X and y', 'found other'],
    ],
  ];
  it.each(cases)('%s', async (_name, arrays, field, fragments) => {
    const p = npzFile(arrays);
    await refused(loadNpzDataset(p, { frames: 3 }), p, field, ...fragments);
  });

  it('one label of 2^31 - 1 without classes is refused, never made into two billion classes (fuzz seed 1, shrunk)', async () => {
    // The counterexample fast-check found: X [262144, 0, 3] (no bytes), y all int32 2147483647,
    // no lengths, no classes. A class per index up to the label exhausted the heap (1.7 GB).
    const n = 262144;
    const p = npzFile(
      {
        X: npy('<f4', [n, 0, 3], new Uint8Array(0)),
        y: npy('<i4', [n], new Uint8Array(Int32Array.from({ length: n }, () => 2 ** 31 - 1).buffer)),
      },
      6,
    );
    await refused(
      openDataset(p, { frames: 70, short: 'drop' }),
      p,
      'y',
      'expected labels in 0–999',
      'found 2147483647 at index 0',
    );
  });

  it('a file that is not a zip, and a zip bomb inside an npz', async () => {
    const p = path.join(tmp(), 'x.npz');
    fs.writeFileSync(p, 'not a zip at all, but long enough to look for one');
    await refused(loadNpzDataset(p), p, undefined, 'expected a NumPy .npz file (a zip archive), found');
    const big = npzFile(
      {
        X: npy('<f4', [64, 1024, 16], new Uint8Array(64 * 1024 * 16 * 4)),
        y: npy('<i8', [64], i64(new Array(64).fill(0))),
      },
      6,
    );
    await refused(
      loadNpzDataset(big, { limits: { maxBytes: 1024 * 1024 } }),
      big,
      undefined,
      'entry "X.npy"',
      'more than the limit of 1 MiB',
    );
  });

  it('an array declaring 896 MiB (float32 zeros deflate to 0.9 MB) is refused by its declared size, before inflating: 128 MiB per import', async () => {
    const header = npy('<f4', [200_704, 70, 16], new Uint8Array(0));
    const p = path.join(tmp(), 'zeros.npz');
    const labels = npy('|u1', [1], new Uint8Array(1));
    fs.writeFileSync(p, zip64Bytes({ 'X.npy': header, 'y.npy': labels }, { size: 896n * 1024n * 1024n }));
    await refused(
      loadNpzDataset(p),
      p,
      undefined,
      'entry "X.npy"',
      'declares 896 MiB',
      'more than the limit of 128 MiB',
    );
    await refused(
      loadNpzDataset(p, { limits: { maxBytes: 2 * 1024 ** 3 } }),
      p,
      undefined,
      'more than the limit of 128 MiB',
    );
  });

  it('millions of empty examples in a few KB: refused by count, or dropped without a record each; never padded past 128 MiB', async () => {
    // X of shape [N, 0, 16] holds no bytes at all, and N zero labels deflate to almost nothing.
    const empty = (n: number) =>
      npzFile({ X: npy('<f4', [n, 0, 16], new Uint8Array(0)), y: npy('|u1', [n], new Uint8Array(n)) }, 6);
    const tooMany = empty(2 ** 24 + 1);
    expect(fs.statSync(tooMany).size).toBeLessThan(100_000);
    await refused(
      loadNpzDataset(tooMany),
      tooMany,
      'X',
      'expected at most 16777216 examples in a split, found shape [16777217, 0, 16]',
    );
    const many = empty(3_000_000);
    const ds = await loadNpzDataset(many);
    expect(ds.reports.train).toMatchObject({ listed: 3_000_000, kept: 0, dropped: { short: 3_000_000 } });
    expect(ds.reports.train!.droppedExamples).toHaveLength(10_000); // the first 10,000; the counts are exact
    expect(ds.reports.train!.droppedExamples[9_999]).toMatchObject({ file: 'X[9999]', reason: 'short' });
    const padded = empty(300_000);
    await refused(
      loadNpzDataset(padded, { short: 'pad' }),
      padded,
      undefined,
      'expected a split of at most 33554432 values (128 MiB of float32), found 300000 examples × 70 frames × 16 channels',
    );
  });
});

describe('npy arrays sized to exhaust memory, time or the stack', () => {
  it('strings of no bytes are refused: a shape alone would ask for any number of them', () => {
    for (const descr of ['<U0', '|S0']) {
      const a = parseNpy(npy(descr, [2 ** 40], new Uint8Array(0)), 'names', 'f.npz');
      expect(() => npyStrings(a, 'names', 'f.npz')).toThrow(
        /f\.npz, field names: expected strings of at least one character, found '(<U0|\|S0)'/,
      );
    }
  });

  it('a string of 200 000 code points reads (the stack is not asked to hold them all)', () => {
    const long = 'é𝄞'.repeat(100_000);
    const { descr, bytes } = unicode([long]);
    expect(npyStrings(parseNpy(npy(descr, [1], bytes), 'names', 'f.npz'), 'names', 'f.npz')).toEqual([long]);
  });

  it('a header past the 10 000 bytes numpy itself reads is refused before its fields are searched', () => {
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ${"'shape': (".repeat(2000)}}\n`;
    const bytes = new Uint8Array(12 + header.length + 4);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(bytes.buffer).setUint32(8, header.length, true);
    bytes.set(new TextEncoder().encode(header), 12);
    expect(() => parseNpy(bytes, 'X', 'f.npz')).toThrow(
      `f.npz, field X: expected a .npy header of at most 10000 bytes, found one of ${header.length} bytes`,
    );
  });
});

describe('npy / npz writing', () => {
  it('round-trips through the reader', async () => {
    const p = path.join(tmp(), 'w.npz');
    fs.writeFileSync(
      p,
      encodeNpz([
        ['w', npyFloat32([2, 3], [1, 2, 3, 4, 5, 6.5])],
        ['n', npyInt32([3], [-1, 0, 7])],
        ['names', npyUnicode(['B', 'Zé', '𝄞x'])],
        ['spec_json', npyUnicode(['{"a": 1}'], true)],
      ]),
    );
    const z = NpzFile.open(p);
    try {
      expect(z.names).toEqual(['w', 'n', 'names', 'spec_json']);
      const w = await z.read('w');
      expect(w.shape).toEqual([2, 3]);
      expect([...npyFloats(w, 'w', p)]).toEqual([1, 2, 3, 4, 5, 6.5]);
      expect([...npyInts(await z.read('n'), 'n', p)]).toEqual([-1, 0, 7]);
      expect(npyStrings(await z.read('names'), 'names', p)).toEqual(['B', 'Zé', '𝄞x']);
      const s = await z.read('spec_json');
      expect(s.shape).toEqual([]);
      expect(npyStrings(s, 'spec_json', p)).toEqual(['{"a": 1}']);
      // data start at a multiple of 64, as numpy writes them
      expect((w.data.byteOffset - 0) % 64).toBe(0);
    } finally {
      z.close();
    }
  });
});

const python = '/usr/bin/python3';
const hasNumpy = fs.existsSync(python) && spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!hasNumpy) console.log('skipped: numpy not installed at /usr/bin/python3 (npz files written by numpy itself)');

describe.skipIf(!hasNumpy)('npz written by numpy itself', () => {
  it('np.savez and np.savez_compressed (zip64 local headers) read as numpy wrote them', async () => {
    const dir = tmp();
    const script = `
import numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((5, 8, 3)).astype(np.float32)
Xd = rng.standard_normal((2, 9, 3))
y = np.array([0, 1, 2, 1, 0], dtype=np.int64)
yd = np.array([2, 2], dtype=np.uint8)
np.savez(${JSON.stringify(path.join(dir, 'a.npz'))}, X_train=X, y_train=y, X_dev=Xd, y_dev=yd, classes=np.array(['lo', 'mid', 'hi']))
np.savez_compressed(${JSON.stringify(path.join(dir, 'b.npz'))}, X=X, y=y)
np.save(${JSON.stringify(path.join(dir, 'X.npy'))}, X)
`;
    const r = spawnSync(python, ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const a = await loadNpzDataset(path.join(dir, 'a.npz'), { frames: 8 });
    const b = await loadNpzDataset(path.join(dir, 'b.npz'), { frames: 8 });
    expect(a.classes).toEqual(['lo', 'mid', 'hi']);
    expect(b.classes).toEqual(['0', '1', '2']);
    expect(a.splits.train!.x).toEqual(b.splits.train!.x);
    const raw = fs.readFileSync(path.join(dir, 'X.npy'));
    const header = raw.readUInt16LE(8);
    expect(a.splits.train!.x).toEqual(
      new Float32Array(raw.buffer.slice(raw.byteOffset + 10 + header, raw.byteOffset + raw.length)),
    );
    expect(a.splits.dev!.n).toBe(2);
    expect([...a.splits.dev!.y]).toEqual([2, 2]);
  });
});
