/**
 * Archives of datasets: a `.zip`, `.tar.gz` / `.tgz` or `.tar` holding the course layout (or one
 * `.csv` / `.npz`), extracted with fflate into a fresh folder under the OS temp folder.
 *
 * An archive is untrusted input. Before a byte is written:
 * - every entry name must be a relative path that stays inside the archive: absolute paths
 *   (`/x`, `\x`, `C:\x`), `..` segments and NUL characters are refused (zip-slip); `.` and empty
 *   segments are dropped (`./train/x` is how `tar -C dir .` names files);
 * - symlinks, hard links and device files are refused (nothing is ever extracted but regular
 *   files and folders, and files are created with O_EXCL, so nothing is written through a link);
 * - the entry count and the declared sizes are checked against the limits (default 1 GiB
 *   expanded, 200 000 entries): a zip's central directory is checked whole before extraction
 *   starts, a tar's headers one by one as they stream past.
 * While inflating, the bytes actually produced are counted too: an entry that expands past its
 * declared size (a zip bomb that lies in its header), or an archive past the limit, stops the
 * extraction at once. Every refusal is a LockstepError naming the archive and the entry.
 *
 * The zip reader (central directory, zip64, STORE and DEFLATE, CRC-32 checked) is also what
 * reads `.npz` files (src-main/data/npz.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { Gunzip, Inflate } from 'fflate';
import { LockstepError } from '../../shared/errors';
import { archiveTempPrefix } from '../store/stale';

export interface ArchiveLimits {
  /** Bytes all entries may expand to, together. */
  maxBytes: number;
  /** Entries (files, folders, links, metadata records) an archive may hold. */
  maxEntries: number;
}

export const DEFAULT_ARCHIVE_LIMITS: Readonly<ArchiveLimits> = { maxBytes: 1024 ** 3, maxEntries: 200_000 };

export type ArchiveKind = 'zip' | 'tar' | 'tar.gz';

/** The archive kind a path's extension names, or null. */
export function archiveKind(path: string): ArchiveKind | null {
  const p = path.toLowerCase();
  if (p.endsWith('.zip')) return 'zip';
  if (p.endsWith('.tar.gz') || p.endsWith('.tgz')) return 'tar.gz';
  if (p.endsWith('.tar')) return 'tar';
  return null;
}

function resolveLimits(limits: Partial<ArchiveLimits> | undefined): ArchiveLimits {
  const l = {
    ...DEFAULT_ARCHIVE_LIMITS,
    ...Object.fromEntries(Object.entries(limits ?? {}).filter(([, v]) => v !== undefined)),
  };
  for (const k of ['maxBytes', 'maxEntries'] as const) {
    if (!Number.isSafeInteger(l[k]) || l[k] < 0)
      throw new LockstepError(`expected ${k} to be an integer ≥ 0, found ${String(l[k])}`, { field: k });
  }
  return l;
}

