import { describe, expect, it, vi } from 'vitest';
import type { LockstepApi } from '../../../shared/protocol';
import { CHUNK_BYTES, filesFromInput, planChunks, readDroppedItems, uploadFiles, uploadName } from './upload';

describe('planChunks', () => {
  const MiB = 1024 * 1024;
  const total = (chunk: Array<{ start: number; end: number }>) => chunk.reduce((s, p) => s + p.end - p.start, 0);

  it('packs whole files into chunks of at most 8 MiB', () => {
    const chunks = planChunks([3 * MiB, 3 * MiB, 3 * MiB, 1 * MiB]);
    expect(chunks.map((c) => c.map((p) => p.index))).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(chunks.flat().every((p) => p.start === 0)).toBe(true);
    expect(CHUNK_BYTES).toBe(8 * MiB);
  });
  it('slices a file larger than a chunk, in order, and never exceeds 8 MiB', () => {
    const sizes = [1, 20 * MiB, 1];
    const chunks = planChunks(sizes);
    for (const c of chunks) expect(total(c)).toBeLessThanOrEqual(8 * MiB);
    const big = chunks.flat().filter((p) => p.index === 1);
    expect(big.map((p) => [p.start, p.end])).toEqual([
      [0, 8 * MiB - 1],
      [8 * MiB - 1, 16 * MiB - 1],
      [16 * MiB - 1, 20 * MiB],
    ]);
    expect(chunks.flat().map((p) => p.index)).toEqual([0, 1, 1, 1, 2]);
  });
  it('caps the file count per chunk', () => {
    expect(planChunks(new Array(25).fill(1), 1000, 10).map((c) => c.length)).toEqual([10, 10, 5]);
  });
  it('handles no files and empty files', () => {
    expect(planChunks([])).toEqual([]);
    expect(planChunks([0, 0])).toEqual([
      [
        { index: 0, start: 0, end: 0 },
        { index: 1, start: 0, end: 0 },
      ],
    ]);
  });
});

describe('uploadName', () => {
  it('names the one folder or file dropped', () => {
    expect(uploadName([{ relativePath: 'ee-set/train/lab/a.txt' }, { relativePath: 'ee-set/dev/lab/b.txt' }])).toBe(
      'ee-set',
    );
    expect(uploadName([{ relativePath: 'data.tar.gz' }])).toBe('data');
    expect(uploadName([{ relativePath: 'a.csv' }, { relativePath: 'b.csv' }])).toBe('2 files');
  });
});

describe('filesFromInput', () => {
  it('keeps webkitRelativePath and drops OS junk', () => {
    const a = new File(['x'], 'a.txt');
    Object.defineProperty(a, 'webkitRelativePath', { value: 'set/train/a.txt' });
    const junk = new File([''], '.DS_Store');
    expect(filesFromInput([a, junk]).map((f) => f.relativePath)).toEqual(['set/train/a.txt']);
  });
});

describe('readDroppedItems', () => {
  function fileEntry(name: string, content: string, fullPath: string): FileSystemFileEntry {
    return {
      isFile: true,
      isDirectory: false,
      name,
      fullPath,
      file: (ok: (f: File) => void) => ok(new File([content], name)),
    } as unknown as FileSystemFileEntry;
  }
  function dirEntry(name: string, children: FileSystemEntry[]): FileSystemDirectoryEntry {
    return {
      isFile: false,
      isDirectory: true,
      name,
      createReader() {
        // Answers in batches of 2, then an empty batch, as Chromium does (in batches of 100).
        let i = 0;
        return {
          readEntries: (ok: (e: FileSystemEntry[]) => void) => {
            const b = children.slice(i, i + 2);
            i += 2;
            ok(b);
          },
        };
      },
    } as unknown as FileSystemDirectoryEntry;
  }

  it('walks folders recursively, keeping the folder names', async () => {
    const tree = dirEntry('ee', [
      dirEntry('train', [
        dirEntry('lab', [fileEntry('l.txt', '0 train/fbc/a.txt', '')]),
        dirEntry('fbc', [fileEntry('a.txt', '1 2', ''), fileEntry('b.txt', '3 4', ''), fileEntry('c.txt', '5 6', '')]),
      ]),
      fileEntry('.DS_Store', '', ''),
    ]);
    const files = await readDroppedItems([
      { entry: tree, file: null },
      { entry: null, file: new File(['z'], 'extra.csv') },
    ]);
    expect(files.map((f) => f.relativePath)).toEqual([
      'ee/train/fbc/a.txt',
      'ee/train/fbc/b.txt',
      'ee/train/fbc/c.txt',
      'ee/train/lab/l.txt',
      'extra.csv',
    ]);
    expect(await files[0].file.text()).toBe('1 2');
  });
});

describe('uploadFiles', () => {
  it('begins, sends every file in chunks, and finishes', async () => {
    const calls: Array<[string, unknown]> = [];
    const api: LockstepApi = {
      invoke: vi.fn(async (method: string, params: unknown) => {
        calls.push([method, params]);
        if (method === 'uploads.begin') return { uploadId: 'u1' };
        if (method === 'uploads.chunk') return { received: 1 };
        return { id: 'd1', name: 'x' };
      }) as unknown as LockstepApi['invoke'],
      on: () => () => {},
    };
    const files = [
      { relativePath: 'set/a.txt', file: new File(['hello'], 'a.txt') },
      { relativePath: 'set/b.txt', file: new File(['world!'], 'b.txt') },
    ];
    const progress: number[] = [];
    const d = await uploadFiles(api, 'set', files, (p) => progress.push(p.sentBytes));
    expect(d).toEqual({ id: 'd1', name: 'x' });
    expect(calls.map((c) => c[0])).toEqual(['uploads.begin', 'uploads.chunk', 'uploads.finish']);
    const chunk = calls[1][1] as { uploadId: string; files: Array<{ relativePath: string; data: Uint8Array }> };
    expect(chunk.uploadId).toBe('u1');
    expect(chunk.files.map((f) => f.relativePath)).toEqual(['set/a.txt', 'set/b.txt']);
    expect(new TextDecoder().decode(chunk.files[1].data)).toBe('world!');
    expect(progress.at(-1)).toBe(11);
  });

  it('refuses an empty drop with a message', async () => {
    const api = { invoke: vi.fn(), on: () => () => {} } as unknown as LockstepApi;
    await expect(uploadFiles(api, 'x', [])).rejects.toThrow(/nothing to import/);
  });
});
