import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { LockstepError } from '../../shared/errors';
import { EE_SET_CLASSES } from '../../shared/data/dataset';
import { loadEeSet, parseFeatureBytes, eesetTuning, type LoadOptions } from './eeset';
import { createFeatureParser } from './feature-parser';
import { createFileProcessor } from './feature-reader';
import { loaderHelper } from './eeset-worker';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const realDir = process.env.EE_SET_DIR ?? path.resolve(repoRoot, '../shared/datasets/ee-set');
const realExists = fs.existsSync(path.join(realDir, 'train')) || fs.existsSync(path.join(realDir, 'dev'));
if (!realExists) console.log(`skipped: real ee-set not found at ${realDir}`);

// ----------------------------------------------------------------------------------------------
// Fixture helpers: every test writes its own small dataset under a fresh temp folder.
// ----------------------------------------------------------------------------------------------

const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'eeset-test-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Deterministic value of example `seed`, row `r`, column `c`. */
function val(seed: number, r: number, c: number): number {
  return Math.sin(seed * 7.1 + r * 0.37 + c * 1.3) * 4 + c * 0.01;
}

/** Rows of 16 numbers in the dataset's own format (`%15.7e`, space-padded, CRLF). */
function featText(seed: number, rows: number, eol = '\r\n'): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < 16; c++)
      cells.push(
        val(seed, r, c)
          .toExponential(7)
          .replace(/e([+-])(\d)$/, (_m, sign: string, d: string) => `e${sign}0${d}`)
          .padStart(16),
      );
    lines.push(cells.join(''));
  }
  return lines.join(eol) + eol;
}

function write(root: string, rel: string, content: string | Uint8Array): void {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
}

interface Ex {
  label: number;
  rel: string;
  rows?: number;
  content?: string | Uint8Array;
  seed?: number;
}

/** Writes `<root>/<split>/lab/<split>_labels.txt` and the feature files it lists. */
function makeSplit(root: string, split: string, examples: Ex[], labelsText?: string): string {
  examples.forEach((e, i) => {
    if (e.content !== undefined) write(root, e.rel, e.content);
    else if (e.rows !== undefined) write(root, e.rel, featText(e.seed ?? i, e.rows));
  });
  const labelsRel = `${split}/lab/${split}_labels.txt`;
  write(root, labelsRel, labelsText ?? examples.map((e) => `${e.label} ${e.rel}\n`).join(''));
  return path.join(root, labelsRel);
}

function goodExamples(split: string, n: number, rows = 72): Ex[] {
  return Array.from({ length: n }, (_, i) => ({
    label: i % 9,
    rel: `${split}/fbc/ex${i}_fbc.txt`,
    rows: rows + (i % 3),
    seed: i,
  }));
}

async function expectLockstepError(
  p: Promise<unknown>,
  where: { file?: string; line?: number; field?: string },
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
  if (where.file !== undefined) {
    expect(le.file).toBe(where.file);
    expect(le.message).toContain(where.file);
  }
  if (where.line !== undefined) {
    expect(le.line).toBe(where.line);
    expect(le.message).toContain(`line ${where.line}`);
  }
  if (where.field !== undefined) {
    expect(le.field).toBe(where.field);
    expect(le.message).toContain(`field ${where.field}`);
  }
  for (const f of fragments) expect(le.message).toContain(f);
  return le;
}

