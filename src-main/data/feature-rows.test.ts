/**
 * The feature parser's fast path (feature-rows.wat) against the reference, the general parser
 * alone: same values, rows, errors and lines on any mix of rows; and against Number() itself.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createFeatureParser, type ParsedFeatures } from './feature-parser';
import { featureRowsModule, type FeatureRowsExports } from './feature-rows';

const fast = createFeatureParser(featureRowsModule());
const reference = createFeatureParser(null);

/** `x` as printf's "%16.7e" writes it (the dataset's format); `upper` writes 'E'. */
function fixed(x: number, upper = false): string {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [mant, exp] = Math.abs(x).toExponential(7).split('e');
  const e = `${exp[0]}${exp.slice(1).padStart(2, '0')}`;
  return `${sign}${mant}${upper ? 'E' : 'e'}${e}`.padStart(16);
}

function fixedRow(xs: number[], upper = false): string {
  return xs.map((x) => fixed(x, upper)).join('');
}

/** Runs feature-rows.wat's parse_rows on `text` (which must end with '\n'): rows converted, where it stopped, values. */
function parseRowsDirect(text: string, limit = 1000): { rows: number; stop: number; values: Float32Array } {
  const wasm = new WebAssembly.Instance(featureRowsModule()).exports as unknown as FeatureRowsExports;
  const OUT = 1024;
  const IN = 1 << 16;
  wasm.memory.grow(Math.ceil((IN + text.length) / 65536));
  const bytes = Buffer.from(text, 'latin1');
  new Uint8Array(wasm.memory.buffer).set(bytes, IN);
  const rows = wasm.parse_rows(IN, IN + bytes.length, OUT, limit, 1);
  return {
    rows,
    stop: (wasm.stop.value as number) - IN,
    values: new Float32Array(wasm.memory.buffer, OUT, rows * 16).slice(),
  };
}

function expectSameOutcome(a: ParsedFeatures, b: ParsedFeatures): void {
  expect({ ...a, values: null }).toEqual({ ...b, values: null });
  for (let i = 0; i < a.values.length; i++) {
    if (!Object.is(a.values[i], b.values[i]))
      throw new Error(`value ${i}: fast ${a.values[i]}, reference ${b.values[i]}`);
  }
}

