/**
 * A dataset as one CSV file, one row per frame:
 *
 *     example,split,label,frame,c0,c1,…,c15
 *     ex1,train,B,0,0.12,-1.5,…
 *     ex1,train,B,1,0.10,-1.4,…
 *     ex2,dev,3,0,…
 *
 * - The header is required; its first four columns are `example,split,label,frame` (any case),
 *   the rest are the channels (one column each, any names; at least one).
 * - `example` is an id, unique in the file; an example's rows are consecutive lines, its
 *   `frame` numbers 0, 1, 2, … in order, and its `split` (train, dev or eval) and `label` are the
 *   same on every row.
 * - `label`: if every label in the file is a whole number they are class indices (the classes
 *   are the ee-set letters B C D E G P T V Z when all are below 9, else '0', '1', …); otherwise
 *   they are class names (the ee-set letters, in their order, when all labels are among them,
 *   else every distinct name, sorted).
 * - Fields are separated by commas; a field may be double-quoted (`"a,b"`, `""` for a quote) but
 *   may not span lines. Blank lines are skipped; CRLF line ends and a UTF-8 BOM are fine.
 *
 * Structural problems (a missing header, a row with the wrong number of fields, an unknown split,
 * frames out of order, an example's rows split apart) are LockstepErrors naming the file, line
 * and field. A value that is not a number drops its example as malformed; NaN / ±Inf drop it as
 * non-finite; the frames protocol (keep `frames`, drop or pad shorter examples) then applies as
 * for the course layout, every drop in the split's report with the example id and line.
 */
import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LockstepError } from '../../shared/errors';
import { EE_SET_CLASSES, SPLIT_NAMES, type Dataset, type SplitName } from '../../shared/data/dataset';
import { MAX_IMPORT_BYTES, protocolOptions, type LoadOptions } from './load-options';

/** The values one example may hold while it is read (float64). */
const MAX_EXAMPLE_VALUES = MAX_IMPORT_BYTES / 8;
import { MAX_CLASSES, SplitBuilder, defaultClasses, stemOf } from './npz';

const REQUIRED = ['example', 'split', 'label', 'frame'] as const;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const MAX_LINE = 64 * 1024 * 1024;

function shown(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

/** Splits one CSV line into fields (RFC 4180 quoting, no line breaks inside fields). */
export function splitCsvLine(line: string, file: string, lineNo: number): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0)
          throw new LockstepError(
            'expected a closing quote, found the end of the line (quoted fields may not span lines)',
            { file, line: lineNo },
          );
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      // Anything between the closing quote and the comma is kept, as spreadsheets do.
      const comma = line.indexOf(',', i);
      v += comma < 0 ? line.slice(i) : line.slice(i, comma);
      out.push(v);
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      out.push(comma < 0 ? line.slice(i) : line.slice(i, comma));
      if (comma < 0) return out;
      i = comma + 1;
    }
  }
}

interface OpenExample {
  id: string;
  split: SplitName;
  label: string;
  line: number;
  rows: number;
  malformed: { line: number; message: string } | null;
}