/** Float32 values of the first `frames` rows of a written example. */
function expected(seed: number, frames: number): Float32Array {
  const out = new Float32Array(frames * 16);
  for (let r = 0; r < frames; r++) {
    for (let c = 0; c < 16; c++) out[r * 16 + c] = Number(val(seed, r, c).toExponential(7));
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// Loading good data
// ----------------------------------------------------------------------------------------------

describe('loadEeSet: good data', () => {
  let root: string;
  beforeAll(() => {
    root = path.join(tmp(), 'my-ee');
    makeSplit(root, 'train', goodExamples('train', 12));
    makeSplit(root, 'dev', goodExamples('dev', 5));
  });

  it('loads train and dev from a dataset root', async () => {
    const ds = await loadEeSet(root);
    expect(ds.name).toBe('my-ee');
    expect(ds.classes).toEqual([...EE_SET_CLASSES]);
    expect(Object.keys(ds.splits).sort()).toEqual(['dev', 'train']);
    expect(ds.splits.eval).toBeUndefined();
    const train = ds.splits.train!;
    expect(train.n).toBe(12);
    expect(train.frames).toBe(70);
    expect(train.channels).toBe(16);
    expect(train.x).toBeInstanceOf(Float32Array);
    expect(train.x.length).toBe(12 * 70 * 16);
    expect(Array.from(train.y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2]);
    expect(train.ids[3]).toBe('train/fbc/ex3_fbc.txt');
    for (const k of [0, 5, 11]) expect(train.x.subarray(k * 70 * 16, (k + 1) * 70 * 16)).toEqual(expected(k, 70));
    const rep = ds.reports.train!;
    expect(rep).toMatchObject({ listed: 12, kept: 12, dropped: { nonFinite: 0, short: 0, missing: 0, malformed: 0 } });
    expect(rep.droppedExamples).toEqual([]);
    expect(rep.classCounts).toEqual([2, 2, 2, 1, 1, 1, 1, 1, 1]);
    expect(ds.reports.dev!.kept).toBe(5);
    expect(ds.splits.dev!.ids).toEqual(goodExamples('dev', 5).map((e) => e.rel));
  });

  it('loads only the requested splits', async () => {
    const ds = await loadEeSet(root, { splits: ['dev'] });
    expect(Object.keys(ds.splits)).toEqual(['dev']);
    expect(Object.keys(ds.reports)).toEqual(['dev']);
  });

  it('loads one split from a labels-file path (root = the split folder’s parent)', async () => {
    const ds = await loadEeSet(path.join(root, 'dev/lab/dev_labels.txt'));
    expect(ds.name).toBe('my-ee');
    expect(Object.keys(ds.splits)).toEqual(['dev']);
    expect(ds.splits.dev!.n).toBe(5);
    expect(ds.splits.dev!.x.subarray(0, 70 * 16)).toEqual(expected(0, 70));
  });

  it('names a labels file outside train/dev/eval folders the train split', async () => {
    const r = tmp();
    makeSplit(r, 'extra', goodExamples('extra', 2));
    const ds = await loadEeSet(path.join(r, 'extra/lab/extra_labels.txt'));
    expect(Object.keys(ds.splits)).toEqual(['train']);
    expect(ds.splits.train!.ids).toEqual(['extra/fbc/ex0_fbc.txt', 'extra/fbc/ex1_fbc.txt']);
  });

  it('keeps the first `frames` rows', async () => {
    const ds = await loadEeSet(root, { frames: 3, splits: ['train'] });
    expect(ds.splits.train!.x.length).toBe(12 * 3 * 16);
    expect(ds.splits.train!.x.subarray(3 * 48, 4 * 48)).toEqual(expected(3, 3));
  });

  it('tolerates a BOM, CRLF, trailing whitespace and blank lines (labels and features)', async () => {
    const r = tmp();
    const ex = goodExamples('train', 3);
    write(r, ex[0].rel, '\ufeff' + featText(0, 70));
    write(r, ex[1].rel, featText(1, 70, '\n').replace(/\n/g, '  \t\n') + '\n\n');
    write(r, ex[2].rel, featText(2, 70, '\r\n').trimEnd()); // no final newline
    const labels = `\ufeff0 ${ex[0].rel}\r\n\r\n  \r\n1 ${ex[1].rel}   \r\n\t2\t${ex[2].rel}\t\r\n\r\n`;
    write(r, 'train/lab/labels.txt', labels);
    const ds = await loadEeSet(r);
    const rep = ds.reports.train!;
    expect(rep.listed).toBe(3);
    expect(rep.kept).toBe(3);
    expect(Array.from(ds.splits.train!.y)).toEqual([0, 1, 2]);
    for (let k = 0; k < 3; k++) expect(ds.splits.train!.x.subarray(k * 1120, (k + 1) * 1120)).toEqual(expected(k, 70));
  });

  it('accepts paths that normalise inside the root, and symlinks inside it', async () => {
    const r = tmp();
    write(r, 'train/fbc/a.txt', featText(0, 70));
    write(r, 'train/fbc/b.txt', featText(1, 70));
    fs.symlinkSync(path.join(r, 'train/fbc/b.txt'), path.join(r, 'train/fbc/link.txt'));
    write(r, 'train/lab/l.txt', '0 train/./fbc/../fbc/a.txt\n1 train/fbc/link.txt\n');
    const ds = await loadEeSet(r);
    expect(ds.splits.train!.ids).toEqual(['train/fbc/a.txt', 'train/fbc/link.txt']);
    expect(ds.splits.train!.x.subarray(1120, 2240)).toEqual(expected(1, 70));
  });
});

// ----------------------------------------------------------------------------------------------
// Float parsing
// ----------------------------------------------------------------------------------------------

/** Parses one row made of `tokens` (padded to 16 with zeros); returns the 16 float32 values. */
function parseRow(tokens: string[]): Float32Array {
  const row = [...tokens, ...Array<string>(16 - tokens.length).fill('0')].join(' ');
  const r = parseFeatureBytes(Buffer.from(row + '\n'), 1);
  expect(r.badMsg).toBe('');
  expect(r.badLine).toBe(0);
  expect(r.rows).toBe(1);
  return r.values;
}

function expectSameAsNumber(tokens: string[]): void {
  const values = parseRow(tokens);
  tokens.forEach((t, i) => {
    const want = Math.fround(Number(t));
    if (!Object.is(values[i], want)) throw new Error(`token '${t}': parsed ${values[i]}, Number() gives ${want}`);
  });
}

describe('feature parser: numbers', () => {
  it('parses every valid float syntax exactly like Math.fround(Number(token))', () => {
    const tokens = [
      '1e-3',
      '-.5',
      '+2.',
      '1E+05',
      '0',
      '-0',
      '+0.0',
      '00012.5000',
      '.5e1',
      '5.',
      '-5.E-1',
      '4.0502733e+00',
      '-2.1546360e-01',
      '9.9999999e+37',
      '1.1754944e-38',
      '1.4e-45',
      '7e-46',
      '1e-50',
      '123456789012345678901234567890',
      '0.000000000000000000000000000001234567',
      '3.4028234e38',
      '-3.4028235e+38',
      '16777217',
      '0.1',
      '0.30000000000000004',
      '2.5000000000000001',
      '1e22',
      '1e23',
      '9007199254740993',
      '123456789012345.6',
      '1.00000005960464477539062500001',
      '0e999999',
      '1e-999999',
    ];
    for (let k = 0; k < tokens.length; k += 16) expectSameAsNumber(tokens.slice(k, k + 16));
  });

  it('matches Number() on random doubles in many notations (property)', () => {
    const finite32 = fc.double({ noNaN: true, noDefaultInfinity: true, min: -3.4e38, max: 3.4e38 });
    fc.assert(
      fc.property(fc.array(finite32, { minLength: 1, maxLength: 16 }), fc.integer({ min: 0, max: 20 }), (xs, p) => {
        expectSameAsNumber(xs.map((x) => String(x)));
        expectSameAsNumber(xs.map((x) => x.toExponential(p)));
        expectSameAsNumber(xs.map((x) => (Math.abs(x) < 1e21 ? x.toFixed(p) : String(x))));
        expectSameAsNumber(xs.map((x) => x.toPrecision(p + 1).replace('e', 'E')));
      }),
      { numRuns: 300 },
    );
  });

  it('matches Number() on the dataset format %.7e with two-digit exponents (property)', () => {
    const pad = (t: string) => t.replace(/e([+-])(\d)$/, (_m, sign: string, d: string) => `e${sign}0${d}`);
    const anyScale = fc.double({ noNaN: true, noDefaultInfinity: true, min: -3.4e38, max: 3.4e38 });
    fc.assert(
      fc.property(fc.array(anyScale, { minLength: 16, maxLength: 16 }), (xs) => {
        expectSameAsNumber(xs.map((x) => pad(x.toExponential(7))));
        expectSameAsNumber(xs.map((x) => pad(x.toExponential(7)).toUpperCase()));
      }),
      { numRuns: 300 },
    );
  });

  it('matches Number() on random digit strings (property)', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 30 });
    const token = fc
      .tuple(fc.constantFrom('', '-', '+'), digits, fc.option(digits), fc.option(fc.integer({ min: -60, max: 40 })))
      .map(([s, a, b, e]) => `${s}${a}${b === null ? '' : '.' + b}${e === null ? '' : 'e' + e}`);
    fc.assert(
      fc.property(fc.array(token, { minLength: 16, maxLength: 16 }), (ts) => expectSameAsNumber(ts)),
      {
        numRuns: 300,
      },
    );
  });

  it('treats inf, Infinity, NaN in any case and with signs as non-finite (well-formed)', () => {
    for (const t of ['-Inf', 'inf', '+INF', 'Infinity', '-infinity', 'NaN', 'nan', '-NAN', 'iNfInItY']) {
      const r = parseFeatureBytes(
        Buffer.from(`1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n1 ${t} 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`),
        5,
      );
      expect(r.badLine, t).toBe(0);
      expect(r.rows).toBe(2);
      expect(r.infLine, t).toBe(2);
      expect(r.infMsg).toContain(t);
      expect(r.infMsg).toContain('column 2');
    }
  });

  it('treats finite numbers beyond float32 as non-finite', () => {
    const r = parseFeatureBytes(Buffer.from(`1e39 ${'0 '.repeat(15)}\n`), 1);
    expect(r.badLine).toBe(0);
    expect(r.infLine).toBe(1);
    expect(r.infMsg).toContain('1e39');
  });

  it('rejects tokens that are not numbers, naming line and column', () => {
    for (const t of [
      '1e',
      '.',
      '-',
      '+',
      '1.2.3',
      '0x10',
      '1,5',
      'infinit',
      'infx',
      'nanx',
      '.nan',
      'e5',
      '1e+',
      '--1',
      '1-',
      'abc',
      '١',
    ]) {
      const r = parseFeatureBytes(Buffer.from(`${'0 '.repeat(16)}\n0 0 ${t} ${'0 '.repeat(13)}\n`), 5);
      expect(r.badLine, t).toBe(2);
      expect(r.badMsg, t).toContain('column 3');
      expect(r.badMsg, t).toContain(JSON.stringify(t));
    }
  });
});

