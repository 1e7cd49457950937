import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync, zipSync } from 'fflate';
import { LockstepError } from '../../shared/errors';
import { openDataset } from '../services/datasets';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { crc32, extractArchive, safeEntryPath, ZipReader } from './archive';
import { courseFiles, enc, featText, tarBytes, tarItems, zip64Bytes, zipBytes, type TarItem } from './archive-fixtures';
import { loadEeSet } from './eeset';

// ----------------------------------------------------------------------------------------------
// Fixtures: a small course-layout dataset as { relative path: text }, written as a folder, a zip,
// a tar or a tar.gz by the helpers below.
// ----------------------------------------------------------------------------------------------

const tmp = tempDirsRemovedAfterAll('archive-test-');

function writeFolder(files: Record<string, string | Uint8Array>): string {
  const root = tmp();
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  return root;
}

function writeFile(name: string, bytes: Uint8Array): string {
  const p = path.join(tmp(), name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Rewrites fields of one entry of a zip in place (local header and central directory). */
function patchZip(
  bytes: Uint8Array,
  entry: string,
  patch: { name?: string; size?: number; external?: number },
): Uint8Array {
  const b = Buffer.from(bytes);
  for (let i = 0; i + 46 < b.length; i++) {
    const sig = b.readUInt32LE(i);
    if (sig === 0x04034b50) {
      const nameLen = b.readUInt16LE(i + 26);
      if (b.toString('latin1', i + 30, i + 30 + nameLen) !== entry) continue;
      if (patch.size !== undefined) b.writeUInt32LE(patch.size, i + 22);
      if (patch.name !== undefined) b.write(patch.name, i + 30, 'latin1');
    } else if (sig === 0x02014b50) {
      const nameLen = b.readUInt16LE(i + 28);
      if (b.toString('latin1', i + 46, i + 46 + nameLen) !== entry) continue;
      if (patch.size !== undefined) b.writeUInt32LE(patch.size, i + 24);
      if (patch.name !== undefined) b.write(patch.name, i + 46, 'latin1');
      if (patch.external !== undefined) {
        b.writeUInt16LE((3 << 8) | 20, i + 4);
        b.writeUInt32LE(patch.external >>> 0, i + 38);
      }
    }
  }
  return new Uint8Array(b);
}

async function expectRefused(p: Promise<unknown>, archive: string, ...fragments: string[]): Promise<LockstepError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LockstepError);
  const le = err as LockstepError;
  expect(le.file).toBe(archive);
  expect(le.message).toContain(archive);
  for (const f of fragments) expect(le.message).toContain(f);
  return le;
}

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

// ----------------------------------------------------------------------------------------------

