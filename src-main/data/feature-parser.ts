/**
 * The ee-set's feature files: ASCII rows of 16 numbers (one row per frame), parsed byte by byte
 * straight into a Float32Array. The parse is exact: every value equals
 * `Math.fround(Number(token))`, and it never allocates per number.
 *
 * Two paths, one result. The fast path (feature-rows.wat, WebAssembly SIMD) converts rows in
 * the dataset's own fixed-width format ("%16.7e", 16 fields of 16 bytes); it stops at the first
 * line that is not one and leaves that line to the general parser below, which handles every
 * other syntax (Clinger's fast path for short mantissas, `Number()` of the token for anything
 * outside it) and reports every error. The general parser alone (no module given) is the
 * reference the fast path is tested against (feature-rows.test.ts).
 *
 * `createFeatureParser` is SELF-CONTAINED: it may use only its parameter and JavaScript globals
 * (Buffer, Math, WebAssembly, …), because its source text also runs in the loader's worker
 * thread (eeset-worker.ts).
 */

import { featureRowsModule, type FeatureRowsExports } from './feature-rows';

/** Values per feature row (16 log mel filterbank coefficients). */
export const EE_SET_CHANNELS = 16;

export type FeatureParser = ReturnType<typeof createFeatureParser>;

/** The outcome of parsing one feature file held in memory. */
export interface ParsedFeatures {
  /** The first `maxRows` rows, row-major (rows past the file's end stay zero). */
  values: Float32Array;
  rows: number;
  /** First malformed line (1-based; 0 = none) and its message. */
  badLine: number;
  badMsg: string;
  /** First line with a non-finite value (0 = none) and its message. */
  infLine: number;
  infMsg: string;
}