// ----------------------------------------------------------------------------------------------
// Dropped examples
// ----------------------------------------------------------------------------------------------

describe('loadEeSet: dropped examples', () => {
  it('classifies missing, malformed, nonFinite and short files with file, line and message', async () => {
    const r = tmp();
    const rows = (n: number, seed = 0) => featText(seed, n);
    const good = featText(9, 70).split('\r\n');
    const withLine = (lineNo: number, text: string) => good.map((l, i) => (i === lineNo - 1 ? text : l)).join('\r\n');
    const ex: Ex[] = [
      { label: 0, rel: 'train/fbc/ok0.txt', content: rows(70, 0) },
      { label: 1, rel: 'train/fbc/gone.txt' },
      { label: 2, rel: 'train/fbc/folder.txt' },
      { label: 3, rel: 'train/fbc/cols15.txt', content: withLine(3, good[2].slice(16)) },
      { label: 4, rel: 'train/fbc/cols17.txt', content: withLine(4, good[3] + '  1.0') },
      { label: 5, rel: 'train/fbc/token.txt', content: withLine(2, good[1].replace(/^\s*\S+/, ' 1.2x')) },
      { label: 6, rel: 'train/fbc/empty.txt', content: '' },
      { label: 7, rel: 'train/fbc/blank.txt', content: '\r\n  \r\n' },
      { label: 8, rel: 'train/fbc/binary.txt', content: new Uint8Array([0xff, 0xfe, 0x00, 0x41, 0x0a, 0x80]) },
      {
        label: 0,
        rel: 'train/fbc/latin1.txt',
        content: Buffer.from(withLine(6, good[5].replace(/^\s*\S+/, ' 2,5\xe9')), 'latin1'),
      },
      { label: 1, rel: 'train/fbc/inf.txt', content: withLine(5, good[4].replace(/\S+$/, '-Inf')) },
      { label: 2, rel: 'train/fbc/nan.txt', content: withLine(70, good[69].replace(/^\s*\S+/, ' NaN')) },
      {
        label: 3,
        rel: 'train/fbc/inf-then-bad.txt',
        content: withLine(2, good[1].replace(/\S+$/, 'inf')).replace(good[9], '1 2 3'),
      },
      { label: 4, rel: 'train/fbc/inf-and-short.txt', content: rows(10).replace(/\S+\r\n$/, 'Infinity\r\n') },
      { label: 5, rel: 'train/fbc/short.txt', content: rows(69, 5) },
      { label: 6, rel: 'train/fbc/ok1.txt', content: rows(100, 6) },
    ];
    makeSplit(r, 'train', ex);
    fs.mkdirSync(path.join(r, 'train/fbc/folder.txt'));
    const ds = await loadEeSet(r);
    const rep = ds.reports.train!;
    expect(rep.listed).toBe(16);
    expect(rep.kept).toBe(2);
    expect(rep.dropped).toEqual({ missing: 2, malformed: 8, nonFinite: 3, short: 1 });
    expect(rep.classCounts).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(ds.splits.train!.ids).toEqual(['train/fbc/ok0.txt', 'train/fbc/ok1.txt']);
    expect(ds.splits.train!.x.subarray(1120, 2240)).toEqual(expected(6, 70));
    const by = Object.fromEntries(rep.droppedExamples.map((d) => [path.basename(d.file), d]));
    expect(rep.droppedExamples.map((d) => d.file)).toEqual(ex.slice(1, 15).map((e) => e.rel)); // labels order
    expect(by['gone.txt']).toMatchObject({ reason: 'missing', file: 'train/fbc/gone.txt' });
    expect(by['gone.txt'].message).toContain('not found');
    expect(by['folder.txt']).toMatchObject({ reason: 'missing' });
    expect(by['folder.txt'].message).toContain('folder');
    expect(by['cols15.txt']).toMatchObject({ reason: 'malformed', line: 3 });
    expect(by['cols15.txt'].message).toContain('expected 16 numbers per row, found 15');
    expect(by['cols17.txt']).toMatchObject({ reason: 'malformed', line: 4 });
    expect(by['cols17.txt'].message).toContain('found 17');
    expect(by['token.txt']).toMatchObject({ reason: 'malformed', line: 2 });
    expect(by['token.txt'].message).toContain('"1.2x"');
    expect(by['empty.txt']).toMatchObject({ reason: 'malformed' });
    expect(by['empty.txt'].message).toContain('empty');
    expect(by['blank.txt'].message).toContain('empty');
    expect(by['binary.txt']).toMatchObject({ reason: 'malformed', line: 1 });
    expect(by['latin1.txt']).toMatchObject({ reason: 'malformed', line: 6 });
    expect(by['inf.txt']).toMatchObject({ reason: 'nonFinite', line: 5 });
    expect(by['inf.txt'].message).toContain('-Inf');
    expect(by['nan.txt']).toMatchObject({ reason: 'nonFinite', line: 70 });
    expect(by['inf-then-bad.txt']).toMatchObject({ reason: 'malformed', line: 10 }); // malformed beats nonFinite
    expect(by['inf-and-short.txt']).toMatchObject({ reason: 'nonFinite', line: 10 }); // nonFinite beats short
    expect(by['short.txt']).toMatchObject({ reason: 'short', line: 69 });
    expect(by['short.txt'].message).toBe('69 frames, at least 70 needed');
  });

  it.skipIf(process.platform === 'win32')('drops a FIFO as missing without blocking', async () => {
    const r = tmp();
    makeSplit(r, 'train', [
      { label: 0, rel: 'train/fbc/pipe.txt' },
      { label: 1, rel: 'train/fbc/ok.txt', rows: 70 },
    ]);
    execFileSync('mkfifo', [path.join(r, 'train/fbc/pipe.txt')]);
    const rep = (await loadEeSet(r)).reports.train!;
    expect(rep.kept).toBe(1);
    expect(rep.droppedExamples[0]).toMatchObject({ file: 'train/fbc/pipe.txt', reason: 'missing' });
    expect(rep.droppedExamples[0].message).toContain('special file');
  });

  it('drops an unreadable file as missing, with the reason (EACCES on open, EIO while reading)', () => {
    // Tests run as root here, which reads anything: the refusals are injected through the fs module.
    const fail = (code: string) => () => {
      throw Object.assign(new Error(code), { code });
    };
    const r = tmp();
    write(r, 'a.txt', featText(0, 70));
    for (const [stub, reason] of [
      [{ openSync: fail('EACCES') }, 'file not readable (EACCES)'],
      [{ readSync: fail('EIO') }, 'file not readable (EIO)'],
    ] as const) {
      const processor = createFileProcessor({ ...fs, ...stub } as typeof fs, createFeatureParser());
      const info = new Int32Array(4);
      const message = processor.processFile(path.join(r, 'a.txt'), new Float32Array(70 * 16), 0, 70, info, 0);
      expect(message).toBe(reason);
      expect(info[0]).toBe(processor.S_MISSING);
    }
  });

  it('drops a file whose folder does not exist as missing', async () => {
    const r = tmp();
    makeSplit(r, 'train', [{ label: 0, rel: 'train/nowhere/a.txt' }]);
    const rep = (await loadEeSet(r)).reports.train!;
    expect(rep.dropped.missing).toBe(1);
    expect(rep.droppedExamples[0]).toMatchObject({ file: 'train/nowhere/a.txt', reason: 'missing' });
  });

  it('pads short examples with zeros at the end when short = "pad"', async () => {
    const r = tmp();
    makeSplit(r, 'train', [
      { label: 1, rel: 'train/fbc/short.txt', rows: 50, seed: 3 },
      { label: 2, rel: 'train/fbc/long.txt', rows: 80, seed: 4 },
    ]);
    const dropped = await loadEeSet(r, { short: 'drop' });
    expect(dropped.reports.train!.dropped.short).toBe(1);
    expect(dropped.splits.train!.ids).toEqual(['train/fbc/long.txt']);
    const padded = await loadEeSet(r, { short: 'pad' });
    const s = padded.splits.train!;
    expect(padded.reports.train!.kept).toBe(2);
    expect(padded.reports.train!.dropped.short).toBe(0);
    expect(s.ids).toEqual(['train/fbc/short.txt', 'train/fbc/long.txt']);
    expect(s.x.subarray(0, 50 * 16)).toEqual(expected(3, 50));
    expect(s.x.subarray(50 * 16, 70 * 16).every((v) => v === 0)).toBe(true);
    expect(s.x.subarray(70 * 16, 140 * 16)).toEqual(expected(4, 70));
  });

  it('reads feature files of any size (lines split across read chunks)', async () => {
    const r = tmp();
    makeSplit(r, 'train', [{ label: 0, rel: 'train/fbc/big.txt', rows: 6000, seed: 1 }]);
    const ds = await loadEeSet(r, { frames: 5000 });
    expect(ds.reports.train!.kept).toBe(1);
    expect(ds.splits.train!.x).toEqual(expected(1, 5000));
  });
});

