import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetLibrary } from './dataset-library';
import { tempDirsRemovedAfterAll, writeCourseFixture } from './test-helpers';

const tmp = tempDirsRemovedAfterAll('lockstep-import-');

/** Blocks this thread (no event loop turns) until `done()` holds, or 30 s have passed; returns whether it held. */
function blockUntil(done: () => boolean): boolean {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (done()) return true;
    Atomics.wait(nap, 0, 0, 20);
  }
  return false;
}

describe('DatasetLibrary.importPath: the import runs off the main thread', () => {
  it('the dataset folder is written while the main thread is blocked, then put in place', async () => {
    const library = new DatasetLibrary(tmp());
    const data = tmp();
    writeCourseFixture(data);
    const importing = library.importPath(data, { name: 'course' });
    const finishedFolder = (n: string) => n.startsWith('.tmp-') && existsSync(join(library.root, n, 'dataset.json'));
    const written = blockUntil(() => readdirSync(library.root).some(finishedFolder));
    expect(written, 'the import progressed while this thread was blocked').toBe(true);
    const summary = await importing;
    expect(summary).toMatchObject({ name: 'course', source: data });
    expect(summary.splits).toMatchObject({ train: { listed: 13, kept: 12 }, dev: { kept: 6 } });
    expect(readdirSync(library.root)).toEqual([summary.id]);
    expect(library.example(summary.id, 'dev', 5).id).toBe('dev/feat/ex5.txt');
  });

  it("a user's problem comes back as the same one-line LockstepError, and leaves no folder behind", async () => {
    const library = new DatasetLibrary(tmp());
    const data = tmp();
    writeCourseFixture(data);
    writeFileSync(join(data, 'train/lab/train.txt'), '0 train/feat/ex0.txt\n12 train/feat/ex1.txt\n');
    const expected = "train/lab/train.txt, line 2, field label: expected an integer in 0–8, found '12'";
    await expect(library.importPath(data)).rejects.toThrow(expected);
    expect(readdirSync(library.root)).toEqual([]);
    expect(library.list().map((d) => d.id)).toEqual(['demo']);
  });
});
