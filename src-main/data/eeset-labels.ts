/**
 * The ee-set's labels files: one `<label> <path>` per line, `<label>` an integer in 0–8 and
 * `<path>` relative to the dataset root. Every problem is the user's to fix: a LockstepError
 * naming the file, line and field. Paths that are absolute or climb out of the root are refused
 * here, before anything is read.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { LockstepError } from '../../shared/errors';
import { EE_SET_CLASSES, SPLIT_NAMES } from '../../shared/data/dataset';
import { bytesText } from './archive';
import { errCode, insideRoot, toId, type RootContext } from './eeset-root';

const NUM_CLASSES = EE_SET_CLASSES.length;

export interface Entry {
  label: number;
  /** Path relative to the root, '/'-separated and normalised: the example's id. */
  id: string;
  /** Absolute lexical path (inside the root). */
  abs: string;
  /** 1-based line in the labels file. */
  line: number;
}

function quote(s: string): string {
  return `'${s.length > 60 ? s.slice(0, 60) + '…' : s}'`;
}

/** Absolute on this platform or on another one (`/x`, `\\x`, `C:\\x`, `C:/x`). */
function isAbsoluteAnywhere(p: string): boolean {
  return nodePath.isAbsolute(p) || p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);
}

/**
 * A relative POSIX path that needs no normalisation: not absolute in any convention, and no
 * empty, '.' or '..' segments. (On Windows every path takes the general route.)
 */
const CLEAN_RELATIVE =
  nodePath.sep === '/' ? /^(?![A-Za-z]:[\\/]|\\)(?!\.\.?(?:\/|$))(?:[^/]+\/(?!\.\.?(?:\/|$)))*[^/]+$/ : /(?!)/;

const INTEGER = /^[+-]?\d+$/;

/**
 * The largest labels file read (the ee-set's train labels are 195 KB, 5280 lines): it is read
 * whole, so a larger one is refused by its size before anything is read.
 */
export const MAX_LABELS_BYTES = 64 * 1024 * 1024;

/** The text of a UTF-8 file (a BOM dropped); bytes that are not UTF-8 are refused with their line. */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    return decoder.decode(bytes);
  } catch {
    // Find the line: UTF-8 never uses the byte '\n' inside a character, so each line decodes alone.
    for (let start = 0, line = 1; start < bytes.length; line++) {
      const nl = bytes.indexOf(10, start);
      const end = nl < 0 ? bytes.length : nl + 1;
      try {
        decoder.decode(bytes.subarray(start, end));
      } catch {
        const shown = Array.from(
          bytes
            .subarray(start, end)
            .filter((b) => b >= 0x80)
            .subarray(0, 4),
          (b) => '0x' + b.toString(16).toUpperCase(),
        ).join(' ');
        throw new LockstepError(
          `expected UTF-8 text, found bytes that are not UTF-8 (${shown}); save the file as UTF-8`,
          { file, line },
        );
      }
      start = end;
    }
    // Every line decodes: the decoder refused the whole for another reason (a string too long).
    const size = bytesText(bytes.length);
    throw new LockstepError(`expected a labels file the UTF-8 decoder accepts, found ${size} it refused`, { file });
  }
}

/** The labels file's bytes, refused by size before they are read. */
function readLabelsBytes(path: string, labelsRel: string): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size > MAX_LABELS_BYTES) {
      throw new LockstepError(
        `expected a labels file of at most ${bytesText(MAX_LABELS_BYTES)} (one '<label> <path>' line per example), ` +
          `found ${bytesText(size)}`,
        { file: labelsRel },
      );
    }
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function parseLabels(ctx: RootContext, labelsAbs: string, labelsRel: string): Entry[] {
  let bytes: Buffer;
  try {
    const real = fs.realpathSync.native(labelsAbs);
    if (!insideRoot(ctx.rootReal, real)) {
      throw new LockstepError(`expected the labels file to be inside the dataset root, found it resolves to ${real}`, {
        file: labelsRel,
      });
    }
    bytes = readLabelsBytes(real, labelsRel);
  } catch (e) {
    if (e instanceof LockstepError) throw e;
    throw new LockstepError(`expected a readable labels file, found ${errCode(e)}`, { file: labelsRel });
  }
  const text = decodeUtf8(bytes, labelsRel);

  const entries: Entry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  const maxLabel = NUM_CLASSES - 1;
  // A file is quoted once it is known for a labels file: by its place in the course layout or by a
  // line that parsed. Before that it may be anything a path names (/etc/shadow): quote none of it.
  const [split, lab, name, ...deeper] = labelsRel.split(/[\\/]/);
  const placed = SPLIT_NAMES.some((s) => s === split) && lab === 'lab' && !!name && !deeper.length;
  const shown = (s: string): string =>
    placed || entries.length ? quote(s) : '(not shown: no line of this file is a labels line)';
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li].trim();
    if (raw === '') continue;
    const line = li + 1;
    const where = (field: 'label' | 'path') => ({ file: labelsRel, line, field });
    const fields = raw.split(/[ \t]+/);
    const labelTok = fields[0];
    if (fields.length === 1) {
      if (INTEGER.test(labelTok)) {
        throw new LockstepError(
          `expected '<label> <path>', found the label ${shown(labelTok)} and no path`,
          where('path'),
        );
      }
      throw new LockstepError(
        `expected '<label> <path>' with an integer label in 0–${maxLabel}, found the single field ${shown(labelTok)}`,
        where('label'),
      );
    }
    const label = INTEGER.test(labelTok) ? Number(labelTok) : NaN;
    if (!(label >= 0 && label <= maxLabel)) {
      throw new LockstepError(`expected an integer in 0–${maxLabel}, found ${shown(labelTok)}`, where('label'));
    }
    if (fields.length > 2) {
      throw new LockstepError(
        `expected one path without spaces after the label, found ${fields.length - 1} fields ${shown(fields.slice(1).join(' '))}`,
        where('path'),
      );
    }
    const p = fields[1];
    let id: string;
    let abs: string;
    if (CLEAN_RELATIVE.test(p)) {
      id = p;
      abs = ctx.root.endsWith('/') ? ctx.root + p : ctx.root + '/' + p;
    } else {
      if (isAbsoluteAnywhere(p)) {
        throw new LockstepError(
          `expected a path relative to the dataset root, found the absolute path ${shown(p)}`,
          where('path'),
        );
      }
      abs = nodePath.resolve(ctx.root, p);
      const rel = nodePath.relative(ctx.root, abs);
      if (rel === '' || rel === '..' || rel.startsWith('..' + nodePath.sep) || nodePath.isAbsolute(rel)) {
        throw new LockstepError(
          `expected a path to a file inside the dataset root, found ${shown(p)}, which resolves outside it`,
          where('path'),
        );
      }
      id = toId(rel);
    }
    const prev = seen.get(id);
    if (prev !== undefined) {
      throw new LockstepError(
        `expected each path once, found ${shown(p)} again (first on line ${prev})`,
        where('path'),
      );
    }
    seen.set(id, line);
    entries.push({ label, id, abs, line });
  }
  return entries;
}