// ----------------------------------------------------------------------------------------------
// Labels-file errors
// ----------------------------------------------------------------------------------------------

describe('loadEeSet: malformed labels lines', () => {
  async function loadWithLabels(lines: string[], setup?: (root: string) => void): Promise<unknown> {
    const r = tmp();
    write(r, 'train/fbc/a.txt', featText(0, 70));
    write(r, 'train/fbc/b.txt', featText(1, 70));
    setup?.(r);
    write(r, 'train/lab/hw2train_labels.txt', lines.join('\n') + '\n');
    return loadEeSet(r);
  }
  const file = 'train/lab/hw2train_labels.txt';

  it.each([
    ['a missing path', ['0 train/fbc/a.txt', '', '3'], 3, 'path', ["found the label '3' and no path"]],
    ['a missing label', ['0 train/fbc/a.txt', 'train/fbc/b.txt'], 2, 'label', ["'train/fbc/b.txt'"]],
    ['an extra field', ['0 train/fbc/a.txt', '1 train/fbc/b.txt extra'], 2, 'path', ['2 fields']],
    ['a non-integer label', ['1.5 train/fbc/a.txt'], 1, 'label', ["expected an integer in 0–8, found '1.5'"]],
    ['a word as label', ['0 train/fbc/a.txt', 'Q train/fbc/b.txt'], 2, 'label', ["found 'Q'"]],
    ['a label above 8', ['9 train/fbc/a.txt'], 1, 'label', ["expected an integer in 0–8, found '9'"]],
    ['a negative label', ['-1 train/fbc/a.txt'], 1, 'label', ["found '-1'"]],
    [
      'a duplicate path',
      ['0 train/fbc/a.txt', '1 train/fbc/b.txt', '2 train/fbc/a.txt'],
      3,
      'path',
      ['first on line 1'],
    ],
    [
      'a duplicate after normalising',
      ['0 train/fbc/a.txt', '\r', '1 train/./fbc/a.txt'],
      3,
      'path',
      ['first on line 1'],
    ],
    ['an absolute path', ['0 train/fbc/a.txt', '1 /etc/hostname'], 2, 'path', ['absolute', '/etc/hostname']],
    ['a Windows absolute path', ['1 C:\\data\\a.txt'], 1, 'path', ['absolute']],
    ['a path escaping with ..', ['0 ../outside.txt'], 1, 'path', ['outside']],
    ['a path escaping deeper', ['0 train/fbc/a.txt', '0 train/../../x/a.txt'], 2, 'path', ['outside']],
  ])('rejects %s with file, line and field', async (_what, lines, line, field, fragments) => {
    await expectLockstepError(
      loadWithLabels(lines as string[]),
      { file, line: line as number, field: field as string },
      ...(fragments as string[]),
    );
  });

  it('rejects a symlinked file whose real path is outside the root', async () => {
    const outside = tmp();
    write(outside, 'secret.txt', featText(0, 70));
    const p = loadWithLabels(['0 train/fbc/a.txt', '1 train/fbc/evil.txt'], (r) =>
      fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(r, 'train/fbc/evil.txt')),
    );
    await expectLockstepError(p, { file, line: 2, field: 'path' }, 'outside', 'evil.txt');
  });

  it('rejects a symlinked folder leading outside the root', async () => {
    const outside = tmp();
    write(outside, 'fbc/x.txt', featText(0, 70));
    const p = loadWithLabels(['0 train/fbc/a.txt', '1 train/out/x.txt'], (r) =>
      fs.symlinkSync(path.join(outside, 'fbc'), path.join(r, 'train/out')),
    );
    await expectLockstepError(p, { file, line: 2, field: 'path' }, 'outside');
  });

  it('rejects a dangling symlink pointing outside the root', async () => {
    const p = loadWithLabels(['0 train/fbc/a.txt', '1 train/fbc/dangling.txt'], (r) =>
      fs.symlinkSync('/nonexistent-eeset-target/x.txt', path.join(r, 'train/fbc/dangling.txt')),
    );
    await expectLockstepError(p, { file, line: 2, field: 'path' }, 'outside');
  });

  it('reports physical line numbers (blank lines count for numbering, not for listing)', async () => {
    await expectLockstepError(loadWithLabels(['', '0 train/fbc/a.txt', '', '', 'X train/fbc/b.txt']), {
      file,
      line: 5,
      field: 'label',
    });
  });

  it('rejects a labels file that is not UTF-8, naming the line and the bytes', async () => {
    const r = tmp();
    write(r, 'train/fbc/a.txt', featText(0, 70));
    write(
      r,
      file,
      Buffer.concat([Buffer.from('0 train/fbc/a.txt\n\n'), Buffer.from('1 train/fbc/caf\xe9.txt\n', 'latin1')]),
    );
    await expectLockstepError(loadEeSet(r), { file, line: 3 }, 'expected UTF-8 text', '0xE9');
  });

  it('rejects a labels file of binary junk at its first line', async () => {
    const r = tmp();
    write(r, file, Uint8Array.from([0x00, 0x07, 0x1b, 0x41, 0x20, 0x7f, 0x0a, 0x01]));
    await expectLockstepError(loadEeSet(r), { file, line: 1, field: 'label' });
  });
});

