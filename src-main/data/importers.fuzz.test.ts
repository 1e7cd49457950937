/**
 * Property-based tests (fast-check) of every importer: the course layout's labels and feature
 * files, .zip, .tar / .tar.gz, .npz / .npy and .csv. Inputs are random bytes and random
 * mutations of valid files (bytes flipped, 32-bit fields set to extremes, cuts, insertions,
 * deletions), aimed at the headers where a format keeps its sizes and offsets. Whatever the
 * input, an importer either returns a dataset that holds what a dataset must (finite values,
 * labels in range, ids inside the root) or throws a LockstepError: never another error, never
 * a hang (each input is answered within HANG_MS), and never memory out of proportion to the
 * input: the ArrayBuffer memory held across each call, and the process's peak RSS across each
 * property, stay within bounds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import fc from 'fast-check';
import { gzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dataset } from '../../shared/data/dataset';
import { LockstepError } from '../../shared/errors';
import { openDataset } from '../services/datasets';
import { tempDir } from '../services/test-helpers';
import { courseFiles, enc, featText, tarBytes, tarItems, zip64Bytes, zipBytes } from './archive-fixtures';
import { splitCsvLine } from './csv';
import { loadEeSet } from './eeset';
import { MAX_DROPS_LISTED } from './load-options';
import { parseFeatureBytes } from './feature-parser';
import {
  encodeNpy,
  encodeNpz,
  npyFloat32,
  npyFloats,
  npyInt32,
  npyInts,
  npyStrings,
  npyUnicode,
  parseNpy,
} from './npz';

/**
 * Every run replays the same seed, so that a failure in CI is the same failure on a laptop.
 * Explore others with FUZZ_SEED, and more inputs per property with FUZZ_RUNS (a factor; give
 * vitest a longer --testTimeout with it). Seed 1 found a .npz label of 2^31 - 1 without class
 * names, which made two billion classes and exhausted the heap (see npz.test.ts).
 */
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 1);
fc.configureGlobal({ seed: FUZZ_SEED });
/** `numRuns` for a property: `n` inputs, times FUZZ_RUNS. */
const runs = (n: number): { numRuns: number } => ({ numRuns: Math.ceil(n * FUZZ_RUNS) });

/** An input not answered within this time counts as a hang (generous: the CI machine is shared). */
const HANG_MS = 10_000;
/** Buffer memory an importer may hold at once beyond 16 times its input: read buffers, a dataset's arrays. */
const MEMORY_SLACK = 64 * 1024 * 1024;
/** How much a whole property (hundreds of inputs, each at most a few KiB) may raise the peak RSS. */
const PEAK_RSS_SLACK = 256 * 1024 * 1024;
/** Small limits, so that archives and arrays declaring more are refused rather than read. */
const LIMITS = { maxBytes: 4 * 1024 * 1024, maxEntries: 500 };

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

// One temp folder for the whole file, removed after it, even when a property fails: a folder per
// input left thousands behind whenever a run died before its cleanup.
const work = tempDir('fuzz-test-');
afterAll(work.cleanup);
function tmp(): string {
  return fs.mkdtempSync(path.join(work.path, 'd-'));
}

/**
 * Runs one import: resolves with its result, or with null when it refused the input with a
 * LockstepError. Any other error, a hang or out-of-proportion memory fails the property:
 * memory may be 16 times the input plus twice the output asked for (padding makes every
 * example `frames` long), plus MEMORY_SLACK.
 */