const float32Range = fc.double({ noNaN: true, noDefaultInfinity: true, min: -3.4e38, max: 3.4e38 });
/** Mostly the dataset's magnitudes, some at the edges of (and beyond) one-digit exponents. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, min: -20, max: 20 }) },
  { weight: 2, arbitrary: float32Range },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, -0, 1e-9, 9.9999999e-10, 1e-10, 9.9999999e9, 1e10, 1e39, -1e99, 3.4028235e38),
  },
);
const values16 = fc.array(value, { minLength: 16, maxLength: 16 });

describe('feature-rows.wat', () => {
  it('converts rows in the dataset format, up to the first line that is not one', () => {
    const a = [
      4.0502733, 2.837555, -0.2154636, 0, -0, 3.7e-9, 12345678, 999999999, -1.5, 3e-3, 4e-4, 5e-5, 6e-6, 7e-7, 8e-8, 9,
    ];
    const b = a.map((x) => -x * 0.37);
    const text = `${fixedRow(a)}\r\n${fixedRow(b, true)}\n${fixedRow(a).replace(/\S+$/, '-Inf').padEnd(256)}\n${fixedRow(a)}\n`;
    const r = parseRowsDirect(text);
    expect(r.rows).toBe(2);
    expect(r.stop).toBe(258 + 257);
    const want = [...a, ...b].map((x) => Math.fround(Number(fixed(x))));
    want.forEach((w, i) => expect(Object.is(r.values[i], w), `value ${i}: ${r.values[i]} vs ${w}`).toBe(true));
    expect(Object.is(r.values[4], -0)).toBe(true);
    expect(parseRowsDirect(text, 1).rows).toBe(1); // stops at `limit`
  });

  it.each([
    ['a two-digit exponent (−10)', (row: string) => row.replace('e-01', 'e-10')],
    ['a two-digit exponent (+10)', (row: string) => row.replace('e-01', 'e+10')],
    ['a three-digit exponent', (row: string) => row.replace(' -2.1546360e-01', '-2.1546360e-001')],
    ['a plus sign', (row: string) => row.replace(' -2.1546360e-01', ' +2.1546360e-01')],
    ['a tab', (row: string) => row.replace(' -2.1546360e-01', '\t-2.1546360e-01')],
    ['no line end after 16 fields', (row: string) => row + ' '],
    ['15 fields', (row: string) => row.slice(16)],
    ['a letter for a digit', (row: string) => row.replace('2.1546360', '2.15463x0')],
  ])('leaves %s to the general parser', (_what, edit) => {
    const row = fixedRow([1, -0.2154636, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(parseRowsDirect(`${row}\n`).rows).toBe(1);
    expect(parseRowsDirect(`${edit(row)}\n${row}\n`)).toMatchObject({ rows: 0, stop: 0 });
  });
});

describe('feature parser: fast path = reference', () => {
  it('gives values equal to Math.fround(Number(token)) on rows in the dataset format (property)', () => {
    fc.assert(
      fc.property(fc.array(values16, { minLength: 1, maxLength: 5 }), fc.boolean(), (rows, upper) => {
        const text = rows.map((xs) => fixedRow(xs, upper)).join('\r\n') + '\r\n';
        const r = fast.parseBytes(Buffer.from(text), rows.length);
        const tokens = text.trim().split(/\s+/);
        tokens.forEach((t, i) => {
          if (!Object.is(r.values[i], Math.fround(Number(t)))) throw new Error(`'${t}': ${r.values[i]}`);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same values, rows, errors and lines on any mix of rows (property)', () => {
    const line = fc.oneof(
      { weight: 12, arbitrary: fc.tuple(values16, fc.boolean()).map(([xs, upper]) => fixedRow(xs, upper)) },
      { weight: 1, arbitrary: values16.map((xs) => xs.map(String).join(' ')) },
      { weight: 1, arbitrary: values16.map((xs) => fixedRow(xs).replace(/\S+$/, '-Inf').padEnd(256)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('', '   ', '1 2 3', fixedRow(new Array<number>(16).fill(1)).replace('1.0', '1,0')),
      },
    );
    const file = fc
      .tuple(fc.array(line, { maxLength: 40 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
      .map(([lines, eol, final]) => lines.join(eol) + (final ? eol : ''));
    fc.assert(
      fc.property(file, fc.integer({ min: 1, max: 45 }), (text, maxRows) => {
        const bytes = Buffer.from(text, 'latin1');
        expectSameOutcome(fast.parseBytes(bytes, maxRows), reference.parseBytes(bytes, maxRows));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the first maxRows rows of a long file and checks the rest', () => {
    const rows = Array.from({ length: 2600 }, (_, r) =>
      fixedRow(Array.from({ length: 16 }, (_, c) => Math.sin(r * 16 + c) * 5)),
    );
    const clean = Buffer.from(rows.join('\r\n') + '\r\n');
    for (const maxRows of [1, 70, 1024, 1025, 2100, 3000]) {
      const r = fast.parseBytes(clean, maxRows);
      expect(r.rows).toBe(2600);
      expectSameOutcome(r, reference.parseBytes(clean, maxRows));
    }
    rows[2500] = rows[2500].replace(/\S+$/, 'nan').padEnd(256);
    const late = fast.parseBytes(Buffer.from(rows.join('\n') + '\n'), 70);
    expect(late).toMatchObject({ rows: 2600, infLine: 2501, badLine: 0 });
    rows[2550] = rows[2550].slice(16);
    const bad = fast.parseBytes(Buffer.from(rows.join('\n') + '\n'), 70);
    expect(bad.badLine).toBe(2551);
    expect(bad.badMsg).toContain('found 15');
  });
});