/** `1.5 MiB`: a size for messages. */
export function bytesText(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(2)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(2)} KiB`;
  return `${n} bytes`;
}

function shownName(name: string): string {
  const s = name.length > 120 ? name.slice(0, 120) + '…' : name;
  return JSON.stringify(s);
}

/** A LockstepError about one entry of an archive. */
export function entryError(archive: string, entry: string, message: string): LockstepError {
  return new LockstepError(`entry ${shownName(entry)}: ${message}`, { file: archive });
}

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? String(e);
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The safe relative segments of an archive entry's name (`[]` for the archive's root itself),
 * or a LockstepError naming the entry.
 */
export function safeEntryPath(name: string, archive: string): string[] {
  const fail = (why: string): never => {
    throw entryError(archive, name, why);
  };
  if (name.includes('\0')) fail('expected a file name, found one holding a NUL character');
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[A-Za-z]:/.test(n))
    fail('expected a path relative to the archive, found an absolute path (zip-slip)');
  const parts = n.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) fail("expected a path inside the archive, found one that climbs out with '..' (zip-slip)");
  for (const p of parts)
    if (Buffer.byteLength(p) > 255) fail('expected names of at most 255 bytes, found a longer one');
  return parts;
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (zip's checksum)
// ---------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Continues a CRC-32 (start with 0) over `bytes`. */
export function crc32(crc: number, bytes: Uint8Array): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Reading files in pieces
// ---------------------------------------------------------------------------------------------

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

function openForReading(path: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = errCode(e);
    throw new LockstepError(
      code === 'ENOENT' ? `expected ${what}, found nothing there` : `expected a readable ${what}, found ${code}`,
      { file: path },
    );
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new LockstepError(`expected ${what}, found ${st.isDirectory() ? 'a folder' : 'a special file'}`, {
      file: path,
    });
  }
  return { fd, size: st.size };
}

// ---------------------------------------------------------------------------------------------
// Zip
// ---------------------------------------------------------------------------------------------

export interface ZipEntry {
  name: string;
  /** 0 = STORE, 8 = DEFLATE (the only two read). */
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  /** Declared expanded size. */
  size: number;
  localOffset: number;
  isDirectory: boolean;
  isSymlink: boolean;
  /** A device, FIFO or socket (by its Unix mode). */
  isSpecial: boolean;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;
/** Compressed bytes handed to the inflater at a time: bounds one push's output to ~16 MiB. */
const ZIP_READ_CHUNK = 16 * 1024;

/** A zip archive opened for reading: its central directory, checked, and its entries on demand. */
export class ZipReader {
  readonly entries: ZipEntry[];
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly fileSize: number,
    entries: ZipEntry[],
  ) {
    this.entries = entries;
  }

  /** Opens `path` and reads its central directory; refuses more than `maxEntries` entries. */
  static open(path: string, limits: Partial<ArchiveLimits> = {}, what = 'a zip archive'): ZipReader {
    const { maxEntries } = resolveLimits(limits);
    const { fd, size } = openForReading(path, what);
    try {
      return new ZipReader(path, fd, size, ZipReader.readDirectory(path, fd, size, maxEntries, what));
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  private static readDirectory(
    path: string,
    fd: number,
    fileSize: number,
    maxEntries: number,
    what: string,
  ): ZipEntry[] {
    const bad = (why: string): never => {
      throw new LockstepError(`expected ${what}, found ${why}`, { file: path });
    };
    if (fileSize < 22) bad(`a file of ${fileSize} bytes, too short for one`);
    const tailLen = Math.min(fileSize, 22 + 65535);
    const tail = readAt(fd, fileSize - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === SIG_EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) bad('no end-of-central-directory record (not a zip, or truncated)');
    const eocdPos = fileSize - tailLen + eocd;
    let disk = tail.readUInt16LE(eocd + 4);
    let cdDisk = tail.readUInt16LE(eocd + 6);
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    const loc = eocdPos >= 20 ? readAt(fd, eocdPos - 20, 20) : null;
    const hasZip64 = loc !== null && loc.readUInt32LE(0) === SIG_EOCD64_LOCATOR;
    if (!hasZip64 && (cdSize === U32_MAX || cdOffset === U32_MAX)) bad('a zip64 archive without its zip64 locator');
    if (hasZip64 && loc !== null) {
      // zip64: the locator sits right before the classic record and points at the zip64 record.
      const recPos = Number(loc.readBigUInt64LE(8));
      if (!(recPos >= 0 && recPos + 56 <= fileSize)) bad('a zip64 locator pointing outside the file');
      const rec = readAt(fd, recPos, 56);
      if (rec.readUInt32LE(0) !== SIG_EOCD64) bad('a broken zip64 end-of-central-directory record');
      disk = rec.readUInt32LE(16);
      cdDisk = rec.readUInt32LE(20);
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (disk !== 0 || cdDisk !== 0) bad('a multi-part (spanned) archive, which is not read');
    if (count > maxEntries) {
      throw new LockstepError(`the archive holds ${count} entries, more than the limit of ${maxEntries}`, {
        file: path,
      });
    }
    if (!(cdOffset + cdSize <= fileSize)) bad('a central directory reaching past the end of the file (truncated?)');
    if (cdSize > 1024 ** 3) bad(`a central directory of ${bytesText(cdSize)}, more than is ever needed`);
    const cd = readAt(fd, cdOffset, cdSize);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL)
        bad(`a broken central directory (entry ${k + 1} of ${count})`);
      const madeBy = cd.readUInt16LE(p + 4);
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const external = cd.readUInt32LE(p + 38);
      let localOffset = cd.readUInt32LE(p + 42);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cd.length) bad(`a broken central directory (entry ${k + 1} of ${count})`);
      const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
      const name = nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1');
      // zip64 extra field: the 64-bit values of those fields that read 0xFFFFFFFF, in order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          const take = (): number => {
            if (q + 8 > e + 4 + len) bad(`a broken zip64 field in entry ${shownName(name)}`);
            const v = Number(cd.readBigUInt64LE(q));
            q += 8;
            return v;
          };
          if (size === U32_MAX) size = take();
          if (compressedSize === U32_MAX) compressedSize = take();
          if (localOffset === U32_MAX) localOffset = take();
        }
        e += 4 + len;
      }
      // zip64 fields reach 2^64: anything past the file (or past 2^53) is corruption, never a read.
      if (!(localOffset + 30 <= fileSize))
        bad(`entry ${shownName(name)} pointing past the end of the file (corrupt or truncated)`);
      if (!Number.isSafeInteger(compressedSize) || !Number.isSafeInteger(size))
        bad(`entry ${shownName(name)} declaring a size beyond 2^53 bytes (corrupt)`);
      const host = madeBy >> 8;
      const mode = host === 3 || host === 19 ? external >>> 16 : 0;
      const type = mode & 0o170000;
      const isDirectory =
        name.endsWith('/') || name.endsWith('\\') || type === 0o040000 || (type === 0 && (external & 0x10) !== 0);
      entries.push({
        name,
        method,
        flags,
        crc,
        compressedSize,
        size,
        localOffset,
        isDirectory,
        isSymlink: type === 0o120000,
        isSpecial: type !== 0 && type !== 0o100000 && type !== 0o040000 && type !== 0o120000,
      });
      p = end;
    }
    return entries;
  }

  /**
   * Streams one entry's expanded bytes to `sink`, refusing (before passing them on) any byte
   * past its declared size; checks the final size and the CRC-32.
   */
  async stream(entry: ZipEntry, sink: (chunk: Uint8Array) => void): Promise<void> {
    const fail = (why: string): never => {
      throw entryError(this.path, entry.name, why);
    };
    if (entry.flags & 0x1) fail('expected an unencrypted entry, found an encrypted one');
    if (entry.method !== 0 && entry.method !== 8)
      fail(`expected STORE or DEFLATE compression, found method ${entry.method}`);
    const head = readAt(this.fd, entry.localOffset, 30);
    if (head.length < 30 || head.readUInt32LE(0) !== SIG_LOCAL)
      fail('expected a local file header where the central directory points, found none (corrupt archive)');
    const dataStart = entry.localOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
    if (dataStart + entry.compressedSize > this.fileSize)
      fail('its data reaches past the end of the archive (truncated?)');
    let produced = 0;
    let crc = 0;
    const emit = (chunk: Uint8Array): void => {
      if (chunk.length === 0) return;
      produced += chunk.length;
      if (produced > entry.size)
        fail(`expands past its declared size of ${entry.size} bytes (a zip bomb, or a corrupt archive)`);
      crc = crc32(crc, chunk);
      sink(chunk);
    };
    const inflater = entry.method === 8 ? new Inflate((chunk) => emit(chunk)) : null;
    let pos = 0;
    let pushes = 0;
    if (entry.compressedSize === 0 && inflater !== null && entry.size !== 0)
      fail(`holds no data, its header declares ${entry.size} bytes`);
    while (pos < entry.compressedSize) {
      const n = Math.min(ZIP_READ_CHUNK, entry.compressedSize - pos);
      const chunk = readAt(this.fd, dataStart + pos, n);
      if (chunk.length !== n) fail('its data reaches past the end of the archive (truncated?)');
      pos += n;
      const last = pos === entry.compressedSize;
      if (inflater === null) {
        emit(chunk);
      } else {
        try {
          inflater.push(chunk, last);
        } catch (e) {
          if (e instanceof LockstepError) throw e;
          fail(`expected DEFLATE data, found corrupt data (${(e as Error).message})`);
        }
      }
      if (++pushes % 64 === 0) await yieldToEventLoop();
    }
    if (produced !== entry.size)
      fail(`expands to ${produced} bytes, its header declares ${entry.size} (corrupt or truncated)`);
    if (crc !== entry.crc) fail('its CRC-32 does not match its header (corrupt archive)');
  }

  /** One entry's bytes, in memory; refuses entries declaring more than `maxBytes`. */
  async read(entry: ZipEntry, maxBytes: number): Promise<Uint8Array> {
    if (entry.size > maxBytes)
      throw entryError(
        this.path,
        entry.name,
        `declares ${bytesText(entry.size)}, more than the limit of ${bytesText(maxBytes)}`,
      );
    const out = new Uint8Array(entry.size);
    let at = 0;
    await this.stream(entry, (chunk) => {
      out.set(chunk, at);
      at += chunk.length;
    });
    return out;
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      fs.closeSync(this.fd);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Writing extracted entries
// ---------------------------------------------------------------------------------------------

/** Creates folders and files under `dest`, counting entries and bytes against the limits. */
class Extractor {
  entries = 0;
  /** Bytes declared by the entries met so far. */
  declared = 0;
  /** Bytes actually written. */
  written = 0;
  private readonly dirs = new Set<string>();

  constructor(
    readonly archive: string,
    readonly dest: string,
    readonly limits: ArchiveLimits,
  ) {}

  countEntry(name: string): void {
    if (++this.entries > this.limits.maxEntries) {
      throw entryError(this.archive, name, `the archive holds more than ${this.limits.maxEntries} entries, the limit`);
    }
  }

  declare(name: string, size: number): void {
    this.declared += size;
    if (this.declared > this.limits.maxBytes) {
      throw entryError(
        this.archive,
        name,
        `declares ${bytesText(size)}, which takes the archive past the limit of ${bytesText(this.limits.maxBytes)} expanded (a zip bomb?)`,
      );
    }
  }

  /** The absolute path of safe segments, checked to be inside `dest`. */
  private target(name: string, parts: string[]): string {
    const abs = nodePath.join(this.dest, ...parts);
    const rel = nodePath.relative(this.dest, abs);
    if (rel === '' || rel.startsWith('..') || nodePath.isAbsolute(rel))
      throw entryError(this.archive, name, 'expected a path inside the archive (zip-slip)');
    return abs;
  }

  mkdir(name: string, parts: string[]): void {
    if (parts.length === 0) return;
    const abs = this.target(name, parts);
    if (this.dirs.has(abs)) return;
    try {
      fs.mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw entryError(
        this.archive,
        name,
        `cannot create its folder (${errCode(e)}): another entry holds a file there`,
      );
    }
    this.dirs.add(abs);
  }

  /** Opens a new file for an entry (never an existing one, never through a link). */
  open(name: string, parts: string[]): number {
    if (parts.length === 0) throw entryError(this.archive, name, 'expected a file name, found the archive root');
    const abs = this.target(name, parts);
    this.mkdir(name, parts.slice(0, -1));
    try {
      return fs.openSync(abs, 'wx', 0o644);
    } catch (e) {
      const code = errCode(e);
      throw entryError(
        this.archive,
        name,
        code === 'EEXIST' ? 'appears twice in the archive' : `cannot be written (${code})`,
      );
    }
  }

  write(name: string, fd: number, chunk: Uint8Array): void {
    this.written += chunk.length;
    if (this.written > this.limits.maxBytes) {
      throw entryError(
        this.archive,
        name,
        `the archive expands past the limit of ${bytesText(this.limits.maxBytes)} (a zip bomb?)`,
      );
    }
    let done = 0;
    while (done < chunk.length) done += fs.writeSync(fd, chunk, done, chunk.length - done);
  }
}

async function extractZip(path: string, ex: Extractor): Promise<void> {
  const zip = ZipReader.open(path, ex.limits);
  try {
    // Everything is checked before anything is written.
    const plan: { entry: (typeof zip.entries)[number]; parts: string[] }[] = [];
    const seen = new Set<string>();
    for (const entry of zip.entries) {
      ex.countEntry(entry.name);
      const parts = safeEntryPath(entry.name, path);
      if (entry.isSymlink)
        throw entryError(path, entry.name, 'expected a file or folder, found a symlink (links are not extracted)');
      if (entry.isSpecial)
        throw entryError(path, entry.name, 'expected a file or folder, found a device, FIFO or socket');
      if (entry.flags & 0x1)
        throw entryError(path, entry.name, 'expected an unencrypted entry, found an encrypted one');
      if (!entry.isDirectory) {
        if (entry.method !== 0 && entry.method !== 8)
          throw entryError(path, entry.name, `expected STORE or DEFLATE compression, found method ${entry.method}`);
        const key = parts.join('/');
        if (seen.has(key)) throw entryError(path, entry.name, 'appears twice in the archive');
        seen.add(key);
        ex.declare(entry.name, entry.size);
      }
      plan.push({ entry, parts });
    }
    for (const { entry, parts } of plan) {
      if (entry.isDirectory) {
        ex.mkdir(entry.name, parts);
        continue;
      }
      const fd = ex.open(entry.name, parts);
      try {
        await zip.stream(entry, (chunk) => ex.write(entry.name, fd, chunk));
      } finally {
        fs.closeSync(fd);
      }
    }
  } finally {
    zip.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Tar (ustar, pax and GNU long names), plain or gzipped
// ---------------------------------------------------------------------------------------------

/** Largest pax / GNU long-name record read into memory. */
const MAX_META_BYTES = 1024 * 1024;

class TarParser {
  private readonly hdr = new Uint8Array(512);
  private hdrFill = 0;
  private state: 'header' | 'data' | 'pad' | 'end' = 'header';
  private remaining = 0;
  private pad = 0;
  /** Where the current entry's data goes: a file, a metadata buffer, or nowhere. */
  private fd: number | null = null;
  private meta: Uint8Array | null = null;
  private metaFill = 0;
  private metaType = '';
  private current = '';
  /** Overrides for the next entry, from a pax header or GNU long name. */
  private nextPath: string | null = null;
  private nextSize: number | null = null;
  private headers = 0;
  streamBytes = 0;

  constructor(private readonly ex: Extractor) {}

  get done(): boolean {
    return this.state === 'end';
  }

  private fail(why: string): never {
    throw entryError(this.ex.archive, this.current || `#${this.headers}`, why);
  }

  push(chunk: Uint8Array): void {
    this.streamBytes += chunk.length;
    // Headers and padding take at most 1.5 KiB per entry besides the data the headers declare.
    if (this.streamBytes > this.ex.limits.maxBytes + (this.headers + 2) * 1536 + MAX_META_BYTES) {
      this.fail(`the archive expands past the limit of ${bytesText(this.ex.limits.maxBytes)} (a gzip bomb?)`);
    }
    let pos = 0;
    while (pos < chunk.length && this.state !== 'end') {
      const avail = chunk.length - pos;
      if (this.state === 'header') {
        const n = Math.min(512 - this.hdrFill, avail);
        this.hdr.set(chunk.subarray(pos, pos + n), this.hdrFill);
        this.hdrFill += n;
        pos += n;
        if (this.hdrFill === 512) {
          this.hdrFill = 0;
          this.onHeader();
        }
      } else if (this.state === 'data') {
        const n = Math.min(this.remaining, avail);
        const part = chunk.subarray(pos, pos + n);
        if (this.fd !== null) this.ex.write(this.current, this.fd, part);
        else if (this.meta !== null) {
          this.meta.set(part, this.metaFill);
          this.metaFill += n;
        }
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) this.endData();
      } else {
        const n = Math.min(this.pad, avail);
        this.pad -= n;
        pos += n;
        if (this.pad === 0) this.state = 'header';
      }
    }
  }

  /** At the end of the stream: the archive must not stop inside an entry. */
  finish(): void {
    if (this.state === 'end') return;
    if (this.state === 'header' && this.hdrFill === 0 && this.headers > 0) return; // no end-of-archive blocks: tolerated
    if (this.headers === 0)
      throw new LockstepError('expected a tar archive, found no entries (an empty or truncated file)', {
        file: this.ex.archive,
      });
    this.fail('the archive ends inside this entry (truncated)');
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  private onHeader(): void {
    const h = this.hdr;
    if (h.every((b) => b === 0)) {
      this.state = 'end';
      return;
    }
    this.headers++;
    this.current = '';
    // The checksum sums the header's bytes with its own field read as spaces (some old tars sum them signed).
    let sum = 0;
    let signed = 0;
    for (let i = 0; i < 512; i++) {
      const b = i >= 148 && i < 156 ? 32 : h[i];
      sum += b;
      signed += b > 127 ? b - 256 : b;
    }
    const stored = this.octal(148, 8);
    if (stored !== sum && stored !== signed) {
      throw new LockstepError(
        `expected a tar archive, found a header with a bad checksum (entry #${this.headers}: not a tar, or corrupt)`,
        { file: this.ex.archive },
      );
    }
    const str = (from: number, len: number): string => {
      let end = from;
      while (end < from + len && h[end] !== 0) end++;
      return Buffer.from(h.buffer, h.byteOffset + from, end - from).toString('utf8');
    };
    let name = str(0, 100);
    if (str(257, 5) === 'ustar') {
      const prefix = str(345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const type = String.fromCharCode(h[156] || 48);
    let size = this.size();
    if (type !== 'x' && type !== 'g' && type !== 'L' && type !== 'K') {
      if (this.nextPath !== null) name = this.nextPath;
      if (this.nextSize !== null) size = this.nextSize;
      this.nextPath = null;
      this.nextSize = null;
    }
    this.current = name;
    this.ex.countEntry(name);
    this.fd = null;
    this.meta = null;
    this.remaining = size;
    this.pad = (512 - (size % 512)) % 512;
    switch (type) {
      case '0':
      case '7': {
        const parts = safeEntryPath(name, this.ex.archive);
        if (name.endsWith('/')) {
          this.ex.mkdir(name, parts);
        } else {
          this.ex.declare(name, size);
          this.fd = this.ex.open(name, parts);
        }
        break;
      }
      case '5':
        this.ex.mkdir(name, safeEntryPath(name, this.ex.archive));
        break;
      case 'x':
      case 'g':
      case 'L':
      case 'K':
        if (size > MAX_META_BYTES)
          this.fail(`expected a metadata record of at most ${bytesText(MAX_META_BYTES)}, found ${bytesText(size)}`);
        this.meta = new Uint8Array(size);
        this.metaFill = 0;
        this.metaType = type;
        break;
      case '1':
      case '2':
        safeEntryPath(name, this.ex.archive);
        this.fail(
          `expected a file or folder, found a ${type === '2' ? 'symlink' : 'hard link'} (links are not extracted)`,
        );
        break;
      case '3':
      case '4':
      case '6':
        this.fail('expected a file or folder, found a device or FIFO');
        break;
      default:
        this.fail(`expected a file or folder, found a tar entry of type '${type}', which is not extracted`);
    }
    if (this.remaining > 0) this.state = 'data';
    else this.endData();
  }

  private endData(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    if (this.meta !== null) {
      const meta = this.meta;
      this.meta = null;
      if (this.metaType === 'x') this.applyPax(meta);
      else if (this.metaType === 'L') {
        const end = meta.indexOf(0);
        this.nextPath = Buffer.from(meta.subarray(0, end < 0 ? meta.length : end)).toString('utf8');
      }
    }
    this.state = this.pad > 0 ? 'pad' : 'header';
  }

  /** pax records `"<len> <key>=<value>\n"`: `path` and `size` apply to the next entry. */
  private applyPax(bytes: Uint8Array): void {
    let p = 0;
    while (p < bytes.length) {
      let sp = p;
      while (sp < bytes.length && bytes[sp] !== 32) sp++;
      const len = Number(Buffer.from(bytes.subarray(p, sp)).toString('latin1'));
      if (!Number.isSafeInteger(len) || len <= sp - p || p + len > bytes.length)
        this.fail('expected pax records "<length> <key>=<value>", found a malformed one');
      const rec = Buffer.from(bytes.subarray(sp + 1, p + len - 1)).toString('utf8');
      const eq = rec.indexOf('=');
      const key = rec.slice(0, eq);
      const value = rec.slice(eq + 1);
      if (key === 'path') this.nextPath = value;
      else if (key === 'size') {
        if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
          this.fail(`expected a pax size, found ${shownName(value)}`);
        this.nextSize = Number(value);
      }
      p += len;
    }
  }

  private octal(from: number, len: number): number {
    const s = Buffer.from(this.hdr.buffer, this.hdr.byteOffset + from, len)
      .toString('latin1')
      .replace(/[\0 ]+$/, '')
      .replace(/^ +/, '');
    if (!/^[0-7]*$/.test(s)) return NaN;
    return s === '' ? 0 : parseInt(s, 8);
  }

  private size(): number {
    const h = this.hdr;
    let v: number;
    if (h[124] & 0x80) {
      // GNU base-256: big-endian binary in the rest of the field.
      v = h[124] & 0x7f;
      for (let i = 125; i < 136; i++) v = v * 256 + h[i];
    } else {
      v = this.octal(124, 12);
    }
    if (!Number.isSafeInteger(v) || v < 0) this.fail('expected a size in the tar header, found a malformed one');
    return v;
  }
}

async function extractTar(path: string, gzipped: boolean, ex: Extractor): Promise<void> {
  const { fd, size } = openForReading(path, gzipped ? 'a .tar.gz archive' : 'a .tar archive');
  const tar = new TarParser(ex);
  try {
    const gunzip = gzipped ? new Gunzip((chunk) => tar.push(chunk)) : null;
    let pos = 0;
    let pushes = 0;
    if (size === 0) throw new LockstepError('expected an archive, found an empty file', { file: path });
    while (pos < size && !tar.done) {
      const n = Math.min(ZIP_READ_CHUNK, size - pos);
      const chunk = readAt(fd, pos, n);
      if (chunk.length === 0) break;
      pos += chunk.length;
      if (gunzip === null) {
        tar.push(chunk);
      } else {
        try {
          gunzip.push(chunk, pos >= size);
        } catch (e) {
          if (e instanceof LockstepError) throw e;
          throw new LockstepError(`expected gzip data, found corrupt data (${(e as Error).message})`, { file: path });
        }
      }
      if (++pushes % 64 === 0) await yieldToEventLoop();
    }
    tar.finish();
  } finally {
    tar.close();
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export interface ExtractResult {
  entries: number;
  bytes: number;
}

/** Extracts an archive into `dest` (an existing, empty folder), refusing what is unsafe. */
export async function extractArchive(
  path: string,
  dest: string,
  limits?: Partial<ArchiveLimits>,
): Promise<ExtractResult> {
  const kind = archiveKind(path);
  if (kind === null)
    throw new LockstepError('expected an archive ending in .zip, .tar.gz, .tgz or .tar', { file: path });
  const ex = new Extractor(path, nodePath.resolve(dest), resolveLimits(limits));
  if (kind === 'zip') await extractZip(path, ex);
  else await extractTar(path, kind === 'tar.gz', ex);
  return { entries: ex.entries, bytes: ex.written };
}

/**
 * Extracts an archive into a fresh temp folder, runs `use` on it and removes the folder, whatever
 * happens. A LockstepError from `use` is reworded to name the archive (and never the temp folder).
 */
export async function withExtractedArchive<T>(
  path: string,
  limits: Partial<ArchiveLimits> | undefined,
  use: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), archiveTempPrefix()));
  try {
    await extractArchive(path, dir, limits);
    try {
      return await use(dir);
    } catch (e) {
      if (e instanceof LockstepError && e.file !== path) {
        const message = e.message
          .split(dir + nodePath.sep)
          .join('')
          .split(dir)
          .join('.');
        throw new LockstepError(`inside the archive: ${message}`, { file: path });
      }
      throw e;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const IGNORED = (name: string): boolean => name.startsWith('.') || name === '__MACOSX' || name === 'Thumbs.db';

/**
 * Where the dataset is in an extracted archive: descends through single wrapping folders
 * (`ee-set/train/…`) until a folder holds `train/`, `dev/` or `eval/`, or something else.
 */
export function findDatasetRoot(dir: string, isDatasetRoot: (d: string) => boolean): string {
  let d = dir;
  for (let depth = 0; depth < 16 && !isDatasetRoot(d); depth++) {
    const items = fs.readdirSync(d, { withFileTypes: true }).filter((e) => !IGNORED(e.name));
    if (items.length !== 1 || !items[0].isDirectory()) break;
    d = nodePath.join(d, items[0].name);
  }
  return d;
}

/** The entries directly inside `dir` that are not hidden or OS litter. */
export function visibleEntries(dir: string): fs.Dirent[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !IGNORED(e.name));
}