async function importOrRefuse<T>(inputBytes: number, run: () => Promise<T> | T, outputBytes = 0): Promise<T | null> {
  // Earlier inputs' datasets, once dropped, are garbage, not memory an importer holds: collected
  // when they add up, so that neither check below counts them (with many inputs they did).
  if (process.memoryUsage().arrayBuffers > MEMORY_SLACK) collectGarbage();
  const before = process.memoryUsage().arrayBuffers;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms (a hang)`)), HANG_MS);
  });
  let result: T | null;
  try {
    result = await Promise.race([Promise.resolve().then(run), hang]);
  } catch (e) {
    if (!(e instanceof LockstepError)) throw e;
    expect(e.message.length).toBeGreaterThan(0);
    result = null;
  } finally {
    clearTimeout(timer);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  if (grown > MEMORY_SLACK + 16 * inputBytes + 2 * outputBytes)
    throw new Error(`held ${grown} bytes of buffers for an input of ${inputBytes} bytes`);
  return result;
}

// Each test (one property: hundreds of inputs) may raise the process's peak RSS only so much.
let peakBefore = 0;
beforeEach(() => {
  peakBefore = process.resourceUsage().maxRSS * 1024;
});
afterEach(() => {
  expect(process.resourceUsage().maxRSS * 1024 - peakBefore, 'peak RSS growth in bytes').toBeLessThanOrEqual(
    PEAK_RSS_SLACK,
  );
});

/** What every dataset an importer returns must satisfy, whatever it was made from. */
function checkDataset(ds: Dataset): void {
  for (const [name, split] of Object.entries(ds.splits)) {
    const report = ds.reports[name as keyof typeof ds.reports]!;
    expect(split.n).toBe(report.kept);
    expect(split.x.length).toBe(split.n * split.frames * split.channels);
    expect(split.y.length).toBe(split.n);
    expect(split.ids.length).toBe(split.n);
    for (let i = 0; i < split.x.length; i++)
      if (!Number.isFinite(split.x[i])) throw new Error(`${name}: non-finite value kept at ${i}`);
    for (const label of split.y) expect(label >= 0 && label < ds.classes.length).toBe(true);
    const d = report.dropped;
    expect(report.listed).toBe(report.kept + d.missing + d.malformed + d.nonFinite + d.short);
    expect(report.droppedExamples.length).toBe(Math.min(report.listed - report.kept, MAX_DROPS_LISTED));
  }
}

// ----------------------------------------------------------------------------------------------
// Mutations of valid files
// ----------------------------------------------------------------------------------------------

type Mutation =
  | { kind: 'set'; at: number; hot: boolean; value: number }
  | { kind: 'u32'; at: number; hot: boolean; value: number }
  | { kind: 'u64'; at: number; hot: boolean; value: bigint }
  | { kind: 'cut'; at: number; hot: boolean }
  | { kind: 'insert'; at: number; hot: boolean; bytes: Uint8Array }
  | { kind: 'delete'; at: number; hot: boolean; length: number };

const position = { at: fc.nat(), hot: fc.boolean() };
const EXTREMES = [0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 512, 65535, 1 << 30];
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), ...position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('u32' as const),
    ...position,
    value: fc.oneof(fc.constantFrom(...EXTREMES), fc.nat()),
  }),
  fc.record({
    kind: fc.constant('u64' as const),
    ...position,
    value: fc.oneof(
      fc.constantFrom(2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 2n ** 40n),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    ),
  }),
  fc.record({ kind: fc.constant('cut' as const), ...position }),
  fc.record({
    kind: fc.constant('insert' as const),
    ...position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), ...position, length: fc.integer({ min: 1, max: 64 }) }),
);
const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });

/** Applies mutations; a `hot` one lands on a 4-byte boundary within 96 bytes after one of `hotSpots` (where headers keep their fields). */
function mutate(seed: Uint8Array, mutations: Mutation[], hotSpots: number[]): Uint8Array {
  let b = Uint8Array.from(seed);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = (m.hot && hotSpots.length ? hotSpots[m.at % hotSpots.length] + 4 * ((m.at >> 8) % 24) : m.at) % b.length;
    switch (m.kind) {
      case 'set':
        b[at] = m.value;
        break;
      case 'u32':
        for (let k = 0; k < 4 && at + k < b.length; k++) b[at + k] = (m.value >>> (8 * k)) & 0xff;
        break;
      case 'u64':
        for (let k = 0; k < 8 && at + k < b.length; k++) b[at + k] = Number((m.value >> BigInt(8 * k)) & 0xffn);
        break;
      case 'cut':
        b = b.slice(0, at);
        break;
      case 'insert': {
        const out = new Uint8Array(b.length + m.bytes.length);
        out.set(b.subarray(0, at));
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        const end = Math.min(b.length, at + m.length);
        const out = new Uint8Array(b.length - (end - at));
        out.set(b.subarray(0, at));
        out.set(b.subarray(end), at);
        b = out;
        break;
      }
    }
  }
  return b;
}

/** Offsets where `signature` (little-endian u32) occurs: the records of a zip. */
function signatureOffsets(bytes: Uint8Array, signatures: number[]): number[] {
  const out: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i++) if (signatures.includes(view.getUint32(i, true))) out.push(i);
  return out;
}
/** Zip's records, and its zip64 extra field (id 1, 24 bytes long). */
const ZIP_RECORDS = [0x04034b50, 0x02014b50, 0x06054b50, 0x06064b50, 0x07064b50, 0x00180001];

/** A file named `name` holding `bytes` (the one of that name before it is overwritten). */
function fileOf(name: string, bytes: Uint8Array): string {
  const p = path.join(work.path, name);
  fs.writeFileSync(p, bytes);
  return p;
}

function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

// ----------------------------------------------------------------------------------------------
// Course layout: feature files and labels files
// ----------------------------------------------------------------------------------------------

describe('fuzz: course-layout feature files', () => {
  const tokens = [
    '0',
    '-1.5e+00',
    '1e-3',
    '-.5',
    '+2.',
    '1E+05',
    'nan',
    '-Inf',
    'Infinity',
    'infinit',
    '1e',
    '.',
    '--1',
    '0x1f',
    '1e999',
    '١',
    '\u00e9',
  ];
  const rowArb = fc
    .tuple(fc.array(fc.constantFrom(...tokens), { maxLength: 18 }), fc.constantFrom(' ', '\t', '  '))
    .map(([t, sep]) => t.join(sep));
  const textArb = fc
    .array(rowArb, { maxLength: 12 })
    .chain((rows) => fc.constantFrom('\n', '\r\n', '\r').map((eol) => rows.join(eol)));

  it('parseFeatureBytes never throws on any bytes, and reports rows, the first bad line and the first non-finite line consistently', () => {
    const seed = enc(featText(1, 6));
    const inputArb = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      textArb.map((t) => enc(t)),
      mutationsArb.map((m) => mutate(seed, m, [])),
    );
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 1, max: 8 }), (bytes, maxRows) => {
        const r = parseFeatureBytes(bytes, maxRows);
        expect(r.values.length).toBe(maxRows * 16);
        expect(r.rows).toBeGreaterThanOrEqual(0);
        const lines = bytes.reduce((n, b) => n + (b === 10 ? 1 : 0), 0) + 1;
        expect(r.badLine).toBeLessThanOrEqual(lines);
        expect(r.infLine).toBeLessThanOrEqual(lines);
        expect(r.badLine === 0 || r.badMsg.length > 0).toBe(true);
        expect(r.infLine === 0 || r.infMsg.length > 0).toBe(true);
        if (r.badLine === 0 && r.infLine === 0)
          for (let i = 0; i < Math.min(r.rows, maxRows) * 16; i++) expect(Number.isFinite(r.values[i])).toBe(true);
      }),
      runs(2000),
    );
  });

  it('loadEeSet drops a broken feature file (never throws for one), keeping only finite values', async () => {
    const root = tmp();
    const good = featText(2, 12);
    writeTree(root, {
      'train/fbc/good.txt': good,
      'train/lab/labels.txt': '0 train/fbc/good.txt\n1 train/fbc/x.txt\n',
    });
    const seed = enc(featText(3, 12));
    const inputArb = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      textArb.map((t) => enc(t)),
      mutationsArb.map((m) => mutate(seed, m, [])),
    );
    await fc.assert(
      fc.asyncProperty(inputArb, fc.constantFrom<'drop' | 'pad'>('drop', 'pad'), async (bytes, short) => {
        fs.writeFileSync(path.join(root, 'train/fbc/x.txt'), bytes);
        const ds = await importOrRefuse(bytes.length, () => loadEeSet(root, { frames: 10, short }));
        expect(ds).not.toBeNull(); // a feature file never makes the whole load fail
        checkDataset(ds!);
        expect(ds!.reports.train!.listed).toBe(2);
      }),
      runs(300),
    );
  });
});

describe('fuzz: course-layout labels files', () => {
  const labelArb = fc.constantFrom('0', '8', '9', '-1', '+3', '1.5', 'x', '', '٣', '00004');
  const pathArb = fc.oneof(
    fc.constantFrom(
      'train/fbc/a.txt',
      'train/fbc/b.txt',
      'train/./fbc/a.txt',
      'train/fbc//b.txt',
      'train/fbc/missing.txt',
      'train/fbc',
      '../outside.txt',
      'train/../../x.txt',
      '/etc/hostname',
      'C:\\x.txt',
      '\\\\server\\x',
      'train/fbc/a.txt\0',
      'train/link/a.txt',
      '.',
      '..',
    ),
    fc.string({ maxLength: 20 }),
  );
  const lineArb = fc
    .tuple(labelArb, fc.constantFrom(' ', '\t', ' \t '), pathArb, fc.option(fc.constantFrom(' extra', ' ', '\t')))
    .map(([l, sep, p, extra]) => `${l}${sep}${p}${extra ?? ''}`);
  const labelsArb = fc.oneof(
    fc
      .tuple(fc.array(lineArb, { maxLength: 6 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
      .map(([ls, eol, bom]) => enc((bom ? '\ufeff' : '') + ls.join(eol) + eol)),
    fc.uint8Array({ maxLength: 300 }),
  );

  it('loadEeSet answers any labels file with a dataset whose paths stay inside the root, or a LockstepError naming the file', async () => {
    const root = tmp();
    const outside = tmp();
    writeTree(root, { 'train/fbc/a.txt': featText(0, 12), 'train/fbc/b.txt': featText(1, 12) });
    writeTree(outside, { 'a.txt': featText(5, 12) });
    fs.symlinkSync(outside, path.join(root, 'train/link'));
    const labels = path.join(root, 'train/lab/labels.txt');
    fs.mkdirSync(path.dirname(labels), { recursive: true });
    await fc.assert(
      fc.asyncProperty(labelsArb, async (bytes) => {
        fs.writeFileSync(labels, bytes);
        const ds = await importOrRefuse(bytes.length, () => loadEeSet(root, { frames: 10 }));
        if (ds === null) return;
        checkDataset(ds);
        for (const id of ds.splits.train!.ids) {
          expect(id.startsWith('train/fbc/')).toBe(true); // never read through train/link, never outside
          expect(id.split('/')).not.toContain('..');
        }
      }),
      runs(300),
    );
  });

  it('a refusal names the labels file (and, for a line, its number and field)', async () => {
    const root = tmp();
    writeTree(root, { 'train/fbc/a.txt': featText(0, 12) });
    const labels = path.join(root, 'train/lab/labels.txt');
    fs.mkdirSync(path.dirname(labels), { recursive: true });
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb, { minLength: 1, maxLength: 4 }), async (lines) => {
        fs.writeFileSync(labels, lines.join('\n') + '\n');
        try {
          await loadEeSet(root, { frames: 10 });
        } catch (e) {
          expect(e).toBeInstanceOf(LockstepError);
          const le = e as LockstepError;
          expect(le.file).toBe('train/lab/labels.txt');
          if (le.line !== undefined) {
            expect(le.line).toBeGreaterThanOrEqual(1);
            expect(le.line).toBeLessThanOrEqual(lines.length);
            expect(['label', 'path']).toContain(le.field);
          }
        }
      }),
      runs(200),
    );
  });
});

// ----------------------------------------------------------------------------------------------
// Archives
// ----------------------------------------------------------------------------------------------

describe('fuzz: archives', () => {
  const files = courseFiles();

  it('.zip (stored, deflated, zip64): mutated archives give a dataset or a LockstepError', async () => {
    const seeds = [zipBytes(files, 0), zipBytes(files, 6), zipBytes(courseFiles('ee-set/'), 9), zip64Bytes(files)];
    await fc.assert(
      fc.asyncProperty(fc.nat(seeds.length - 1), mutationsArb, async (k, mutations) => {
        const bytes = mutate(seeds[k], mutations, signatureOffsets(seeds[k], ZIP_RECORDS));
        const ds = await importOrRefuse(bytes.length, () =>
          openDataset(fileOf('ee.zip', bytes), { frames: 10, limits: LIMITS }),
        );
        if (ds) checkDataset(ds);
      }),
      runs(250),
    );
  });

  it('.tar and .tar.gz: mutated archives (headers and gzip stream) give a dataset or a LockstepError', async () => {
    const tar = tarBytes(tarItems(files, 'ee-set/'));
    const tgz = gzipSync(tar);
    const headers = Array.from({ length: tar.length >> 9 }, (_, i) => i * 512);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('tar', 'tar.gz', 'gz-of-mutated-tar'), mutationsArb, async (kind, mutations) => {
        const bytes =
          kind === 'tar'
            ? mutate(tar, mutations, headers)
            : kind === 'tar.gz'
              ? mutate(tgz, mutations, [0, tgz.length - 8])
              : gzipSync(mutate(tar, mutations, headers));
        const name = kind === 'tar' ? 'ee.tar' : 'ee.tar.gz';
        const ds = await importOrRefuse(bytes.length, () =>
          openDataset(fileOf(name, bytes), { frames: 10, limits: LIMITS }),
        );
        if (ds) checkDataset(ds);
      }),
      runs(250),
    );
  });

  it('random bytes named .zip, .tar, .tgz, .npz or .csv are refused with a LockstepError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('x.zip', 'x.tar', 'x.tgz', 'x.npz', 'x.csv'),
        fc.uint8Array({ maxLength: 2048 }),
        async (name, bytes) => {
          const ds = await importOrRefuse(bytes.length, () =>
            openDataset(fileOf(name, bytes), { frames: 10, limits: LIMITS }),
          );
          if (ds) checkDataset(ds);
        },
      ),
      runs(200),
    );
  });
});

// ----------------------------------------------------------------------------------------------
// .npy / .npz
// ----------------------------------------------------------------------------------------------

describe('fuzz: .npy and .npz', () => {
  const N = 6;
  const T = 12;
  const C = 3;
  const xValues = Array.from({ length: N * T * C }, (_, i) => Math.sin(i));
  const arrays: Array<readonly [string, Uint8Array]> = [
    ['X_train', npyFloat32([N, T, C], xValues)],
    ['y_train', npyInt32([N], [0, 1, 2, 0, 1, 2])],
    ['lengths_train', npyInt32([N], [12, 12, 4, 12, 0, 12])],
    ['X_dev', npyFloat32([2, T, C], xValues.slice(0, 2 * T * C))],
    ['y_dev', npyInt32([2], [1, 0])],
    ['classes', npyUnicode(['B', 'C', 'D'])],
  ];

  it('parseNpy and the typed readers answer any .npy bytes with values or a LockstepError', async () => {
    const seeds = arrays.map(([, b]) => b);
    const descrArb = fc.constantFrom(
      '<f4',
      '<f8',
      '>f4',
      '|u1',
      '<i8',
      '<u8',
      '<U3',
      '|S2',
      '|O',
      '<c8',
      "<f4', 'x",
      '',
    );
    const shapeArb = fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(2 ** 31, 2 ** 53, 1e20, -1)), {
      maxLength: 4,
    });
    const handMade = fc
      .tuple(descrArb, shapeArb, fc.boolean(), fc.uint8Array({ maxLength: 512 }), fc.constantFrom(1, 2, 3, 4))
      .map(([descr, shape, fortran, payload, version]) => {
        const header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }\n`;
        const pre = version === 1 ? 10 : 12;
        const out = new Uint8Array(pre + header.length + payload.length);
        out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
        const dv = new DataView(out.buffer);
        if (version === 1) dv.setUint16(8, header.length, true);
        else dv.setUint32(8, header.length, true);
        out.set(enc(header), pre);
        out.set(payload, pre + header.length);
        return out;
      });
    const inputArb = fc.oneof(
      handMade,
      fc.tuple(fc.nat(seeds.length - 1), mutationsArb).map(([k, m]) => mutate(seeds[k], m, [0, 8, 64])),
      fc.uint8Array({ maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(inputArb, async (bytes) => {
        await importOrRefuse(bytes.length, () => {
          const a = parseNpy(bytes, 'a', 'x.npz');
          for (const read of [npyFloats, npyInts, npyStrings]) {
            try {
              const values = read(a, 'a', 'x.npz');
              expect(values.length).toBe(a.shape.reduce((p, d) => p * d, 1));
            } catch (e) {
              if (!(e instanceof LockstepError)) throw e;
            }
          }
          return a;
        });
      }),
      runs(800),
    );
  });

  it('loadNpz: arrays of any consistent shapes and dtypes (up to a million empty examples) give a dataset or a LockstepError', async () => {
    const INT_BYTES: Record<string, number> = { '|u1': 1, '|i1': 1, '<i4': 4, '<i8': 8, '<u8': 8 };
    const ints = (descr: string, n: number, value: number): Uint8Array => {
      const size = INT_BYTES[descr];
      const out = new DataView(new ArrayBuffer(n * size));
      if (value !== 0) {
        for (let i = 0; i < n; i++) {
          if (size === 1) out.setUint8(i, value & 0xff);
          else if (size === 4) out.setInt32(i * 4, value, true);
          else out.setBigInt64(i * 8, BigInt(value), true);
        }
      }
      return new Uint8Array(out.buffer);
    };
    const caseArb = fc.record({
      n: fc.constantFrom(0, 1, 2, 7, 2 ** 18, 2 ** 20),
      t: fc.constantFrom(0, 1, 6),
      c: fc.constantFrom(0, 1, 3, 16),
      xDescr: fc.constantFrom('<f4', '<f8'),
      x: fc.constantFrom(0.5, NaN, -Infinity, 1e39),
      yDescr: fc.constantFrom('|u1', '|i1', '<i4', '<i8', '<u8'),
      y: fc.constantFrom(0, 1, 2, 8, 9, 255, -1, 2 ** 31 - 1),
      lengths: fc.option(fc.constantFrom(0, 1, 6, 7, -1)),
      classes: fc.option(fc.constantFrom(['B', 'C'], ['a', 'b', 'c'], ['x'], ['d', 'd'], [''])),
      short: fc.constantFrom<'drop' | 'pad'>('drop', 'pad'),
    });
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const n = k.short === 'pad' ? Math.min(k.n, 2 ** 18) : k.n; // padding allocates what it is asked for: keep it small
        const t = n * k.t * k.c > 4096 ? 0 : k.t;
        const count = n * t * k.c;
        const xs = k.xDescr === '<f4' ? new Float32Array(count).fill(k.x) : new Float64Array(count).fill(k.x);
        const arrays: Array<readonly [string, Uint8Array]> = [
          ['X', encodeNpy(k.xDescr, [n, t, k.c], new Uint8Array(xs.buffer))],
          ['y', encodeNpy(k.yDescr, [n], ints(k.yDescr, n, k.y))],
        ];
        if (k.lengths !== null) arrays.push(['lengths', encodeNpy('<i8', [n], ints('<i8', n, k.lengths))]);
        if (k.classes !== null) arrays.push(['classes', npyUnicode(k.classes)]);
        const z: Zippable = {};
        for (const [name, bytes] of arrays) z[`${name}.npy`] = [bytes, { level: 1 }];
        const bytes = zipSync(z);
        // Dropping, the ee-set's 70 frames: nothing may be allocated for examples that are dropped.
        // Padding (which makes every example `frames` long, by request) with 4 frames keeps the output small.
        const frames = k.short === 'drop' ? 70 : 4;
        // Memory is bounded by what the arrays hold once inflated (at most 128 MiB), not by the zip's size.
        const inflated = arrays.reduce((n, [, a]) => n + a.length, 0);
        const padded = k.short === 'pad' ? n * frames * k.c * 4 : 0;
        const ds = await importOrRefuse(
          inflated,
          () => openDataset(fileOf('shapes.npz', bytes), { frames, short: k.short }),
          padded,
        );
        if (ds) checkDataset(ds);
      }),
      runs(100),
    );
  });

  it('loadNpz (through openDataset): mutated .npz files, stored and deflated, give a dataset or a LockstepError', async () => {
    const stored = encodeNpz(arrays);
    const z: Zippable = {};
    for (const [name, bytes] of arrays) z[`${name}.npy`] = [bytes, { level: 6 }];
    const deflated = zipSync(z);
    const seeds = [stored, deflated];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1), mutationsArb, async (k, mutations) => {
        const hot = [
          ...signatureOffsets(seeds[k], ZIP_RECORDS),
          ...signatureOffsets(seeds[k], [0x4d554e93]).map((o) => o),
        ];
        const bytes = mutate(seeds[k], mutations, hot);
        const ds = await importOrRefuse(bytes.length, () =>
          openDataset(fileOf('d.npz', bytes), { frames: 4, short: 'pad', limits: LIMITS }),
        );
        if (ds) checkDataset(ds);
      }),
      runs(300),
    );
  });
});