/** `fastRows`: the compiled feature-rows.wat (see feature-rows.ts), or `null` for the general parser alone. */
export function createFeatureParser(fastRows: WebAssembly.Module | null = null) {
  /** Values per row: EE_SET_CHANNELS (repeated here, as this function may not use outer names). */
  const CH = 16;
  const MAX_SHOWN = 24;
  /** Exact powers of ten: Clinger's fast path (integer mantissa < 2^53, |exponent| ≤ 22). */
  const POW10 = new Float64Array(23);
  for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10[k] = p;

  // The fast path's memory: its own table (below SCRATCH), the rows it converted last
  // (SCRATCH), then the file's text (INPUT), which the reader reads straight into.
  const SCRATCH = 1024;
  const SCRATCH_ROWS = 1024;
  const INPUT = SCRATCH + SCRATCH_ROWS * CH * 4;
  const PAGE = 65536;
  const fast = fastRows === null ? null : (new WebAssembly.Instance(fastRows).exports as unknown as FeatureRowsExports);
  let input = new Uint8Array(0);
  let converted = new Float32Array(0);

  /**
   * The buffer for a file's text, at least `size` bytes, keeping what the last one held (it
   * is one buffer, grown when needed): in the fast path's memory when there is one.
   */
  function inputBuffer(size: number): Uint8Array {
    if (input.length >= size) return input;
    if (fast === null) {
      const bigger = new Uint8Array(size);
      bigger.set(input);
      input = bigger;
      return input;
    }
    const mem = fast.memory;
    const missing = INPUT + size - mem.buffer.byteLength;
    if (missing > 0) mem.grow(Math.ceil(missing / PAGE)); // keeps the content; detaches the old views
    input = new Uint8Array(mem.buffer, INPUT, mem.buffer.byteLength - INPUT);
    converted = new Float32Array(mem.buffer, SCRATCH, SCRATCH_ROWS * CH);
    return input;
  }

  /** Parse state of the current file (lines are 1-based; 0 = none). */
  const st = { line: 0, rows: 0, lastRowLine: 0, badLine: 0, badMsg: '', infLine: 0, infMsg: '' };

  /** `"text"` of the token at `from` (up to whitespace), decoded as UTF-8 and shortened. */
  function shownToken(buf: Uint8Array, from: number, end: number): string {
    let to = from;
    while (to < end && buf[to] !== 32 && buf[to] !== 9 && buf[to] !== 13 && buf[to] !== 10) to++;
    const bytes = Buffer.from(buf.buffer, buf.byteOffset + from, Math.min(to - from, MAX_SHOWN * 4));
    const s = bytes.toString('utf8');
    return JSON.stringify(s.length > MAX_SHOWN || to - from > MAX_SHOWN * 4 ? s.slice(0, MAX_SHOWN) + '…' : s);
  }

  /** ASCII text of a token (only called on number syntax already validated). */
  function tokenText(buf: Uint8Array, from: number, to: number): string {
    let s = '';
    for (let k = from; k < to; k++) s += String.fromCharCode(buf[k]);
    return s;
  }

  function countTokens(buf: Uint8Array, from: number): number {
    let n = 0;
    let inTok = false;
    for (let k = from; buf[k] !== 10; k++) {
      const c = buf[k];
      const ws = c === 32 || c === 9 || c === 13;
      if (!ws && !inTok) n++;
      inTok = !ws;
    }
    return n;
  }

  /** End of `nan`, `inf` or `infinity` (any case) at `i`, or -1. */
  function matchNonFinite(buf: Uint8Array, i: number): number {
    const a = buf[i] | 0x20;
    const b = buf[i + 1] | 0x20;
    const c = buf[i + 2] | 0x20;
    if (a === 0x6e && b === 0x61 && c === 0x6e) return i + 3;
    if (a !== 0x69 || b !== 0x6e || c !== 0x66) return -1;
    const w = 'inity';
    let k = 0;
    while (k < 5 && (buf[i + 3 + k] | 0x20) === w.charCodeAt(k)) k++;
    return k === 5 ? i + 8 : i + 3;
  }

  function fail(line: number, msg: string): void {
    st.badLine = line;
    st.badMsg = msg;
  }

  /**
   * Parses the whole lines `buf[start, end)` (`buf[end - 1]` is '\n') as rows of 16 numbers;
   * rows below `maxRows` go to `out` at `base + row * 16`. Stops at the first malformed line.
   * Numbers: `[+-]? (d+ [.d*] | .d+) ([eE] [+-]? d+)?`, or `[+-]? (inf | infinity | nan)` in any
   * case, which are well-formed but non-finite (as are finite numbers beyond float32's range).
   */
  function parseLines(
    buf: Uint8Array,
    start: number,
    end: number,
    out: Float32Array,
    base: number,
    maxRows: number,
  ): void {
    let i = start;
    let line = st.line;
    let rows = st.rows;
    let lastRowLine = st.lastRowLine;
    let infLine = st.infLine;
    /** `buf` is the fast path's input buffer: its byte `i` is at `at + i` in the module's memory. */
    const at = fast !== null && buf.buffer === fast.memory.buffer ? buf.byteOffset : -1;
    while (i < end) {
      if (at >= 0) {
        // The fast path converts the rows it can (keeping the first maxRows), up to the next
        // line it cannot, which the general parser below takes.
        for (;;) {
          const keep = rows < maxRows;
          const limit = keep ? Math.min(maxRows - rows, SCRATCH_ROWS) : 0x7fffffff;
          const n = fast!.parse_rows(at + i, at + end, SCRATCH, limit, keep ? 1 : 0);
          if (n === 0) break;
          if (keep) out.set(converted.subarray(0, n * CH), base + rows * CH);
          rows += n;
          line += n;
          lastRowLine = line;
          i = (fast!.stop.value as number) - at;
          if (n < limit) break;
        }
        if (i >= end) break;
      }
      line++;
      const lineStart = i;
      let col = 0;
      const store = rows < maxRows;
      const o = base + rows * CH;
      let c = buf[i];
      for (;;) {
        while (c === 32 || c === 9 || c === 13) c = buf[++i];
        if (c === 10) {
          i++;
          break;
        }
        if (col === CH) {
          fail(line, `expected ${CH} numbers per row, found ${countTokens(buf, lineStart)}`);
          st.line = line;
          return;
        }
        const tokStart = i;
        let neg = false;
        if (c === 45) {
          neg = true;
          c = buf[++i];
        } else if (c === 43) {
          c = buf[++i];
        }
        let v: number;
        // General syntax. Integer and fraction digits accumulate into one integer mantissa,
        // exact while below 2^53 (it only grows, so checking its final value suffices).
        const numStart = i;
        let mant = 0;
        let e10 = 0;
        let point = 0;
        while ((c - 48) >>> 0 < 10) {
          mant = mant * 10 + (c - 48);
          c = buf[++i];
        }
        if (c === 46) {
          point = 1;
          c = buf[++i];
          const fracStart = i;
          while ((c - 48) >>> 0 < 10) {
            mant = mant * 10 + (c - 48);
            c = buf[++i];
          }
          e10 = fracStart - i;
        }
        if (i - numStart - point > 0) {
          if ((c | 32) === 101) {
            c = buf[++i];
            let eneg = false;
            if (c === 45) {
              eneg = true;
              c = buf[++i];
            } else if (c === 43) {
              c = buf[++i];
            }
            const expStart = i;
            let ev = 0;
            while ((c - 48) >>> 0 < 10) {
              if (ev < 1e6) ev = ev * 10 + (c - 48);
              c = buf[++i];
            }
            if (i === expStart) {
              fail(line, `expected a number in column ${col + 1}, found ${shownToken(buf, tokStart, end)}`);
              st.line = line;
              return;
            }
            e10 += eneg ? -ev : ev;
          }
          if (c !== 32 && c !== 9 && c !== 13 && c !== 10) {
            fail(line, `expected a number in column ${col + 1}, found ${shownToken(buf, tokStart, end)}`);
            st.line = line;
            return;
          }
          if (mant < 9007199254740992 && e10 >= -22 && e10 <= 22) {
            v = e10 < 0 ? mant / POW10[-e10] : mant * POW10[e10];
            if (neg) v = -v;
          } else if (mant === 0) {
            v = neg ? -0 : 0;
          } else {
            const text = tokenText(buf, tokStart, i);
            v = Number(text);
            const f = Math.fround(v);
            if ((f === Infinity || f === -Infinity) && infLine === 0) {
              infLine = line;
              st.infMsg = `expected finite numbers, found ${text} in column ${col + 1}, beyond the float32 range`;
            }
          }
        } else {
          const e = i === numStart ? matchNonFinite(buf, i) : -1;
          const t = e < 0 ? 0 : buf[e];
          if (t !== 32 && t !== 9 && t !== 13 && t !== 10) {
            fail(line, `expected a number in column ${col + 1}, found ${shownToken(buf, tokStart, end)}`);
            st.line = line;
            return;
          }
          i = e;
          c = t;
          v = NaN;
          if (infLine === 0) {
            infLine = line;
            st.infMsg = `expected finite numbers, found ${tokenText(buf, tokStart, i)} in column ${col + 1}`;
          }
        }
        if (store) out[o + col] = v;
        col++;
      }
      if (col === CH) {
        rows++;
        lastRowLine = line;
      } else if (col !== 0) {
        fail(line, `expected ${CH} numbers per row, found ${col}`);
        st.line = line;
        return;
      }
    }
    st.line = line;
    st.rows = rows;
    st.lastRowLine = lastRowLine;
    st.infLine = infLine;
  }

  function resetState(): void {
    st.line = 0;
    st.rows = 0;
    st.lastRowLine = 0;
    st.badLine = 0;
    st.badMsg = '';
    st.infLine = 0;
    st.infMsg = '';
  }

  /** Parses a feature file held in memory: its first `maxRows` rows, and the outcome. */
  function parseBytes(
    bytes: Uint8Array,
    maxRows: number,
  ): { values: Float32Array; rows: number; badLine: number; badMsg: string; infLine: number; infMsg: string } {
    resetState();
    const values = new Float32Array(maxRows * CH);
    const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    if (bytes.length > start) {
      const buf = inputBuffer(bytes.length + 1);
      buf.set(bytes);
      let end = bytes.length;
      if (buf[end - 1] !== 10) buf[end++] = 10;
      parseLines(buf, start, end, values, 0, maxRows);
    }
    return { values, rows: st.rows, badLine: st.badLine, badMsg: st.badMsg, infLine: st.infLine, infMsg: st.infMsg };
  }

  return { CH, st, inputBuffer, parseLines, resetState, fail, parseBytes };
}

const PARSER = createFeatureParser(featureRowsModule());

/**
 * Parses the text of one feature file (rows of 16 numbers) as the loader does: the first
 * `maxRows` rows as float32, the number of rows, and the first malformed / non-finite line.
 */
export function parseFeatureBytes(bytes: Uint8Array, maxRows: number): ParsedFeatures {
  return PARSER.parseBytes(bytes, maxRows);
}
