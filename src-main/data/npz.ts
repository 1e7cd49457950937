/**
 * NumPy `.npy` / `.npz`: reading a dataset from an `.npz` (what `np.savez` or
 * `np.savez_compressed` writes) and writing `.npy` / `.npz` bytes (the exports use them).
 *
 * A dataset `.npz` holds, per split:
 *   `X` / `X_train`, `X_dev`, `X_eval`   [N, T, C] float32 or float64 (little-endian, C order)
 *   `y` / `y_train`, `y_dev`, `y_eval`   [N] integers (int8…int64, uint8…uint64), in 0…classes−1
 *   `lengths` / `lengths_<split>`        optional [N] integers in 0…T: valid frames per example
 *                                        (frames past it are padding and are ignored)
 * and optionally `classes`, a 1-D unicode array (`np.array(['B', 'C', …])`, dtype `<U…`) of class
 * names. `X`/`y` are the train split (give either them or `X_train`/`y_train`). Without
 * `classes` the classes are the ee-set letters B C D E G P T V Z when every label is below 9,
 * else '0', '1', … up to the largest label. Other arrays are ignored, except `X_*`/`y_*` of an
 * unknown split, which are an error (a misspelt split would otherwise vanish).
 *
 * The frames protocol is the course layout's: each example keeps its first `frames` frames;
 * shorter ones are dropped (or zero-padded with `short: 'pad'`); examples holding NaN or ±Inf in
 * their valid frames (or float64 values beyond float32's range) are dropped. Every drop is in the
 * split's report, with the example's id `X_train[17]`. Problems with the arrays themselves (a
 * wrong dtype, rank or shape, Fortran order, a truncated payload, labels out of range) are
 * LockstepErrors naming the file, the array and what was expected.
 */
import * as nodePath from 'node:path';
import { zipSync } from 'fflate';
import { LockstepError } from '../../shared/errors';
import {
  SPLIT_NAMES,
  classCounts,
  emptyDropCounts,
  type Dataset,
  type DroppedExample,
  type Split,
  type SplitName,
  type SplitReport,
} from '../../shared/data/dataset';
import { ZipReader, bytesText, entryError, type ArchiveLimits } from './archive';
import {
  MAX_DROPS_LISTED,
  MAX_IMPORT_BYTES,
  MAX_SPLIT_EXAMPLES,
  MAX_SPLIT_VALUES,
  protocolOptions,
  shortExampleMessage,
  splitTooLarge,
  type LoadOptions,
} from './load-options';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('lockstep: .npy reading and writing assume a little-endian machine');
}

// ---------------------------------------------------------------------------------------------
// .npy
// ---------------------------------------------------------------------------------------------

export interface NpyArray {
  /** The dtype as numpy writes it: `<f4`, `|u1`, `<U12`, … */
  descr: string;
  shape: number[];
  fortranOrder: boolean;
  /** The raw payload after the header. */
  data: Uint8Array;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/**
 * The longest header read, numpy's own default (`max_header_size`, which np.load refuses past):
 * a real header is under 200 bytes, and the header's patterns take time quadratic in its length.
 */
const MAX_NPY_HEADER = 10_000;

const DTYPE_NAMES: Record<string, string> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  b1: 'bool',
  O: 'object (pickled Python objects)',
};

/** `'<i4' (int32)`: a dtype as found, for messages. */
export function describeDtype(descr: string): string {
  const m = /^[<>|=]?([a-zA-Z]\d*)$/.exec(descr);
  const name = m
    ? (DTYPE_NAMES[m[1]] ?? (/^U\d+$/.test(m[1]) ? 'unicode' : /^S\d+$/.test(m[1]) ? 'bytes' : undefined))
    : undefined;
  return name ? `'${descr}' (${descr.startsWith('>') ? 'big-endian ' : ''}${name})` : `'${descr}'`;
}