// ----------------------------------------------------------------------------------------------
// Missing splits, bad options
// ----------------------------------------------------------------------------------------------

describe('loadEeSet: missing splits and bad input', () => {
  it('rejects a root without train/, dev/ or eval/', async () => {
    const r = tmp();
    fs.mkdirSync(path.join(r, 'other'));
    await expectLockstepError(loadEeSet(r), { file: r }, 'train/, dev/, eval/');
  });

  it('rejects a path that does not exist', async () => {
    await expectLockstepError(loadEeSet(path.join(tmp(), 'nope')), {}, 'found nothing');
  });

  it('rejects a split folder without a labels file', async () => {
    const r = tmp();
    makeSplit(r, 'train', goodExamples('train', 2));
    fs.mkdirSync(path.join(r, 'dev/fbc'), { recursive: true });
    await expectLockstepError(loadEeSet(r), { file: 'dev/lab/' }, 'expected one labels file dev/lab/*.txt, found none');
  });

  it('rejects a lab folder with two labels files', async () => {
    const r = tmp();
    makeSplit(r, 'train', goodExamples('train', 2));
    write(r, 'train/lab/second.txt', '');
    await expectLockstepError(loadEeSet(r), { file: 'train/lab/' }, 'found 2');
  });

  it('rejects a requested split that is absent, and loads without eval', async () => {
    const r = tmp();
    makeSplit(r, 'train', goodExamples('train', 2));
    makeSplit(r, 'dev', goodExamples('dev', 2));
    await expectLockstepError(loadEeSet(r, { splits: ['eval'] }), {}, 'eval/');
    await expectLockstepError(loadEeSet(path.join(r, 'dev/lab/dev_labels.txt'), { splits: ['train'] }), {}, 'dev');
    const ds = await loadEeSet(r);
    expect(Object.keys(ds.splits).sort()).toEqual(['dev', 'train']);
  });

  it('rejects bad options', async () => {
    const r = tmp();
    makeSplit(r, 'train', goodExamples('train', 1));
    await expectLockstepError(loadEeSet(r, { frames: 0 }), { field: 'frames' });
    await expectLockstepError(loadEeSet(r, { frames: 2.5 }), { field: 'frames' });
    await expectLockstepError(loadEeSet(r, { short: 'trim' } as unknown as LoadOptions), { field: 'short' });
    await expectLockstepError(loadEeSet(r, { splits: ['test'] } as unknown as LoadOptions), { field: 'splits' });
  });

  it('loads an empty labels file as an empty split', async () => {
    const r = tmp();
    makeSplit(r, 'train', [], '\n\n');
    const ds = await loadEeSet(r);
    expect(ds.splits.train!.n).toBe(0);
    expect(ds.reports.train!).toMatchObject({ listed: 0, kept: 0, classCounts: [0, 0, 0, 0, 0, 0, 0, 0, 0] });
  });
});

