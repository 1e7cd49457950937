import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EE_SET_CLASSES } from '../../shared/data/dataset';
import { LockstepError } from '../../shared/errors';
import { openDataset } from '../services/datasets';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { loadCsvDataset, splitCsvLine } from './csv';

const tmp = tempDirsRemovedAfterAll('csv-test-');

const val = (e: number, t: number, c: number) => Math.round(Math.sin(e * 2.3 + t * 0.4 + c) * 1000) / 100;

/** Rows for examples `[id, split, label, frames]`, 3 channels. */
function rows(examples: Array<[string, string, string, number]>, eol = '\n'): string {
  const lines = ['example,split,label,frame,c0,c1,c2'];
  examples.forEach(([id, split, label, frames], e) => {
    for (let t = 0; t < frames; t++)
      lines.push([id, split, label, t, val(e, t, 0), val(e, t, 1), val(e, t, 2)].join(','));
  });
  return lines.join(eol) + eol;
}

function csvFile(text: string, name = 'data.csv'): string {
  const p = path.join(tmp(), name);
  fs.writeFileSync(p, text);
  return p;
}

async function refused(
  p: Promise<unknown>,
  where: { file: string; line?: number; field?: string },
  ...fragments: string[]
): Promise<LockstepError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LockstepError);
  const le = err as LockstepError;
  expect(le.file).toBe(where.file);
  if (where.line !== undefined) {
    expect(le.line).toBe(where.line);
    expect(le.message).toContain(`line ${where.line}`);
  }
  if (where.field !== undefined) expect(le.field).toBe(where.field);
  for (const f of fragments) expect(le.message).toContain(f);
  return le;
}

describe('csv datasets: good files', () => {
  it('examples by id, splits, ee-set class names, frames protocol', async () => {
    const p = csvFile(
      rows([
        ['a1', 'train', 'B', 5],
        ['a2', 'train', 'Z', 6],
        ['a3', 'dev', 'E', 5],
        ['a4', 'train', 'B', 3],
        ['a5', 'eval', 'C', 4],
      ]),
    );
    const ds = await openDataset(p, { frames: 4 });
    expect(ds.name).toBe('data');
    expect(ds.classes).toEqual([...EE_SET_CLASSES]);
    const tr = ds.splits.train!;
    expect([tr.n, tr.frames, tr.channels]).toEqual([2, 4, 3]);
    expect(tr.ids).toEqual(['a1', 'a2']);
    expect([...tr.y]).toEqual([0, 8]);
    expect(tr.x[(1 * 4 + 3) * 3 + 2]).toBe(Math.fround(val(1, 3, 2)));
    expect(ds.reports.train!.dropped.short).toBe(1);
    expect(ds.reports.train!.droppedExamples).toEqual([
      { file: 'a4', line: 18, reason: 'short', message: '3 frames, at least 4 needed' },
    ]);
    expect(ds.splits.dev!.n).toBe(1);
    expect([...ds.splits.eval!.y]).toEqual([1]);

    const padded = await loadCsvDataset(p, { frames: 4, short: 'pad' });
    const x = padded.splits.train!.x;
    expect(padded.splits.train!.ids).toEqual(['a1', 'a2', 'a4']);
    expect([...x.subarray(2 * 12 + 9, 3 * 12)]).toEqual([0, 0, 0]);
    const only = await loadCsvDataset(p, { frames: 4, splits: ['dev'] });
    expect(Object.keys(only.splits)).toEqual(['dev']);
  });

  it('integer labels are class indices; other names are sorted; CRLF, BOM and quoted fields are fine', async () => {
    const ints = await loadCsvDataset(
      csvFile(
        rows([
          ['x', 'train', '0', 2],
          ['y', 'train', '3', 2],
        ]),
      ),
      { frames: 2 },
    );
    expect(ints.classes).toEqual(['0', '1', '2', '3']); // indices up to the largest, never the ee-set's nine
    expect([...ints.splits.train!.y]).toEqual([0, 3]);
    const wide = await loadCsvDataset(
      csvFile(
        rows([
          ['x', 'train', '12', 2],
          ['y', 'train', '3', 2],
        ]),
      ),
      { frames: 2 },
    );
    expect(wide.classes).toHaveLength(13);
    const widest = await loadCsvDataset(csvFile(rows([['x', 'train', '999', 2]])), { frames: 2 });
    expect(widest.classes).toHaveLength(1000);
    const names = await loadCsvDataset(
      csvFile(
        '\ufeff' +
          rows(
            [
              ['x', 'train', 'yes', 2],
              ['"q,1"', 'train', 'no', 2],
              ['z', 'dev', 'maybe', 2],
            ],
            '\r\n',
          ),
      ),
      { frames: 2 },
    );
    expect(names.classes).toEqual(['maybe', 'no', 'yes']);
    expect([...names.splits.train!.y]).toEqual([2, 1]);
    expect(names.splits.train!.ids).toEqual(['x', 'q,1']);
    expect(splitCsvLine('a,"b ""c"", d",,e', 'f', 1)).toEqual(['a', 'b "c", d', '', 'e']);
  });

  it('a value that is not a number drops its example as malformed; NaN / inf as non-finite, with the line', async () => {
    const text = rows([
      ['a', 'train', 'B', 3],
      ['b', 'train', 'C', 3],
      ['c', 'train', 'D', 3],
    ]).split('\n');
    text[5] = text[5].replace(/,[^,]*$/, ',oops'); // b, frame 1
    text[9] = text[9].replace(/,[^,]*$/, ',-inf'); // c, frame 2
    const p = csvFile(text.join('\n'));
    const ds = await loadCsvDataset(p, { frames: 3 });
    const r = ds.reports.train!;
    expect([r.listed, r.kept]).toEqual([3, 1]);
    expect(r.droppedExamples).toEqual([
      { file: 'b', line: 6, reason: 'malformed', message: 'expected a number in column 7 (c2), found "oops"' },
      {
        file: 'c',
        line: 10,
        reason: 'nonFinite',
        message: 'expected finite numbers, found -Infinity at frame 2, channel 2',
      },
    ]);
  });
});