/** Parses one `.npy` file's bytes; `name` and `file` locate errors. */
export function parseNpy(bytes: Uint8Array, name: string, file: string): NpyArray {
  const fail = (why: string): never => {
    throw new LockstepError(why, { file, field: name });
  };
  if (bytes.length < 10 || !NPY_MAGIC.every((b, i) => bytes[i] === b))
    fail('expected a .npy array (starting with \\x93NUMPY), found other bytes');
  const major = bytes[6];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('expected a .npy header, found a truncated one');
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
    start = 12;
  } else {
    return fail(`expected .npy format version 1, 2 or 3, found ${major}`);
  }
  if (headerLen > MAX_NPY_HEADER)
    fail(`expected a .npy header of at most ${MAX_NPY_HEADER} bytes, found one of ${headerLen} bytes`);
  if (start + headerLen > bytes.length) fail(`expected a .npy header of ${headerLen} bytes, found a truncated one`);
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + start, headerLen).toString(
    major === 3 ? 'utf8' : 'latin1',
  );
  if (/['"]descr['"]\s*:\s*\[/.test(header)) fail('expected a plain dtype, found a structured (record) dtype');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(
      `expected a .npy header with descr, fortran_order and shape, found ${JSON.stringify(header.trim().slice(0, 120))}`,
    );
  }
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = /^\d+L?$/.test(s) ? parseInt(s, 10) : NaN;
      if (!Number.isSafeInteger(n)) fail(`expected a shape of whole numbers, found (${shapeText})`);
      return n;
    });
  return { descr: descr!, shape, fortranOrder: fortran === 'True', data: bytes.subarray(start + headerLen) };
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Checks that the payload holds exactly `shape`'s elements of `itemSize` bytes. */
function checkPayload(a: NpyArray, itemSize: number, name: string, file: string): number {
  const count = a.shape.reduce((p, d) => p * d, 1);
  const need = count * itemSize;
  if (a.data.length < need) {
    throw new LockstepError(
      `expected ${a.shape.join('×') || 1} = ${count} values of ${itemSize} bytes (${need} bytes) after the header for shape ${shapeText(a.shape)}, found ${a.data.length} bytes (truncated)`,
      { file, field: name },
    );
  }
  if (a.data.length > need) {
    throw new LockstepError(
      `expected ${need} bytes of data for shape ${shapeText(a.shape)}, found ${a.data.length} (${a.data.length - need} too many)`,
      { file, field: name },
    );
  }
  return count;
}

function checkCOrder(a: NpyArray, name: string, file: string): void {
  if (a.fortranOrder && a.shape.filter((d) => d > 1).length > 1) {
    throw new LockstepError(
      'expected C order (fortran_order False), found Fortran order: save np.ascontiguousarray(...) instead',
      { file, field: name },
    );
  }
}

/** A typed view (or aligned copy) of a payload. */
function view<T>(
  data: Uint8Array,
  ctor: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number },
  count: number,
): T {
  if (data.byteOffset % ctor.BYTES_PER_ELEMENT === 0)
    return new ctor(data.buffer as ArrayBuffer, data.byteOffset, count);
  const copy = data.slice(0, count * ctor.BYTES_PER_ELEMENT);
  return new ctor(copy.buffer, 0, count);
}

/** A float32 or float64 array's values (little-endian, C order). */
export function npyFloats(a: NpyArray, name: string, file: string): Float32Array | Float64Array {
  if (a.descr !== '<f4' && a.descr !== '<f8') {
    throw new LockstepError(
      `expected dtype float32 or float64 ('<f4' or '<f8', little-endian), found ${describeDtype(a.descr)}`,
      { file, field: name },
    );
  }
  checkCOrder(a, name, file);
  const isF4 = a.descr === '<f4';
  const count = checkPayload(a, isF4 ? 4 : 8, name, file);
  return isF4 ? view(a.data, Float32Array, count) : view(a.data, Float64Array, count);
}

const INT_DTYPES = ['|i1', '<i2', '<i4', '<i8', '|u1', '<u2', '<u4', '<u8'];

