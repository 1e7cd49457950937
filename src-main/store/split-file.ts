import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { LockstepError } from '../../shared/errors';
import type { Split } from '../../shared/data/dataset';

/**
 * A compact, self-describing binary file of named splits (`[n, frames, channels]` float32
 * examples, int32 labels, string ids). The dataset library stores imported datasets in it, and
 * the run store a run's per-example predictions (`frames` 1, `channels` = classes).
 *
 * Layout (every number little-endian):
 *
 *     "LSPL"  u32 version (1)  u32 headerBytes  header (UTF-8 JSON, space-padded to a multiple of 4)
 *     then, per split in header order: x (float32 × n·frames·channels), y (int32 × n),
 *     ids (UTF-8, joined with '\n', zero-padded to a multiple of 4)
 *
 * The header lists each split's name, shape and byte offsets (from the start of the file), so
 * one example can be read without loading the rest (`readSplitExample`).
 */
const MAGIC = 0x4c50534c; // "LSPL" read as a little-endian u32
const VERSION = 1;
const PREFIX = 12;

interface SplitEntry {
  name: string;
  n: number;
  frames: number;
  channels: number;
  xOffset: number;
  yOffset: number;
  idsOffset: number;
  idsBytes: number;
}

interface Header {
  splits: SplitEntry[];
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed-array views below assume a little-endian machine (every platform Node ships for).
  throw new Error('lockstep: split files need a little-endian machine');
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Encodes named splits into one buffer (see the layout above). */
export function encodeSplits(splits: ReadonlyMap<string, Split> | Record<string, Split | undefined>): Uint8Array {
  const entries: Array<[string, Split]> =
    splits instanceof Map
      ? [...splits.entries()]
      : Object.entries(splits).filter((e): e is [string, Split] => e[1] !== undefined);
  const idBlocks = entries.map(([, s]) => Buffer.from(s.ids.map((id) => id.replace(/\n/g, ' ')).join('\n'), 'utf8'));
  // Offsets depend on the header's size, which depends on the offsets' digits: iterate to a fixed point.
  let headerBytes = 0;
  let header: Header = { splits: [] };
  let json = '';
  for (let round = 0; round < 4; round++) {
    let offset = PREFIX + headerBytes;
    header = {
      splits: entries.map(([name, s], i) => {
        const xOffset = offset;
        const yOffset = xOffset + s.n * s.frames * s.channels * 4;
        const idsOffset = yOffset + s.n * 4;
        offset = idsOffset + pad4(idBlocks[i].byteLength);
        return {
          name,
          n: s.n,
          frames: s.frames,
          channels: s.channels,
          xOffset,
          yOffset,
          idsOffset,
          idsBytes: idBlocks[i].byteLength,
        };
      }),
    };
    json = JSON.stringify(header);
    const needed = pad4(Buffer.byteLength(json));
    if (needed <= headerBytes) break;
    headerBytes = needed + 16;
  }
  const last = header.splits[header.splits.length - 1];
  const total = last ? last.idsOffset + pad4(last.idsBytes) : PREFIX + headerBytes;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(headerBytes, 8);
  out.fill(0x20, PREFIX, PREFIX + headerBytes);
  out.write(json, PREFIX, 'utf8');
  header.splits.forEach((e, i) => {
    const s = entries[i][1];
    if (s.x.length !== s.n * s.frames * s.channels || s.y.length !== s.n || s.ids.length !== s.n) {
      throw new Error(`split ${e.name}: arrays do not match n=${s.n}, frames=${s.frames}, channels=${s.channels}`);
    }
    new Float32Array(out.buffer, out.byteOffset + e.xOffset, s.x.length).set(s.x);
    new Int32Array(out.buffer, out.byteOffset + e.yOffset, s.n).set(s.y);
    idBlocks[i].copy(out, e.idsOffset);
  });
  return out;
}

function parseHeader(bytes: Uint8Array, file: string, fileSize: number): Header {
  const bad = (why: string): never => {
    throw new LockstepError(`not a readable Lockstep split file (${why})`, { file });
  };
  if (bytes.byteLength < PREFIX) bad('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) bad('wrong magic');
  if (view.getUint32(4, true) !== VERSION) bad(`version ${view.getUint32(4, true)}`);
  const headerBytes = view.getUint32(8, true);
  if (PREFIX + headerBytes > bytes.byteLength) bad('truncated header');
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + PREFIX, headerBytes).toString('utf8')) as Header;
  } catch {
    return bad('header is not JSON');
  }
  if (!header || !Array.isArray(header.splits)) bad('header has no splits');
  for (const e of header.splits) {
    const ints = [e.n, e.frames, e.channels, e.xOffset, e.yOffset, e.idsOffset, e.idsBytes];
    if (typeof e.name !== 'string' || !ints.every((v) => Number.isSafeInteger(v) && v >= 0))
      bad('malformed split entry');
    if (
      e.xOffset % 4 ||
      e.yOffset % 4 ||
      e.yOffset !== e.xOffset + e.n * e.frames * e.channels * 4 ||
      e.idsOffset !== e.yOffset + e.n * 4
    )
      bad(`split ${e.name}: inconsistent offsets`);
    if (e.idsOffset + e.idsBytes > fileSize) bad(`split ${e.name}: truncated`);
  }
  return header;
}