describe('csv datasets: structural problems are LockstepErrors with the line', () => {
  const base = rows([
    ['a', 'train', 'B', 3],
    ['b', 'dev', 'C', 3],
  ]).split('\n');
  const edit = (line: number, text: string) => base.map((l, i) => (i === line - 1 ? text : l)).join('\n');
  const cases: Array<[string, string, number | undefined, string | undefined, string[]]> = [
    [
      'ragged row (too few)',
      edit(3, 'a,train,B,1,0.5,0.25'),
      3,
      undefined,
      ['expected 7 fields (example, split, label, frame and 3 channels, as in the header), found 6'],
    ],
    ['ragged row (too many)', edit(6, 'b,dev,C,1,1,2,3,4'), 6, undefined, ['expected 7 fields', 'found 8']],
    ['no header', base.slice(1).join('\n'), 1, undefined, ['expected the header example,split,label,frame,c0,c1,…']],
    ['header without channels', 'example,split,label,frame\n', 1, undefined, ['one per channel']],
    [
      'unknown split',
      edit(2, 'a,test,B,0,1,2,3'),
      2,
      'split',
      ['expected a split among train, dev, eval, found "test"'],
    ],
    ['frames out of order', edit(3, 'a,train,B,2,1,2,3'), 3, 'frame', ['expected frame 1', 'found 2']],
    ['first frame not 0', edit(5, 'b,dev,C,1,1,2,3'), 5, 'frame', ['expected frame 0 on the first row of example "b"']],
    [
      'label changes',
      edit(4, 'a,train,C,2,1,2,3'),
      4,
      'label',
      ['expected label "B" as on the example\'s first row (line 2)'],
    ],
    ['split changes', edit(4, 'a,dev,B,2,1,2,3'), 4, 'split', ['expected split "train"']],
    [
      'rows apart',
      base.join('\n') + 'a,train,B,3,1,2,3\n',
      8,
      'example',
      ['expected the rows of example "a" on consecutive lines', 'its first row is line 2'],
    ],
    ['empty id', edit(2, ',train,B,0,1,2,3'), 2, 'example', ['expected an example id']],
    ['unterminated quote', edit(2, '"a,train,B,0,1,2,3'), 2, undefined, ['closing quote']],
    [
      'class index past the limit',
      rows([
        ['a', 'train', '0', 3],
        ['b', 'dev', '2147483647', 3],
      ]),
      5,
      'label',
      ['expected class indices in 0–999', 'found "2147483647"'],
    ],
    ['only a header', base[0] + '\n', undefined, undefined, ['found none']],
    ['empty file', '', undefined, undefined, ['found an empty file']],
  ];
  it.each(cases)('%s', async (_name, text, line, field, fragments) => {
    const p = csvFile(text);
    await refused(loadCsvDataset(p, { frames: 2 }), { file: p, line, field }, ...fragments);
  });

  it('one example past what an import may hold as it is read (128 MiB of float64) is refused at its line', async () => {
    const channels = 100_000; // 168 rows pass 2^24 values: a 34 MB file
    const header = ['example,split,label,frame', ...Array.from({ length: channels }, (_, c) => `c${c}`)].join(',');
    const zeros = ',0'.repeat(channels);
    const p = path.join(tmp(), 'wide.csv');
    const fd = fs.openSync(p, 'w');
    fs.writeSync(fd, `${header}\n`);
    for (let t = 0; t < 170; t++) fs.writeSync(fd, `a,train,0,${t}${zeros}\n`);
    fs.closeSync(fd);
    await refused(loadCsvDataset(p), { file: p, line: 169 }, 'expected an example of at most 16777216 values', '"a"');
  });

  it('a missing file', async () => {
    const p = path.join(tmp(), 'nope.csv');
    await refused(openDataset(p), { file: p }, 'found nothing there');
  });
});