/** An integer array's values as numbers (int8…int64, uint8…uint64); refuses values beyond ±2^53. */
export function npyInts(a: NpyArray, name: string, file: string): Float64Array {
  const descr = a.descr.replace(/^[<=]([iu]1)$/, '|$1').replace(/^=/, '<');
  if (!INT_DTYPES.includes(descr)) {
    throw new LockstepError(
      `expected an integer dtype (int8…int64 or uint8…uint64, little-endian), found ${describeDtype(a.descr)}`,
      { file, field: name },
    );
  }
  checkCOrder(a, name, file);
  const size = Number(descr.slice(2));
  const count = checkPayload(a, size, name, file);
  const out = new Float64Array(count);
  const signed = descr[1] === 'i';
  if (size === 8) {
    const v = signed ? view(a.data, BigInt64Array, count) : view(a.data, BigUint64Array, count);
    for (let i = 0; i < count; i++) {
      const n = Number(v[i]);
      if (!Number.isSafeInteger(n))
        throw new LockstepError(`expected integers within ±2^53, found ${v[i]} at index ${i}`, { file, field: name });
      out[i] = n;
    }
    return out;
  }
  const ctor = {
    1: signed ? Int8Array : Uint8Array,
    2: signed ? Int16Array : Uint16Array,
    4: signed ? Int32Array : Uint32Array,
  }[size as 1 | 2 | 4];
  const v = view(a.data, ctor as Int32ArrayConstructor, count);
  for (let i = 0; i < count; i++) out[i] = v[i];
  return out;
}

/** A unicode (`<U…`) or bytes (`|S…`) array's strings, trailing NULs removed. */
export function npyStrings(a: NpyArray, name: string, file: string): string[] {
  const u = /^[<=|]U(\d+)$/.exec(a.descr);
  const s = /^\|S(\d+)$/.exec(a.descr);
  if (!u && !s) {
    const hint = a.descr === '|O' ? ' (save the names with dtype=str, not as Python objects)' : '';
    throw new LockstepError(`expected a unicode string array (dtype '<U…'), found ${describeDtype(a.descr)}${hint}`, {
      file,
      field: name,
    });
  }
  checkCOrder(a, name, file);
  const width = Number((u ?? s)![1]);
  // Elements of no bytes would let a shape alone, with no payload, ask for any number of strings.
  if (width === 0)
    throw new LockstepError(`expected strings of at least one character, found ${describeDtype(a.descr)}`, {
      file,
      field: name,
    });
  const itemSize = u ? width * 4 : width;
  const count = checkPayload(a, itemSize, name, file);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * itemSize;
    if (u) {
      out.push(utf32String(a.data, at, width, i, name, file));
    } else {
      let end = at + width;
      while (end > at && a.data[end - 1] === 0) end--;
      out.push(Buffer.from(a.data.buffer, a.data.byteOffset + at, end - at).toString('utf8'));
    }
  }
  return out;
}

/** Code points passed to String.fromCodePoint at once: spreading a whole long string overflows the stack. */
const CODE_POINTS_PER_CALL = 4096;

/** Element `element`: the string of `width` UTF-32LE code points at `data[at…]`, trailing NULs removed. */
function utf32String(data: Uint8Array, at: number, width: number, element: number, name: string, file: string): string {
  const cps = new Uint32Array(width);
  let end = 0;
  for (let k = 0; k < width; k++) {
    const o = at + k * 4;
    const cp = (data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24)) >>> 0;
    if (cp > 0x10ffff)
      throw new LockstepError(`expected unicode code points, found 0x${cp.toString(16)} in element ${element}`, {
        file,
        field: name,
      });
    cps[k] = cp;
    if (cp !== 0) end = k + 1;
  }
  let text = '';
  for (let k = 0; k < end; k += CODE_POINTS_PER_CALL)
    text += String.fromCodePoint(...cps.subarray(k, Math.min(end, k + CODE_POINTS_PER_CALL)));
  return text;
}

/** The bytes of a `.npy` v1.0 file (header padded so the data start at a multiple of 64). */
export function encodeNpy(descr: string, shape: readonly number[], data: Uint8Array): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('encodeNpy: header too long for format 1.0');
  const out = new Uint8Array(10 + header.length + data.length);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(data, 10 + header.length);
  return out;
}