/** Loads a dataset from a CSV file in the layout above. */
export async function loadCsvDataset(path: string, options: LoadOptions = {}): Promise<Dataset> {
  const opts = protocolOptions(options);
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new LockstepError(
      code === 'ENOENT' ? 'expected a CSV file, found nothing there' : `expected a readable CSV file, found ${code}`,
      { file: path },
    );
  }

  let lineNo = 0;
  let header: string[] | null = null;
  let channels = 0;
  let cur: OpenExample | null = null;
  /** Every example id met, with the line of its first row. */
  const seen = new Map<string, number>();
  const builders = new Map<SplitName, SplitBuilder>();
  /** Labels as written → a provisional index; resolved into classes at the end. */
  const labelIds = new Map<string, number>();
  /** By provisional index: the line where the label first appears. */
  const labelLines: number[] = [];
  let values = new Float64Array(256 * 16);
  let rowLines = new Int32Array(256);
  let rowsSeen = 0;

  const closeExample = (): void => {
    const e = cur;
    cur = null;
    if (e === null) return;
    if (opts.splits !== undefined && !opts.splits.includes(e.split)) return;
    let b = builders.get(e.split);
    if (!b) builders.set(e.split, (b = new SplitBuilder(opts.frames, channels, opts.short, 16, path)));
    let label = labelIds.get(e.label);
    if (label === undefined) {
      labelIds.set(e.label, (label = labelIds.size));
      labelLines.push(e.line);
    }
    if (e.malformed) {
      b.drop({ file: e.id, line: e.malformed.line, reason: 'malformed', message: e.malformed.message });
    } else {
      const lines = rowLines;
      b.add(e.id, label, values, 0, e.rows, e.line, (row) => lines[row]);
    }
  };

  const onLine = (raw: string): void => {
    lineNo++;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() === '') return;
    const fields = splitCsvLine(line, path, lineNo);
    if (header === null) {
      header = fields.map((f) => f.trim());
      const first = header.slice(0, 4).map((f) => f.toLowerCase());
      if (first.join(',') !== REQUIRED.join(',') || header.length < 5) {
        throw new LockstepError(
          `expected the header ${REQUIRED.join(',')},c0,c1,… (four columns, then one per channel), found ${shown(line)}`,
          { file: path, line: lineNo },
        );
      }
      channels = header.length - 4;
      return;
    }
    if (fields.length !== header.length) {
      throw new LockstepError(
        `expected ${header.length} fields (example, split, label, frame and ${channels} channels, as in the header), found ${fields.length}`,
        { file: path, line: lineNo },
      );
    }
    rowsSeen++;
    const id = fields[0].trim();
    const split = fields[1].trim();
    const label = fields[2].trim();
    const frameText = fields[3].trim();
    const where = (field: string) => ({ file: path, line: lineNo, field });
    if (id === '') throw new LockstepError('expected an example id, found an empty field', where('example'));
    if (!(SPLIT_NAMES as readonly string[]).includes(split)) {
      throw new LockstepError(
        `expected a split among ${SPLIT_NAMES.join(', ')}, found ${shown(split)}`,
        where('split'),
      );
    }
    if (label === '') throw new LockstepError('expected a class name or index, found an empty field', where('label'));
    const frame = /^\d+$/.test(frameText) ? Number(frameText) : NaN;
    if (!Number.isSafeInteger(frame))
      throw new LockstepError(`expected a frame number (0, 1, 2, …), found ${shown(frameText)}`, where('frame'));

    if (cur === null || cur.id !== id) {
      closeExample();
      const first = seen.get(id);
      if (first !== undefined) {
        throw new LockstepError(
          `expected the rows of example ${shown(id)} on consecutive lines, found it again after other rows (its first row is line ${first})`,
          where('example'),
        );
      }
      if (frame !== 0)
        throw new LockstepError(
          `expected frame 0 on the first row of example ${shown(id)}, found ${frame}`,
          where('frame'),
        );
      seen.set(id, lineNo);
      cur = { id, split: split as SplitName, label, line: lineNo, rows: 0, malformed: null };
    } else {
      if (split !== cur.split) {
        throw new LockstepError(
          `expected split ${shown(cur.split)} as on the example's first row (line ${cur.line}), found ${shown(split)}`,
          where('split'),
        );
      }
      if (label !== cur.label) {
        throw new LockstepError(
          `expected label ${shown(cur.label)} as on the example's first row (line ${cur.line}), found ${shown(label)}`,
          where('label'),
        );
      }
      if (frame !== cur.rows) {
        throw new LockstepError(
          `expected frame ${cur.rows} (the frames of an example are numbered 0, 1, 2, … in order), found ${frame}`,
          where('frame'),
        );
      }
    }

    const e: OpenExample = cur!;
    const r = e.rows++;
    if (e.malformed) return;
    if ((r + 1) * channels > values.length) {
      // An example is read whole (every row is checked), in float64: it too must fit the import's bound.
      if ((r + 1) * channels > MAX_EXAMPLE_VALUES) {
        throw new LockstepError(
          `expected an example of at most ${MAX_EXAMPLE_VALUES} values (${MAX_IMPORT_BYTES / 1024 ** 2} MiB as read), ` +
            `found more in example ${shown(e.id)} (${r + 1} rows of ${channels} channels so far)`,
          { file: path, line: lineNo },
        );
      }
      const bigger = new Float64Array(Math.min(values.length * 2, MAX_EXAMPLE_VALUES));
      bigger.set(values);
      values = bigger;
    }
    if (r >= rowLines.length) {
      const bigger = new Int32Array(rowLines.length * 2);
      bigger.set(rowLines);
      rowLines = bigger;
    }
    rowLines[r] = lineNo;
    for (let c = 0; c < channels; c++) {
      const t = fields[4 + c].trim();
      let v: number;
      if (NUMBER.test(t)) v = Number(t);
      else if (NON_FINITE.test(t)) v = /nan/i.test(t) ? NaN : t.startsWith('-') ? -Infinity : Infinity;
      else {
        e.malformed = {
          line: lineNo,
          message: `expected a number in column ${5 + c} (${header[4 + c] || `channel ${c}`}), found ${shown(t)}`,
        };
        return;
      }
      values[r * channels + c] = v;
    }
  };

  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let n: number;
    let chunks = 0;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
      const lines = (rest + decoder.write(buf.subarray(0, n))).split('\n');
      rest = lines.pop()!;
      if (rest.length > MAX_LINE)
        throw new LockstepError(`expected lines shorter than ${MAX_LINE >> 20} MiB, found a longer one`, {
          file: path,
          line: lineNo + 1,
        });
      for (const l of lines) onLine(l);
      if (++chunks % 4 === 0) await new Promise<void>((res) => setImmediate(res));
    }
    rest += decoder.end();
    if (rest !== '') onLine(rest);
    closeExample();
  } catch (e) {
    if (e instanceof LockstepError) throw e;
    const code = (e as { code?: string }).code;
    if (code) throw new LockstepError(`expected a readable CSV file, found ${code}`, { file: path });
    throw e;
  } finally {
    fs.closeSync(fd);
  }

  if (header === null)
    throw new LockstepError(`expected a header ${REQUIRED.join(',')},c0,c1,…, found an empty file`, { file: path });
  if (rowsSeen === 0) throw new LockstepError('expected rows of examples after the header, found none', { file: path });

  // Labels: all whole numbers → class indices; otherwise class names.
  const raw = [...labelIds.keys()];
  let classes: string[];
  let index: Map<string, number>;
  if (raw.every((l) => /^\d+$/.test(l))) {
    const max = raw.reduce((m, l) => Math.max(m, Number(l)), -1);
    if (max >= MAX_CLASSES) {
      const k = raw.findIndex((l) => Number(l) === max);
      throw new LockstepError(
        `expected class indices in 0–${MAX_CLASSES - 1} (labels that are all whole numbers are class indices, at most ${MAX_CLASSES} classes), found ${shown(raw[k])}`,
        { file: path, line: labelLines[k], field: 'label' },
      );
    }
    classes = defaultClasses(Math.max(max, 0));
    index = new Map(raw.map((l) => [l, Number(l)]));
  } else {
    const ee = EE_SET_CLASSES as readonly string[];
    classes = raw.every((l) => ee.includes(l)) ? [...ee] : [...raw].sort();
    index = new Map(raw.map((l) => [l, classes.indexOf(l)]));
  }
  const provisional = raw.map((l) => index.get(l)!);

  const dataset: Dataset = { name: stemOf(path), classes, splits: {}, reports: {} };
  for (const split of SPLIT_NAMES) {
    const b = builders.get(split);
    if (!b) continue;
    const { data, report } = b.finish(classes.length, (v) => provisional[v]);
    dataset.splits[split] = data;
    dataset.reports[split] = report;
  }
  if (opts.splits !== undefined) {
    for (const s of opts.splits) {
      if (!builders.has(s)) throw new LockstepError(`expected rows of the ${s} split, found none`, { file: path });
    }
  }
  return dataset;
}
