/**
 * Test fixtures for the importers (not used by the app): a small course-layout dataset as
 * { relative path: text }, and builders of .zip and ustar .tar bytes from such a map.
 */
import { zipSync, type Zippable } from 'fflate';
import { crc32 } from './archive';

export function featText(seed: number, rows: number): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < 16; c++) cells.push((Math.sin(seed * 3.1 + r * 0.7 + c) * 3).toExponential(7));
    lines.push(cells.join(' '));
  }
  return lines.join('\n') + '\n';
}

/** train: 6 examples (one too short), dev: 3. */
export function courseFiles(prefix = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [split, n] of [
    ['train', 6],
    ['dev', 3],
  ] as const) {
    const labels: string[] = [];
    for (let i = 0; i < n; i++) {
      const rel = `${split}/fbc/ex${i}.txt`;
      files[prefix + rel] = featText(i + (split === 'dev' ? 100 : 0), split === 'train' && i === 5 ? 4 : 12);
      labels.push(`${i % 9} ${rel}`);
    }
    files[`${prefix}${split}/lab/${split}_labels.txt`] = labels.join('\n') + '\n';
  }
  return files;
}

export const enc = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? new TextEncoder().encode(s) : s);

export function zipBytes(files: Record<string, string | Uint8Array>, level: 0 | 6 | 9 = 6): Uint8Array {
  const z: Zippable = {};
  for (const [name, content] of Object.entries(files)) z[name] = [enc(content), { level }];
  return zipSync(z);
}

export interface TarItem {
  name: string;
  data?: string | Uint8Array;
  type?: string;
  link?: string;
  /** Declared size, when it should differ from the data's. */
  size?: number;
}

/** A ustar archive: 512-byte headers, data padded to 512, two zero blocks at the end. */
export function tarBytes(items: TarItem[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const it of items) {
    const data = enc(it.data ?? '');
    const h = new Uint8Array(512);
    const put = (s: string, at: number) => h.set(enc(s), at);
    const octal = (v: number, width: number) => v.toString(8).padStart(width - 1, '0') + '\0';
    put(it.name, 0);
    put(octal(0o644, 8), 100);
    put(octal(0, 8), 108);
    put(octal(0, 8), 116);
    put(octal(it.size ?? data.length, 12), 124);
    put(octal(0, 12), 136);
    put('        ', 148);
    put(it.type ?? '0', 156);
    put(it.link ?? '', 157);
    put('ustar\0', 257);
    put('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

export function tarItems(files: Record<string, string>, prefix = ''): TarItem[] {
  return Object.entries(files).map(([name, data]) => ({ name: prefix + name, data }));
}

/**
 * A zip written the zip64 way (STORE): every size and offset in the central directory is
 * 0xFFFFFFFF with the real value in a zip64 extra field, and a zip64 end record and locator
 * precede the classic end record. `overrides` replaces the 64-bit values of the first entry.
 */
export function zip64Bytes(
  files: Record<string, string | Uint8Array>,
  overrides: { offset?: bigint; size?: bigint; compressedSize?: bigint } = {},
): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  Object.entries(files).forEach(([entryName, content], k) => {
    const name = Buffer.from(entryName);
    const data = Buffer.from(enc(content));
    const crc = crc32(0, data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const extra = Buffer.alloc(28);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(24, 2);
    extra.writeBigUInt64LE((k === 0 ? overrides.size : undefined) ?? BigInt(data.length), 4);
    extra.writeBigUInt64LE((k === 0 ? overrides.compressedSize : undefined) ?? BigInt(data.length), 12);
    extra.writeBigUInt64LE((k === 0 ? overrides.offset : undefined) ?? BigInt(offset), 20);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(45, 4);
    central.writeUInt16LE(45, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(0xffffffff, 20);
    central.writeUInt32LE(0xffffffff, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(0xffffffff, 42);
    locals.push(local, name, data);
    centrals.push(central, name, extra);
    offset += local.length + name.length + data.length;
  });
  const cd = Buffer.concat(centrals);
  const count = BigInt(Object.keys(files).length);
  const end64 = Buffer.alloc(56);
  end64.writeUInt32LE(0x06064b50, 0);
  end64.writeBigUInt64LE(44n, 4);
  end64.writeUInt16LE(45, 12);
  end64.writeUInt16LE(45, 14);
  end64.writeBigUInt64LE(count, 24);
  end64.writeBigUInt64LE(count, 32);
  end64.writeBigUInt64LE(BigInt(cd.length), 40);
  end64.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, end64, locator, end]));
}