describe('dataset archives: good ones read as the folder does', () => {
  const files = courseFiles();
  let reference: Awaited<ReturnType<typeof loadEeSet>>;
  beforeAll(async () => {
    reference = await loadEeSet(writeFolder(files), { frames: 10 });
  });

  const same = (ds: Awaited<ReturnType<typeof openDataset>>) => {
    expect(ds.classes).toEqual(reference.classes);
    for (const s of ['train', 'dev'] as const) {
      expect(ds.splits[s]!.x).toEqual(reference.splits[s]!.x);
      expect([...ds.splits[s]!.y]).toEqual([...reference.splits[s]!.y]);
      expect(ds.splits[s]!.ids).toEqual(reference.splits[s]!.ids);
      expect(ds.reports[s]).toEqual(reference.reports[s]);
    }
    expect(ds.reports.train!.dropped.short).toBe(1);
  };

  it('a .zip (deflated) of the layout', async () => {
    const zip = writeFile('ee.zip', zipBytes(files));
    const ds = await openDataset(zip, { frames: 10 });
    same(ds);
    expect(ds.name).toBe('ee');
  });

  it('a .zip (stored) with one wrapping folder', async () => {
    const z = zipBytes({ ...courseFiles('ee-set/') }, 0);
    const ds = await openDataset(writeFile('wrapped.zip', z), { frames: 10 });
    same(ds);
  });

  it('a .tar.gz / .tgz with ./ names and a wrapping folder, and a plain .tar', async () => {
    const items = [{ name: './', type: '5' }, { name: './ee-set/', type: '5' }, ...tarItems(files, './ee-set/')];
    same(await openDataset(writeFile('ee.tar.gz', gzipSync(tarBytes(items))), { frames: 10 }));
    same(await openDataset(writeFile('ee.tgz', gzipSync(tarBytes(tarItems(files)))), { frames: 10 }));
    same(await openDataset(writeFile('ee.tar', tarBytes(tarItems(files))), { frames: 10 }));
  });

  it('pax long names and GNU long names', async () => {
    const longDir = 'd'.repeat(120);
    const f2 = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v]));
    const labels = f2['train/lab/train_labels.txt'].replace('train/fbc/ex0.txt', `train/${longDir}/ex0.txt`);
    const items: TarItem[] = tarItems({ ...f2, 'train/lab/train_labels.txt': labels });
    const i0 = items.findIndex((i) => i.name === 'train/fbc/ex0.txt');
    const longName = `train/${longDir}/ex0.txt`;
    const record = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      for (let d = 1; ; d++) if (String(body.length + d).length === d) return `${body.length + d}${body}`;
    };
    items.splice(
      i0,
      1,
      { name: 'PaxHeader', type: 'x', data: record('path', longName) },
      { name: 'short-name', data: files['train/fbc/ex0.txt'] },
    );
    const ds = await openDataset(writeFile('pax.tar', tarBytes(items)), { frames: 10 });
    expect(ds.splits.train!.ids).toContain(longName);
    const gnu: TarItem[] = tarItems({ ...f2, 'train/lab/train_labels.txt': labels });
    gnu.splice(
      i0,
      1,
      { name: '././@LongLink', type: 'L', data: longName + '\0' },
      { name: 'truncated', data: files['train/fbc/ex0.txt'] },
    );
    const ds2 = await openDataset(writeFile('gnu.tar', tarBytes(gnu)), { frames: 10 });
    expect(ds2.splits.train!.x).toEqual(ds.splits.train!.x);
  });

  it('an archive holding a single .csv reads as that csv', async () => {
    const csv =
      'example,split,label,frame,a,b\n' +
      ['e1', 'e2'].flatMap((e, k) => [0, 1].map((f) => `${e},train,${k},${f},${k},${f}`)).join('\n');
    const ds = await openDataset(writeFile('one.zip', zipBytes({ 'data/table.csv': csv })), { frames: 2 });
    expect(ds.name).toBe('one');
    expect(ds.splits.train!.n).toBe(2);
    expect(ds.splits.train!.channels).toBe(2);
  });

  it('the temp folder is removed afterwards, and errors inside name the archive, not the temp folder', async () => {
    const zip = writeFile('nolabels.zip', zipBytes({ 'train/fbc/x.txt': featText(1, 3) }));
    const junk = writeFile('junk.zip', zipBytes({ 'readme.md': 'hello', 'other.md': 'x' }));
    const good = writeFile('good.zip', zipBytes(files));
    const saved = process.env.TMPDIR;
    const scratch = tmp();
    process.env.TMPDIR = scratch; // os.tmpdir() follows it: every temp folder lands here
    try {
      expect(os.tmpdir()).toBe(scratch);
      const le = await expectRefused(openDataset(zip), zip, 'inside the archive', 'train/lab/');
      expect(le.message).not.toContain('lockstep-archive-');
      await expectRefused(openDataset(junk), junk, 'course-layout dataset');
      await openDataset(good, { frames: 10 });
      expect(fs.readdirSync(scratch)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('dataset archives: hostile ones are refused', () => {
  it('zip-slip: .. and absolute entry names, before anything is written', async () => {
    const base = tmp();
    const dest = path.join(base, 'out');
    fs.mkdirSync(dest);
    const z1 = writeFile('slip.zip', zipBytes({ 'train/ok.txt': 'fine', '../evil.txt': 'pwned' }));
    await expectRefused(extractArchive(z1, dest), z1, 'entry "../evil.txt"', "climbs out with '..'");
    expect(fs.existsSync(path.join(base, 'evil.txt'))).toBe(false);
    expect(listFiles(dest)).toEqual([]); // the good entry was not written either

    const z2 = writeFile(
      'abs.zip',
      patchZip(zipBytes({ 'Xtmp/evil.txt': 'pwned' }), 'Xtmp/evil.txt', { name: '/tmp/evil.txt' }),
    );
    await expectRefused(openDataset(z2), z2, 'entry "/tmp/evil.txt"', 'absolute path');
    const z3 = writeFile('bs.zip', zipBytes({ 'a\\..\\..\\evil.txt': 'pwned' }));
    await expectRefused(openDataset(z3), z3, "'..'");
    const z4 = writeFile('drive.zip', zipBytes({ 'C:/evil.txt': 'pwned' }));
    await expectRefused(openDataset(z4), z4, 'absolute path');
  });

  it('zip-slip in a tar: .. names, absolute names, symlinks and hard links', async () => {
    for (const [item, fragment] of [
      [{ name: '../evil.txt', data: 'x' }, "'..'"],
      [{ name: '/etc/evil', data: 'x' }, 'absolute path'],
      [{ name: 'train/link', type: '2', link: '/etc/passwd' }, 'symlink'],
      [{ name: 'train/hard', type: '1', link: 'train/x' }, 'hard link'],
      [{ name: 'train/dev0', type: '3' }, 'device'],
    ] as const) {
      const dest = tmp();
      const t = writeFile('bad.tar.gz', gzipSync(tarBytes([{ name: 'train/', type: '5' }, item as TarItem])));
      await expectRefused(extractArchive(t, dest), t, `entry "${item.name}"`, fragment);
      expect(fs.existsSync(path.join(dest, '..', 'evil.txt'))).toBe(false);
    }
  });

  it('a symlink entry in a zip is refused', async () => {
    const z = writeFile(
      'link.zip',
      patchZip(zipBytes({ 'train/link': '/etc/passwd' }, 0), 'train/link', { external: (0o120777 << 16) >>> 0 }),
    );
    await expectRefused(openDataset(z), z, 'entry "train/link"', 'symlink');
    // fflate's own attribute setting gives the same
    const z2 = writeFile('link2.zip', zipSync({ 'x/l': [enc('/etc'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] }));
    await expectRefused(openDataset(z2), z2, 'symlink');
  });

  it('zip bomb, honest header: refused from its declared size before extraction', async () => {
    const zeros = new Uint8Array(24 * 1024 * 1024);
    const bomb = zipBytes({ 'train/small.txt': 'ok', 'train/big.txt': zeros }, 9);
    expect(bomb.length).toBeLessThan(200 * 1024);
    const z = writeFile('bomb.zip', bomb);
    const dest = tmp();
    await expectRefused(
      extractArchive(z, dest, { maxBytes: 8 * 1024 * 1024 }),
      z,
      'entry "train/big.txt"',
      'past the limit of 8 MiB',
    );
    expect(listFiles(dest)).toEqual([]);
  });

  it('zip bomb, lying header: stopped while inflating, as soon as it passes its declared size', async () => {
    const zeros = new Uint8Array(24 * 1024 * 1024);
    const z = writeFile('liar.zip', patchZip(zipBytes({ 'train/big.txt': zeros }, 9), 'train/big.txt', { size: 1000 }));
    const dest = tmp();
    await expectRefused(
      extractArchive(z, dest),
      z,
      'entry "train/big.txt"',
      'expands past its declared size of 1000 bytes',
    );
    expect(fs.statSync(path.join(dest, 'train/big.txt')).size).toBeLessThanOrEqual(1000);
    // through openDataset: the same refusal, and no temp folder is left
    await expectRefused(openDataset(z), z, 'expands past its declared size');
  });

  it('the default limit (1 GiB) refuses an entry declaring 3 GiB, without inflating it', async () => {
    const z = writeFile(
      'huge.zip',
      patchZip(zipBytes({ 'train/big.txt': 'tiny' }, 0), 'train/big.txt', { size: 3 * 1024 ** 3 }),
    );
    const dest = tmp();
    const t0 = Date.now();
    await expectRefused(extractArchive(z, dest), z, 'entry "train/big.txt"', 'declares 3 GiB', 'limit of 1 GiB');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(listFiles(dest)).toEqual([]);
  });

  it('zip64: a well-formed zip64 archive reads; 64-bit offsets and sizes past the file or past 2^53 are refused, never read', async () => {
    const files = courseFiles();
    const good = await openDataset(writeFile('z64.zip', zip64Bytes(files)), { frames: 10 });
    expect(good.reports.train!.listed).toBe(6);
    const cases: Array<[Parameters<typeof zip64Bytes>[1], string]> = [
      [{ offset: 2n ** 64n - 1n }, 'pointing past the end of the file'],
      [{ offset: 2n ** 40n }, 'pointing past the end of the file'],
      [{ size: 2n ** 64n - 1n }, 'beyond 2^53'],
      [{ compressedSize: 2n ** 53n + 1n }, 'beyond 2^53'],
    ];
    for (const [override, message] of cases) {
      const z = writeFile('bad64.zip', zip64Bytes(files, override));
      await expectRefused(extractArchive(z, tmp()), z, 'entry "train/fbc/ex0.txt"', message);
    }
  });

  it('too many entries', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 30; i++) many[`train/f${i}.txt`] = 'x';
    const z = writeFile('many.zip', zipBytes(many));
    await expectRefused(extractArchive(z, tmp(), { maxEntries: 20 }), z, '30 entries, more than the limit of 20');
    const t = writeFile('many.tar', tarBytes(tarItems(many)));
    await expectRefused(extractArchive(t, tmp(), { maxEntries: 20 }), t, 'more than 20 entries');
  });

  it('tar.gz past the byte limit: declared sizes are checked before each entry is written', async () => {
    const big = 'x'.repeat(400 * 1024);
    const t = writeFile(
      'big.tar.gz',
      gzipSync(
        tarBytes([
          { name: 'a', data: big },
          { name: 'b', data: big },
          { name: 'c', data: big },
        ]),
      ),
    );
    const dest = tmp();
    await expectRefused(extractArchive(t, dest, { maxBytes: 1024 * 1024 }), t, 'entry "c"', 'past the limit of 1 MiB');
    expect(fs.existsSync(path.join(dest, 'c'))).toBe(false);
    // a header declaring far more than the archive holds is refused before reading on
    const liar = writeFile('liar.tar', tarBytes([{ name: 'train/x', data: 'abc', size: 5 * 1024 ** 3 }]));
    await expectRefused(extractArchive(liar, tmp()), liar, 'declares 5 GiB');
  });

  it('corrupt, truncated and unknown archives', async () => {
    const junk = writeFile('junk.zip', enc('this is not a zip file at all, just some text'));
    await expectRefused(openDataset(junk), junk, 'expected a zip archive');
    const good = zipBytes(courseFiles());
    const cut = writeFile('cut.zip', good.subarray(0, good.length - 30));
    await expectRefused(openDataset(cut), cut, 'expected a zip archive');
    // flip a byte of stored data: the CRC catches it
    const stored = Buffer.from(zipBytes({ 'train/a.txt': 'hello world' }, 0));
    stored[stored.indexOf('hello')] = 0x48;
    const crc = writeFile('crc.zip', stored);
    await expectRefused(extractArchive(crc, tmp()), crc, 'CRC-32');
    const tgz = gzipSync(tarBytes(tarItems(courseFiles())));
    const cutTgz = writeFile('cut.tgz', tgz.subarray(0, tgz.length >> 1));
    await expectRefused(openDataset(cutTgz), cutTgz);
    const notTar = writeFile('text.tar', enc('x'.repeat(2048)));
    await expectRefused(openDataset(notTar), notTar, 'bad checksum');
    const dup = writeFile(
      'dup.tar',
      tarBytes([
        { name: 'a/x', data: '1' },
        { name: 'a/./x', data: '2' },
      ]),
    );
    await expectRefused(extractArchive(dup, tmp()), dup, 'appears twice');
    const missing = path.join(tmp(), 'nope.zip');
    await expectRefused(openDataset(missing), missing, 'found nothing there');
  });

  it('safeEntryPath keeps ./ and empty segments harmless and refuses NULs', () => {
    expect(safeEntryPath('./a//b/./c.txt', 'x.zip')).toEqual(['a', 'b', 'c.txt']);
    expect(safeEntryPath('./', 'x.zip')).toEqual([]);
    expect(() => safeEntryPath('a\0b', 'x.zip')).toThrow(/NUL/);
    expect(() => safeEntryPath('a/../../b', 'x.zip')).toThrow(/'\.\.'/);
  });

  it('crc32 matches the standard check value', () => {
    expect(crc32(0, enc('123456789'))).toBe(0xcbf43926);
  });
});

const python = '/usr/bin/python3';
const hasPython =
  fs.existsSync(python) && spawnSync(python, ['-c', 'import zipfile'], { encoding: 'utf8' }).status === 0;
if (!hasPython) console.log('skipped: no /usr/bin/python3 to write a zip64 archive');

describe.skipIf(!hasPython)('zip64 (written by Python zipfile)', () => {
  it('more than 65535 entries: the zip64 end record is read, and the entry limit applies', async () => {
    const p = path.join(tmp(), 'z64.zip');
    const script = `
import zipfile
with zipfile.ZipFile(${JSON.stringify(p)}, 'w', zipfile.ZIP_STORED) as z:
    for i in range(70000):
        z.writestr('f/%d.txt' % i, '')
    z.writestr('last.txt', 'hello zip64')
`;
    const r = spawnSync(python, ['-c', script], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const zip = ZipReader.open(p);
    try {
      expect(zip.entries).toHaveLength(70001);
      const last = zip.entries[70000];
      expect(last.name).toBe('last.txt');
      expect(Buffer.from(await zip.read(last, 100)).toString()).toBe('hello zip64');
    } finally {
      zip.close();
    }
    await expectRefused(
      extractArchive(p, tmp(), { maxEntries: 65536 }),
      p,
      '70001 entries, more than the limit of 65536',
    );
  });
});