// ----------------------------------------------------------------------------------------------
// Worker thread: same results, with or without it
// ----------------------------------------------------------------------------------------------

describe('loadEeSet: worker thread', () => {
  const saved = { ...eesetTuning };
  afterEach(() => Object.assign(eesetTuning, saved));

  it('a labels file long enough to start the worker, refused on its last line, leaves nothing running: the process exits', () => {
    const r = tmp();
    makeSplit(r, 'train', goodExamples('train', 300, 4));
    fs.appendFileSync(path.join(r, 'train/lab/train_labels.txt'), '0 /etc/passwd\n');
    const script =
      `const { loadEeSet } = await import(${JSON.stringify(path.join(here, 'eeset.ts'))});\n` +
      `await loadEeSet(${JSON.stringify(r)}).then(() => console.log('loaded'), (e) => console.log(e.message));`;
    const args = ['--import', 'tsx', '--input-type=module', '-e', script];
    const out = execFileSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(out.trim()).toBe(
      "train/lab/train_labels.txt, line 301, field path: expected a path relative to the dataset root, found the absolute path '/etc/passwd'",
    );
  });

  it('gives identical results when the worker does all, part or none of the work', async () => {
    const r = tmp();
    const ex = goodExamples('train', 40, 68);
    ex[7] = { label: 7, rel: 'train/fbc/bad.txt', content: '1 2 3\n' };
    ex[20] = { label: 2, rel: 'train/fbc/inf.txt', content: featText(0, 80).replace(/\S+\r\n/, 'inf\r\n') };
    ex[33] = { label: 6, rel: 'train/fbc/gone.txt' };
    makeSplit(r, 'train', ex);
    fs.mkdirSync(path.join(r, 'train/fbc/sub'));
    write(r, 'train/fbc/sub/target.txt', featText(99, 75));
    fs.symlinkSync('sub/target.txt', path.join(r, 'train/fbc/ex3_fbc.txt.link'));
    fs.appendFileSync(path.join(r, 'train/lab/train_labels.txt'), '3 train/fbc/ex3_fbc.txt.link\n');

    eesetTuning.workerMinFiles = 1e9; // main thread only
    const single = await loadEeSet(r);
    expect(eesetTuning.lastWorkerFiles).toBe(0);

    eesetTuning.workerMinFiles = 1;
    eesetTuning.chunkFiles = 3;
    eesetTuning.mainThreadHelps = false; // worker only
    const workerOnly = await loadEeSet(r);
    expect(eesetTuning.lastWorkerFiles).toBe(41);

    eesetTuning.mainThreadHelps = true; // shared
    const shared = await loadEeSet(r);

    for (const ds of [workerOnly, shared]) {
      expect(ds.reports).toEqual(single.reports);
      expect(ds.splits.train!.ids).toEqual(single.splits.train!.ids);
      expect(ds.splits.train!.y).toEqual(single.splits.train!.y);
      expect(ds.splits.train!.x).toEqual(single.splits.train!.x);
      expect(ds.splits.train!.x.buffer).toBeInstanceOf(ArrayBuffer); // never a SharedArrayBuffer
    }
    expect(single.reports.train!.dropped).toEqual({ missing: 1, malformed: 1, nonFinite: 1, short: 25 });
    expect(single.splits.train!.ids.at(-1)).toBe('train/fbc/ex3_fbc.txt.link');
  });

  it('compacts kept examples over dropped ones, zero-padding short ones, with or without the worker', async () => {
    const r = tmp();
    // Rows 66–71 in turn; every 5th file is missing, so the kept ones move left over longer ones.
    const ex = Array.from({ length: 30 }, (_, i) => ({
      label: i % 9,
      rel: `train/fbc/f${i}.txt`,
      rows: i % 5 === 2 ? undefined : 66 + (i % 6),
      seed: i,
    }));
    makeSplit(r, 'train', ex);
    const keptEx = ex.filter((e) => e.rows !== undefined);
    for (const [workerMinFiles, mainThreadHelps] of [
      [1e9, true],
      [1, false],
      [1, true],
    ] as const) {
      Object.assign(eesetTuning, { workerMinFiles, mainThreadHelps, chunkFiles: 4 });
      const s = (await loadEeSet(r, { short: 'pad' })).splits.train!;
      expect(s.ids).toEqual(keptEx.map((e) => e.rel));
      keptEx.forEach((e, j) => {
        const slot = s.x.subarray(j * 1120, (j + 1) * 1120);
        const n = Math.min(70, e.rows!) * 16;
        expect(slot.subarray(0, n)).toEqual(expected(e.seed, Math.min(70, e.rows!)));
        expect(slot.subarray(n).every((v) => v === 0)).toBe(true);
      });
      expect(s.x.byteOffset).toBe(0);
      expect(s.x.buffer.byteLength).toBeLessThanOrEqual(s.x.byteLength / 0.9 + 1120 * 4);
    }
  });

  it('gives a split of many dropped examples a buffer of its own size', async () => {
    const r = tmp();
    makeSplit(
      r,
      'train',
      Array.from({ length: 20 }, (_, i) => ({ label: 0, rel: `train/fbc/f${i}.txt`, rows: i < 2 ? 70 : undefined })),
    );
    const s = (await loadEeSet(r)).splits.train!;
    expect(s.n).toBe(2);
    expect(s.x.buffer.byteLength).toBe(2 * 1120 * 4);
  });

  it('keeps its helper thread for the next load, and never keeps the process alive with it', async () => {
    const r = tmp();
    makeSplit(r, 'train', goodExamples('train', 6));
    eesetTuning.workerMinFiles = 1;
    eesetTuning.mainThreadHelps = false;
    await loadEeSet(r);
    const helper = loaderHelper();
    const again = await loadEeSet(r);
    expect(loaderHelper()).toBe(helper);
    expect(eesetTuning.lastWorkerFiles).toBe(6);
    expect(again.reports.train!.kept).toBe(6);
    // A process that loaded with the worker exits by itself (execFileSync would time out otherwise).
    const script = `import { loadEeSet, eesetTuning } from ${JSON.stringify(path.join(here, 'eeset.ts'))};
      eesetTuning.workerMinFiles = 1;
      eesetTuning.mainThreadHelps = false;
      const ds = await loadEeSet(${JSON.stringify(r)});
      console.log(ds.reports.train.kept, eesetTuning.lastWorkerFiles > 0);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      timeout: 30_000,
    });
    expect(out.toString().trim()).toBe('6 true');
  });
});

// ----------------------------------------------------------------------------------------------
// The real ee-set
// ----------------------------------------------------------------------------------------------

describe('loadEeSet: real ee-set', () => {
  it.skipIf(!realExists)('reproduces the course protocol counts', async () => {
    const ds = await loadEeSet(realDir);
    const train = ds.reports.train!;
    expect(train.listed).toBe(5280);
    expect(train.dropped).toEqual({ nonFinite: 19, short: 201, missing: 0, malformed: 0 });
    expect(train.kept).toBe(5060);
    const dev = ds.reports.dev!;
    expect(dev.listed).toBe(774);
    expect(dev.dropped).toEqual({ nonFinite: 0, short: 43, missing: 0, malformed: 0 });
    expect(dev.kept).toBe(731);
    for (const [name, rep] of [
      ['train', train],
      ['dev', dev],
    ] as const) {
      expect(rep.classCounts.reduce((a, b) => a + b, 0)).toBe(rep.kept);
      const s = ds.splits[name]!;
      expect(s.n).toBe(rep.kept);
      expect(s.x.length).toBe(rep.kept * 70 * 16);
      expect(s.y.length).toBe(rep.kept);
      expect(s.x.every(Number.isFinite)).toBe(true);
    }
    expect(train.droppedExamples.find((d) => d.file === 'train/fbc/FM3_IDL_LC_C2_M1_fbc.txt')).toMatchObject({
      reason: 'nonFinite',
      line: 1,
    });
    // Spot-check one example against Number() of its tokens.
    const first = ds.splits.train!.ids[0];
    const text = fs.readFileSync(path.join(realDir, first), 'utf8');
    const want = Float32Array.from(
      text
        .trim()
        .split(/\s+/)
        .slice(0, 70 * 16)
        .map(Number),
    );
    expect(ds.splits.train!.x.subarray(0, 70 * 16)).toEqual(want);
  });
});
