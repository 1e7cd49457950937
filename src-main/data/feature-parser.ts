/**
 * The ee-set's feature files: ASCII rows of 16 numbers (one row per frame), parsed byte by byte
 * straight into a Float32Array. The parse is exact: every value equals
 * `Math.fround(Number(token))` (Clinger's fast path for short mantissas, `Number()` of the
 * token for anything outside it), and it never allocates per number.
 *
 * `createFeatureParser` is SELF-CONTAINED: it may use only JavaScript globals (Buffer, Math, …),
 * because its source text also runs in the loader's worker thread (eeset-worker.ts).
 */

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

export function createFeatureParser() {
  /** Values per row: EE_SET_CHANNELS (repeated here, as this function may not use outer names). */
  const CH = 16;
  const MAX_SHOWN = 24;
  /** Exact powers of ten: Clinger's fast path (integer mantissa < 2^53, |exponent| ≤ 22). */
  const POW10 = new Float64Array(23);
  for (let k = 0, p = 1; k <= 22; k++, p *= 10) POW10[k] = p;

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
  function parseLines(buf: Uint8Array, start: number, end: number, out: Float32Array, base: number, maxRows: number): void {
    let i = start;
    let line = st.line;
    let rows = st.rows;
    let lastRowLine = st.lastRowLine;
    let infLine = st.infLine;
    while (i < end) {
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
        let v = 0;
        let done = false;
        // Fast path for printf's %.7e (this dataset's format): d.ddddddde±dd
        if (i + 13 < end && buf[i + 1] === 46 && (buf[i + 9] | 32) === 101) {
          const d0 = c - 48;
          const d1 = buf[i + 2] - 48;
          const d2 = buf[i + 3] - 48;
          const d3 = buf[i + 4] - 48;
          const d4 = buf[i + 5] - 48;
          const d5 = buf[i + 6] - 48;
          const d6 = buf[i + 7] - 48;
          const d7 = buf[i + 8] - 48;
          const s = buf[i + 10];
          const x0 = buf[i + 11] - 48;
          const x1 = buf[i + 12] - 48;
          const t = buf[i + 13];
          if (
            d0 >>> 0 < 10 && d1 >>> 0 < 10 && d2 >>> 0 < 10 && d3 >>> 0 < 10 &&
            d4 >>> 0 < 10 && d5 >>> 0 < 10 && d6 >>> 0 < 10 && d7 >>> 0 < 10 &&
            x0 >>> 0 < 10 && x1 >>> 0 < 10 && (s === 45 || s === 43) &&
            (t === 32 || t === 10 || t === 13 || t === 9)
          ) {
            const e10 = (s === 45 ? -(x0 * 10 + x1) : x0 * 10 + x1) - 7;
            if (e10 >= -22 && e10 <= 22) {
              const mant = ((d0 * 10 + d1) * 100 + d2 * 10 + d3) * 10000 + (d4 * 10 + d5) * 100 + d6 * 10 + d7;
              v = e10 < 0 ? mant / POW10[-e10] : mant * POW10[e10];
              if (neg) v = -v;
              i += 13;
              c = t;
              done = true;
            }
          }
        }
        if (!done) {
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
      const buf = new Uint8Array(bytes.length + 1);
      buf.set(bytes);
      let end = bytes.length;
      if (buf[end - 1] !== 10) buf[end++] = 10;
      parseLines(buf, start, end, values, 0, maxRows);
    }
    return { values, rows: st.rows, badLine: st.badLine, badMsg: st.badMsg, infLine: st.infLine, infMsg: st.infMsg };
  }


  return { CH, st, parseLines, resetState, fail, parseBytes };
}

const PARSER = createFeatureParser();

/**
 * Parses the text of one feature file (rows of 16 numbers) as the loader does: the first
 * `maxRows` rows as float32, the number of rows, and the first malformed / non-finite line.
 */
export function parseFeatureBytes(bytes: Uint8Array, maxRows: number): ParsedFeatures {
  return PARSER.parseBytes(bytes, maxRows);
}