// ----------------------------------------------------------------------------------------------
// .csv
// ----------------------------------------------------------------------------------------------

describe('fuzz: .csv', () => {
  const valid = [
    'example,split,label,frame,c0,c1',
    'a,train,B,0,1,2',
    'a,train,B,1,3,4',
    'b,train,C,0,5e-1,-.5',
    'b,train,C,1,+2.,1E+05',
    'c,dev,B,0,0,0',
    'c,dev,B,1,1,1',
  ];
  const fieldArb = fc.oneof(
    fc.constantFrom(
      'a',
      'b',
      'train',
      'dev',
      'test',
      'B',
      'C',
      '0',
      '1',
      '2',
      '-1',
      'nan',
      '-Inf',
      '1e400',
      '"q,1"',
      '"unclosed',
      '""',
      '',
      ' 3 ',
    ),
    fc.string({ maxLength: 6 }),
  );
  const lineArb = fc.array(fieldArb, { minLength: 1, maxLength: 8 }).map((f) => f.join(','));
  const csvArb = fc.oneof(
    fc
      .tuple(
        fc.array(fc.oneof(fc.constantFrom(...valid.slice(1)), lineArb), { maxLength: 10 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
      )
      .map(([rows, eol, bom]) => enc((bom ? '\ufeff' : '') + [valid[0], ...rows].join(eol) + eol)),
    mutationsArb.map((m) => mutate(enc(valid.join('\n') + '\n'), m, [])),
    fc.uint8Array({ maxLength: 400 }),
  );

  it('loadCsvDataset answers any file with a dataset or a LockstepError naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(csvArb, fc.constantFrom<'drop' | 'pad'>('drop', 'pad'), async (bytes, short) => {
        const file = fileOf('d.csv', bytes);
        let caught: unknown = null;
        const ds = await importOrRefuse(bytes.length, async () => {
          try {
            return await openDataset(file, { frames: 2, short });
          } catch (e) {
            caught = e;
            throw e;
          }
        });
        if (ds) checkDataset(ds);
        else expect((caught as LockstepError).file).toBe(file);
      }),
      runs(500),
    );
  });

  it('splitCsvLine splits any line or throws a LockstepError with its line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (line) => {
        try {
          const fields = splitCsvLine(line, 'f.csv', 7);
          expect(fields.length).toBeGreaterThanOrEqual(1);
          if (!line.includes('"')) expect(fields.join(',')).toBe(line);
        } catch (e) {
          expect(e).toBeInstanceOf(LockstepError);
          expect((e as LockstepError).line).toBe(7);
        }
      }),
      runs(2000),
    );
  });
});