function bytesOf(a: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** `.npy` of float32 values. */
export function npyFloat32(shape: readonly number[], values: ArrayLike<number>): Uint8Array {
  return encodeNpy('<f4', shape, bytesOf(Float32Array.from(values)));
}

/** `.npy` of int32 values. */
export function npyInt32(shape: readonly number[], values: ArrayLike<number>): Uint8Array {
  return encodeNpy('<i4', shape, bytesOf(Int32Array.from(values)));
}

/** `.npy` of unicode strings (`<U{longest}`): a 1-D array, or a 0-d one for a single string with `scalar`. */
export function npyUnicode(strings: readonly string[], scalar = false): Uint8Array {
  if (scalar && strings.length !== 1) throw new Error('npyUnicode: a 0-d array holds exactly one string');
  const cps = strings.map((s) => Array.from(s, (ch) => ch.codePointAt(0)!));
  const width = Math.max(1, ...cps.map((c) => c.length));
  const data = new Uint32Array(strings.length * width);
  cps.forEach((c, i) => data.set(c, i * width));
  return encodeNpy(`<U${width}`, scalar ? [] : [strings.length], new Uint8Array(data.buffer));
}

/** An `.npz` (a STORE zip of `<name>.npy` entries), as `np.savez` writes. */
export function encodeNpz(arrays: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [name, bytes] of arrays) {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`encodeNpz: array name '${name}' is not a plain file name`);
    if (Object.prototype.hasOwnProperty.call(files, `${name}.npy`))
      throw new Error(`encodeNpz: array '${name}' given twice`);
    files[`${name}.npy`] = [bytes, { level: 0 }];
  }
  return zipSync(files);
}

/** The `.npy` entries of an `.npz`, by array name, read lazily: `read(name)` parses one. */
export class NpzFile {
  readonly names: string[];
  private readonly byName = new Map<string, ZipReader['entries'][number]>();

  private constructor(
    readonly path: string,
    private readonly zip: ZipReader,
    private readonly maxBytes: number,
  ) {
    for (const e of zip.entries) {
      if (e.isDirectory || !e.name.endsWith('.npy')) continue;
      this.byName.set(e.name.slice(0, -4), e);
    }
    this.names = [...this.byName.keys()];
  }