/** Reads every split of a split file. */
export function readSplits(file: string): Map<string, Split> {
  let bytes: Buffer = readFileSync(file);
  if (bytes.byteOffset % 4) bytes = Buffer.from(bytes); // typed views need 4-byte alignment
  const header = parseHeader(bytes, file, bytes.byteLength);
  const splits = new Map<string, Split>();
  for (const e of header.splits) {
    const x = new Float32Array(e.n * e.frames * e.channels);
    x.set(new Float32Array(bytes.buffer, bytes.byteOffset + e.xOffset, x.length));
    const y = new Int32Array(e.n);
    y.set(new Int32Array(bytes.buffer, bytes.byteOffset + e.yOffset, e.n));
    const ids = e.n === 0 ? [] : bytes.toString('utf8', e.idsOffset, e.idsOffset + e.idsBytes).split('\n');
    if (ids.length !== e.n)
      throw new LockstepError(
        `not a readable Lockstep split file (split ${e.name}: ${ids.length} ids for ${e.n} examples)`,
        { file },
      );
    splits.set(e.name, { x, y, n: e.n, frames: e.frames, channels: e.channels, ids });
  }
  return splits;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/** One example of one split, read from the file without loading the rest. */
export function readSplitExample(
  file: string,
  split: string,
  index: number,
): { id: string; label: number; frames: number; channels: number; values: Float32Array } | null {
  const fd = openSync(file, 'r');
  try {
    const prefix = readAt(fd, 0, PREFIX);
    const headerBytes = prefix.byteLength === PREFIX ? prefix.readUInt32LE(8) : 0;
    const head = readAt(fd, 0, PREFIX + headerBytes);
    const size = Number.MAX_SAFE_INTEGER; // checked by the reads below
    const header = parseHeader(head, file, size);
    const e = header.splits.find((s) => s.name === split);
    if (!e || index >= e.n) return null;
    const size1 = e.frames * e.channels;
    const xb = readAt(fd, e.xOffset + index * size1 * 4, size1 * 4);
    const yb = readAt(fd, e.yOffset + index * 4, 4);
    if (xb.byteLength !== size1 * 4 || yb.byteLength !== 4)
      throw new LockstepError('not a readable Lockstep split file (truncated)', { file });
    const values = new Float32Array(size1);
    for (let i = 0; i < size1; i++) values[i] = xb.readFloatLE(i * 4);
    const ids = readAt(fd, e.idsOffset, e.idsBytes).toString('utf8').split('\n');
    return {
      id: ids[index] ?? String(index),
      label: yb.readInt32LE(0),
      frames: e.frames,
      channels: e.channels,
      values,
    };
  } finally {
    closeSync(fd);
  }
}
