/**
 * Reading the ee-set's feature files: each is opened without following a symlink in its last
 * component, read synchronously in chunks of whole lines into the parser's input buffer (one,
 * reused; in the WebAssembly fast path's memory, so the bytes are copied once, by the kernel),
 * and parsed there, the rows going into the split's preallocated slots.
 *
 * Why synchronous reads: on the 2-core dev VM, reading the 5280 train files with
 * fs.promises.readFile (32 in flight) took 330–440 ms, against 95–120 ms with readFileSync or
 * open/read/close into one buffer (the per-file promise and thread-pool hops cost more than
 * the I/O).
 *
 * `createFileProcessor` is SELF-CONTAINED: it may use only its parameters and JavaScript/Node
 * globals, because its source text also runs in the loader's worker thread (eeset-worker.ts).
 */
import * as fs from 'node:fs';
import { createFeatureParser, type FeatureParser } from './feature-parser';
import { featureRowsModule } from './feature-rows';

export type FileProcessor = ReturnType<typeof createFileProcessor>;

export function createFileProcessor(fsm: typeof fs, parser: FeatureParser) {
  const { CH, st } = parser;
  /** Largest single line buffered. */
  const MAX_LINE_BYTES = 64 * 1024 * 1024;
  const S_OK = 1;
  const S_MISSING = 2;
  const S_MALFORMED = 3;
  const S_NONFINITE = 4;
  /** The file is a symlink: the main thread resolves and checks it. */
  const S_SYMLINK = 5;
  const O_RDONLY = fsm.constants.O_RDONLY;
  const O_NOFOLLOW: number | undefined = fsm.constants.O_NOFOLLOW;
  const O_NONBLOCK: number = fsm.constants.O_NONBLOCK || 0;

  /** The parser's input buffer (read straight into); one byte is always kept free for its '\n' sentinel. */
  let readBuf = parser.inputBuffer((1 << 20) + 1);

  function openFailure(code: string): string {
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'file not found';
    if (code === 'EISDIR') return 'expected a file, found a folder';
    return `file not readable (${code})`;
  }

  /** Reads `fd` (of `size` bytes, 0 if unknown) in chunks of whole lines and parses it. Returns a read error or ''. */
  function readAndParse(fd: number, size: number, out: Float32Array, base: number, maxRows: number): string {
    let fill = 0;
    let start = 0;
    let total = 0;
    let bomChecked = false;
    for (;;) {
      if (fill >= readBuf.length - 1) {
        if (readBuf.length - 1 >= MAX_LINE_BYTES) {
          parser.fail(
            st.line + 1,
            `expected rows of ${CH} numbers, found a line longer than ${MAX_LINE_BYTES >> 20} MiB`,
          );
          return '';
        }
        readBuf = parser.inputBuffer(Math.min((readBuf.length - 1) * 2, MAX_LINE_BYTES) + 1); // keeps its content
      }
      const buf = readBuf;
      let n: number;
      try {
        n = fsm.readSync(fd, buf, fill, buf.length - 1 - fill, null);
      } catch (e) {
        return openFailure((e as { code?: string }).code ?? String(e));
      }
      fill += n;
      total += n;
      const eof = n === 0 || (size > 0 && total >= size);
      if (!bomChecked && (fill >= 3 || eof)) {
        bomChecked = true;
        if (fill >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
      }
      if (eof) {
        if (fill > start) {
          if (buf[fill - 1] !== 10) buf[fill++] = 10; // sentinel: the parser relies on a final '\n'
          parser.parseLines(buf, start, fill, out, base, maxRows);
        }
        return '';
      }
      if (!bomChecked) continue;
      let nl = fill - 1;
      while (nl >= start && buf[nl] !== 10) nl--;
      if (nl < start) continue; // no complete line yet
      parser.parseLines(buf, start, nl + 1, out, base, maxRows);
      if (st.badLine !== 0) return '';
      buf.copyWithin(0, nl + 1, fill);
      fill -= nl + 1;
      start = 0;
    }
  }

  /**
   * Reads and parses one feature file into `out` at `base` (its first `maxRows` rows). Writes
   * `info[k*4 ..]` = status, rows, line (of the problem), line of the last row; returns the
   * message for a dropped file, else ''. Never follows a symlink in the last component
   * (status S_SYMLINK instead) unless `follow`; the caller has resolved the folders.
   */
  function processFile(
    path: string,
    out: Float32Array,
    base: number,
    maxRows: number,
    info: Int32Array,
    k: number,
    follow = false,
  ): string {
    const at = k * 4;
    info[at + 1] = 0;
    info[at + 2] = 0;
    info[at + 3] = 0;
    if (!follow && O_NOFOLLOW === undefined) {
      info[at] = S_SYMLINK; // cannot tell safely on this platform: let the caller resolve it
      return '';
    }
    let fd: number;
    try {
      fd = fsm.openSync(path, O_RDONLY | O_NONBLOCK | (follow ? 0 : (O_NOFOLLOW as number)));
    } catch (e) {
      const code = (e as { code?: string }).code ?? String(e);
      if (!follow && (code === 'ELOOP' || code === 'EMLINK')) {
        info[at] = S_SYMLINK;
        return '';
      }
      info[at] = S_MISSING;
      return openFailure(code);
    }
    let readError: string;
    parser.resetState();
    try {
      const s = fsm.fstatSync(fd);
      if (!s.isFile())
        readError = s.isDirectory()
          ? 'expected a file, found a folder'
          : 'expected a regular file, found a special file';
      else readError = readAndParse(fd, s.size, out, base, maxRows);
    } catch (e) {
      readError = openFailure((e as { code?: string }).code ?? String(e));
    } finally {
      try {
        fsm.closeSync(fd);
      } catch {
        // nothing to do
      }
    }
    if (readError !== '') {
      info[at] = S_MISSING;
      return readError;
    }
    info[at + 1] = st.rows;
    info[at + 3] = st.lastRowLine;
    if (st.badLine !== 0) {
      info[at] = S_MALFORMED;
      info[at + 2] = st.badLine;
      return st.badMsg;
    }
    if (st.rows === 0) {
      info[at] = S_MALFORMED;
      return `expected rows of ${CH} numbers, found an empty file`;
    }
    if (st.infLine !== 0) {
      info[at] = S_NONFINITE;
      info[at + 2] = st.infLine;
      return st.infMsg;
    }
    info[at] = S_OK;
    return '';
  }

  return { processFile, openFailure, S_OK, S_MISSING, S_MALFORMED, S_NONFINITE, S_SYMLINK };
}

/** The main thread's processor. */
export const MAIN_PROCESSOR = createFileProcessor(fs, createFeatureParser(featureRowsModule()));