  /** `limits.maxBytes` bounds the arrays read, inflated, together; at most MAX_IMPORT_BYTES (all are in memory). */
  static open(path: string, limits: Partial<ArchiveLimits> = {}): NpzFile {
    const zip = ZipReader.open(path, limits, 'a NumPy .npz file (a zip archive)');
    return new NpzFile(path, zip, Math.min(limits.maxBytes ?? MAX_IMPORT_BYTES, MAX_IMPORT_BYTES));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Reads and parses one array; all reads together may expand to at most the `maxBytes` limit. */
  async read(name: string): Promise<NpyArray> {
    const entry = this.byName.get(name);
    if (!entry)
      throw new LockstepError(
        `expected an array '${name}' in the .npz, found only ${this.names.join(', ') || 'none'}`,
        { file: this.path },
      );
    if (this.bytesRead + entry.size > this.maxBytes) {
      const past = this.bytesRead > 0 ? ', with the arrays read before it,' : '';
      throw entryError(
        this.path,
        entry.name,
        `declares ${bytesText(entry.size)}, which${past} is more than the limit of ${bytesText(this.maxBytes)}`,
      );
    }
    const bytes = await this.zip.read(entry, this.maxBytes);
    this.bytesRead += bytes.length;
    return parseNpy(bytes, name, this.path);
  }

  private bytesRead = 0;

  close(): void {
    this.zip.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The frames protocol for examples held in memory (npz, csv)
// ---------------------------------------------------------------------------------------------

/**
 * The most classes a dataset whose labels are bare indices may have. A label is a class index, so
 * one label of 2^31 in a few bytes of file would otherwise make two billion classes (and as many
 * outputs, and confusion-matrix rows and columns); importers refuse larger labels, naming them.
 */
export const MAX_CLASSES = 1000;

/**
 * The classes when none are named (`maxLabel` < MAX_CLASSES): '0', '1', … up to the largest label, so a
 * 0/1 dataset trains two outputs (not the ee-set's nine letters: a dataset that means them names them).
 */
export function defaultClasses(maxLabel: number): string[] {
  return Array.from({ length: maxLabel + 1 }, (_, k) => String(k));
}

const F32_MAX = 3.4028234663852886e38;
/** Examples a SplitBuilder makes room for at most before the first is kept. */
const INITIAL_CAPACITY = 4096;

/** Collects one split's examples through the frames protocol, with a report like the course layout's. */
export class SplitBuilder {
  private x: Float32Array;
  private readonly y: number[] = [];
  private readonly ids: string[] = [];
  private readonly dropped = emptyDropCounts();
  private readonly droppedExamples: DroppedExample[] = [];
  private listed = 0;
  private readonly rowLen: number;

  /** `capacity`: examples to make room for at first (the most expected); `file` names the source in a refusal. */
  constructor(
    readonly frames: number,
    readonly channels: number,
    readonly short: 'drop' | 'pad',
    capacity = 16,
    readonly file?: string,
  ) {
    this.rowLen = frames * channels;
    if (this.rowLen > MAX_SPLIT_VALUES) throw splitTooLarge(1, frames, channels, file);
    // Room grows (doubling) as examples are kept: a declared count, which may be huge and mostly dropped, only bounds the start.
    this.x = new Float32Array(
      Math.max(1, Math.min(capacity, INITIAL_CAPACITY, Math.floor(MAX_SPLIT_VALUES / this.rowLen))) * this.rowLen,
    );
  }

  /**
   * One listed example: `rows` frames of `channels` values at `src[offset…]`. Checks them for
   * non-finite values (and, from float64, values beyond float32's range), then applies the
   * frames protocol. `line` locates the example's first row in a text file, when there is one.
   */
  add(
    id: string,
    label: number,
    src: ArrayLike<number>,
    offset: number,
    rows: number,
    line?: number,
    lineOfRow?: (row: number) => number,
  ): boolean {
    this.listed++;
    const C = this.channels;
    for (let i = 0, n = rows * C; i < n; i++) {
      const v = src[offset + i];
      if (!(Math.abs(v) <= F32_MAX)) {
        const row = Math.floor(i / C);
        const found = Number.isNaN(v) || !Number.isFinite(v) ? String(v) : `${v}, beyond the float32 range`;
        this.drop(
          {
            file: id,
            ...(lineOfRow ? { line: lineOfRow(row) } : {}),
            reason: 'nonFinite',
            message: `expected finite numbers, found ${found} at frame ${row}, channel ${i % C}`,
          },
          false,
        );
        return false;
      }
    }
    if (rows < this.frames && this.short === 'drop') {
      const where = line !== undefined ? { line } : {};
      this.drop({ file: id, ...where, reason: 'short', message: shortExampleMessage(rows, this.frames) }, false);
      return false;
    }
    const k = this.y.length;
    if ((k + 1) * this.rowLen > this.x.length) {
      if ((k + 1) * this.rowLen > MAX_SPLIT_VALUES) throw splitTooLarge(k + 1, this.frames, this.channels, this.file);
      const bigger = new Float32Array(
        Math.min(
          Math.max(this.x.length * 2, (k + 1) * this.rowLen),
          MAX_SPLIT_VALUES - (MAX_SPLIT_VALUES % this.rowLen),
        ),
      );
      bigger.set(this.x);
      this.x = bigger;
    }
    const n = Math.min(rows, this.frames) * C;
    const base = k * this.rowLen;
    for (let i = 0; i < n; i++) this.x[base + i] = src[offset + i];
    this.x.fill(0, base + n, base + this.rowLen);
    this.y.push(label);
    this.ids.push(id);
    return true;
  }

  /** One listed example that is not kept (`listed` false: already counted by `add`). */
  drop(d: DroppedExample, listed = true): void {
    if (listed) this.listed++;
    this.dropped[d.reason]++;
    if (this.droppedExamples.length < MAX_DROPS_LISTED) this.droppedExamples.push(d);
  }

  /** The split and its report; `remap` turns the labels given to `add` into class indices. */
  finish(nClasses: number, remap?: (label: number) => number): { data: Split; report: SplitReport } {
    const n = this.y.length;
    const x = this.x.length === n * this.rowLen ? this.x : this.x.slice(0, n * this.rowLen);
    const y = Int32Array.from(this.y, remap ?? ((v) => v));
    return {
      data: { x, y, n, frames: this.frames, channels: this.channels, ids: this.ids },
      report: {
        listed: this.listed,
        kept: n,
        dropped: this.dropped,
        droppedExamples: this.droppedExamples,
        classCounts: classCounts(y, nClasses),
      },
    };
  }
}

/** The file's name without its extension: a dataset's default name. */
export function stemOf(path: string): string {
  return nodePath.basename(path).replace(/\.(npz|csv|zip|tgz|tar\.gz|tar)$/i, '') || path;
}

// ---------------------------------------------------------------------------------------------
// Loading a dataset .npz
// ---------------------------------------------------------------------------------------------

export interface NpzLoadOptions extends LoadOptions {
  /** Bounds on the archive (entries, expanded bytes). Default 128 MiB (MAX_IMPORT_BYTES, the most), 200 000 entries. */
  limits?: Partial<ArchiveLimits>;
}

interface SplitArrays {
  split: SplitName;
  x: string;
  y: string;
  lengths: string | null;
}

/** Which arrays hold which split; refuses ambiguous or half-given splits. */
function planSplits(npz: NpzFile, requested: SplitName[] | undefined): SplitArrays[] {
  const file = npz.path;
  for (const name of npz.names) {
    const m = /^(X|y|lengths)_(.*)$/.exec(name);
    if (m && !(SPLIT_NAMES as readonly string[]).includes(m[2])) {
      throw new LockstepError(
        `expected the arrays of a split to be named ${m[1]}_train, ${m[1]}_dev or ${m[1]}_eval, found ${name}`,
        { file, field: name },
      );
    }
  }
  if (npz.has('X') && npz.has('X_train'))
    throw new LockstepError('expected either X (the train split) or X_train, found both', { file, field: 'X' });
  const plan: SplitArrays[] = [];
  for (const split of SPLIT_NAMES) {
    const bare = split === 'train' && (npz.has('X') || npz.has('y'));
    const x = bare ? 'X' : `X_${split}`;
    const y = bare ? 'y' : `y_${split}`;
    const lengths = bare ? 'lengths' : `lengths_${split}`;
    if (!npz.has(x) && !npz.has(y)) continue;
    if (!npz.has(x)) throw new LockstepError(`expected an array ${x} beside ${y}, found none`, { file, field: x });
    if (!npz.has(y))
      throw new LockstepError(`expected an array ${y} (the labels) beside ${x}, found none`, { file, field: y });
    plan.push({ split, x, y, lengths: npz.has(lengths) ? lengths : null });
  }
  if (plan.length === 0) {
    throw new LockstepError(
      `expected arrays X and y (or X_train/y_train, X_dev/y_dev, X_eval/y_eval), found ${npz.names.join(', ') || 'no arrays'}`,
      { file },
    );
  }
  if (requested !== undefined) {
    for (const s of requested) {
      if (!plan.some((p) => p.split === s))
        throw new LockstepError(`expected the ${s} split's arrays, found only ${plan.map((p) => p.split).join(', ')}`, {
          file,
        });
    }
    return plan.filter((p) => requested.includes(p.split));
  }
  return plan;
}

/** Loads a dataset from a NumPy `.npz` (see the top of this file for its arrays). */
export async function loadNpzDataset(path: string, options: NpzLoadOptions = {}): Promise<Dataset> {
  const opts = protocolOptions(options);
  const npz = NpzFile.open(path, options.limits);
  try {
    const plan = planSplits(npz, opts.splits);
    let classes: string[] | null = null;
    if (npz.has('classes')) {
      const a = await npz.read('classes');
      if (a.shape.length !== 1)
        throw new LockstepError(`expected a 1-D array of class names, found shape ${shapeText(a.shape)}`, {
          file: path,
          field: 'classes',
        });
      if (a.shape[0] > MAX_CLASSES)
        throw new LockstepError(`expected at most ${MAX_CLASSES} class names, found shape ${shapeText(a.shape)}`, {
          file: path,
          field: 'classes',
        });
      classes = npyStrings(a, 'classes', path);
      const seen = new Set<string>();
      classes.forEach((c, k) => {
        if (c.trim() === '')
          throw new LockstepError(`expected non-empty class names, found an empty one at index ${k}`, {
            file: path,
            field: 'classes',
          });
        if (seen.has(c))
          throw new LockstepError(`expected distinct class names, found '${c}' twice`, {
            file: path,
            field: 'classes',
          });
        seen.add(c);
      });
      if (classes.length < 2)
        throw new LockstepError(`expected at least 2 class names, found ${classes.length}`, {
          file: path,
          field: 'classes',
        });
    }

    // Read and check every split's arrays first: the classes depend on the largest label of all.
    let channels = -1;
    let channelsFrom = '';
    const loaded: {
      p: SplitArrays;
      X: Float32Array | Float64Array;
      shape: number[];
      y: Float64Array;
      lengths: Float64Array | null;
    }[] = [];
    let maxLabel = -1;
    for (const p of plan) {
      const xa = await npz.read(p.x);
      if (xa.shape.length !== 3) {
        throw new LockstepError(
          `expected shape [N, T, C] (examples, frames, channels: 3 dimensions), found ${shapeText(xa.shape)}`,
          { file: path, field: p.x },
        );
      }
      const X = npyFloats(xa, p.x, path);
      const [N, T, C] = xa.shape;
      if (N > MAX_SPLIT_EXAMPLES)
        throw new LockstepError(
          `expected at most ${MAX_SPLIT_EXAMPLES} examples in a split, found shape ${shapeText(xa.shape)}`,
          { file: path, field: p.x },
        );
      // Dropping keeps at most what the payload holds; padding may make every example `frames` long.
      if (opts.short === 'pad' && N * opts.frames * C > MAX_SPLIT_VALUES) throw splitTooLarge(N, opts.frames, C, path);
      if (C < 1)
        throw new LockstepError(`expected at least one channel, found shape ${shapeText(xa.shape)}`, {
          file: path,
          field: p.x,
        });
      if (channels >= 0 && C !== channels) {
        throw new LockstepError(
          `expected ${channels} channels (as in ${channelsFrom}), found shape ${shapeText(xa.shape)}`,
          { file: path, field: p.x },
        );
      }
      channels = C;
      channelsFrom = p.x;
      const ya = await npz.read(p.y);
      if (ya.shape.length !== 1 || ya.shape[0] !== N) {
        throw new LockstepError(
          `expected shape [${N}] (one label per example of ${p.x}), found ${shapeText(ya.shape)}`,
          { file: path, field: p.y },
        );
      }
      const y = npyInts(ya, p.y, path);
      const limit = classes ? classes.length - 1 : MAX_CLASSES - 1;
      for (let i = 0; i < N; i++) {
        if (y[i] < 0 || y[i] > limit) {
          const why = classes
            ? `classes holds ${classes.length} names`
            : `without a classes array the labels are class indices, at most ${MAX_CLASSES} classes`;
          throw new LockstepError(`expected labels in 0–${limit} (${why}), found ${y[i]} at index ${i}`, {
            file: path,
            field: p.y,
          });
        }
        if (y[i] > maxLabel) maxLabel = y[i];
      }
      let lengths: Float64Array | null = null;
      if (p.lengths !== null) {
        const la = await npz.read(p.lengths);
        if (la.shape.length !== 1 || la.shape[0] !== N) {
          throw new LockstepError(
            `expected shape [${N}] (one length per example of ${p.x}), found ${shapeText(la.shape)}`,
            { file: path, field: p.lengths },
          );
        }
        lengths = npyInts(la, p.lengths, path);
        for (let i = 0; i < N; i++) {
          if (lengths[i] < 0 || lengths[i] > T) {
            throw new LockstepError(
              `expected lengths in 0–${T} (the frames of ${p.x}), found ${lengths[i]} at index ${i}`,
              { file: path, field: p.lengths },
            );
          }
        }
      }
      loaded.push({ p, X, shape: xa.shape, y, lengths });
    }
    const names = classes ?? defaultClasses(maxLabel);

    const dataset: Dataset = { name: stemOf(path), classes: names, splits: {}, reports: {} };
    for (const { p, X, shape, y, lengths } of loaded) {
      const [N, T, C] = shape;
      const builder = new SplitBuilder(opts.frames, C, opts.short, N, path);
      for (let i = 0; i < N; i++) {
        const rows = lengths ? lengths[i] : T;
        builder.add(`${p.x}[${i}]`, y[i], X, i * T * C, rows);
      }
      const { data, report } = builder.finish(names.length);
      dataset.splits[p.split] = data;
      dataset.reports[p.split] = report;
    }
    return dataset;
  } finally {
    npz.close();
  }
}
