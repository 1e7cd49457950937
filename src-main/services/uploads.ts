import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { SPLIT_NAMES } from '../../shared/data/dataset';
import { LockstepError } from '../../shared/errors';

/**
 * Files dropped on the browser host's page arrive in chunks (`uploads.begin`, `uploads.chunk`
 * ×N, `uploads.finish`) and are written under `<root>/<uploadId>/files/`, each at its path
 * relative to what was dropped. A path must stay inside that folder: absolute paths, drive
 * letters, `..`, `.` and empty segments are rejected. The same relativePath may come in several
 * chunks (in order): the first write creates the file, later ones append, so a large file can be
 * sent in slices. `finish` names what to import: the dropped folder (descending through
 * single wrapping folders) or the single file if one file was all that was dropped.
 */
export interface UploadLimits {
  /** Bytes per upload, all files together. */
  maxBytes: number;
  /** Files per upload. */
  maxFiles: number;
  /** Uploads idle this long are discarded. */
  idleMs: number;
}

const DEFAULT_LIMITS: UploadLimits = { maxBytes: 8 * 1024 ** 3, maxFiles: 200_000, idleMs: 60 * 60 * 1000 };

interface Upload {
  id: string;
  name: string;
  dir: string;
  filesDir: string;
  written: Set<string>;
  bytes: number;
  touched: number;
  /** Chunks of one upload are written one after another, in arrival order. */
  queue: Promise<unknown>;
}

/** Splits a dropped file's relative path into safe segments, or explains why it is refused. */
export function safeRelativePath(relativePath: string): string[] {
  const refuse = (why: string): never => {
    throw new LockstepError(`uploads.chunk: relativePath ${JSON.stringify(relativePath.slice(0, 120))}: ${why}`);
  };
  if (relativePath.includes('\0')) refuse('holds a NUL character');
  if (
    relativePath.startsWith('/') ||
    relativePath.startsWith('\\') ||
    /^[A-Za-z]:/.test(relativePath) ||
    isAbsolute(relativePath)
  ) {
    refuse('must be relative to what was dropped, not absolute');
  }
  const parts = relativePath.split(/[\\/]/);
  for (const part of parts) {
    if (part === '..') refuse("must not climb out of the upload with '..'");
    if (part === '' || part === '.') refuse("must not hold empty or '.' segments");
    if (Buffer.byteLength(part) > 255) refuse('has a name longer than 255 bytes');
  }
  return parts;
}

const IGNORED = (name: string): boolean => name.startsWith('.') || name === '__MACOSX' || name === 'Thumbs.db';

/** What a finished upload's folder should be imported as: a dataset folder or a single file. */
export function importTarget(filesDir: string): string {
  let dir = filesDir;
  for (;;) {
    const entries = readdirSync(dir, { withFileTypes: true }).filter((e) => !IGNORED(e.name));
    if (entries.length !== 1) return dir;
    const only = entries[0];
    const path = join(dir, only.name);
    if (only.isFile()) return path;
    // A split folder (train/, dev/, eval/) belongs to the dataset root it is in: stop above it.
    if (!only.isDirectory() || (SPLIT_NAMES as readonly string[]).includes(only.name)) return dir;
    dir = path;
  }
}

export class Uploads {
  private readonly uploads = new Map<string, Upload>();
  private readonly limits: UploadLimits;

  constructor(
    readonly root: string,
    limits: Partial<UploadLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    // Whatever is here is left from an earlier session that ended mid-upload.
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
  }

  begin(name: string): { uploadId: string } {
    this.sweep();
    const id = `up-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const dir = join(this.root, id);
    const filesDir = join(dir, 'files');
    mkdirSync(filesDir, { recursive: true });
    this.uploads.set(id, {
      id,
      name,
      dir,
      filesDir,
      written: new Set(),
      bytes: 0,
      touched: Date.now(),
      queue: Promise.resolve(),
    });
    return { uploadId: id };
  }

  private get(uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (!upload)
      throw new LockstepError(
        `no upload '${uploadId}' in progress (it finished, failed or expired; drop the files again)`,
      );
    upload.touched = Date.now();
    return upload;
  }

  /** Writes a chunk's files; resolves with the bytes received so far in this upload. */
  chunk(uploadId: string, files: Array<{ relativePath: string; data: Uint8Array }>): Promise<{ received: number }> {
    const upload = this.get(uploadId);
    // Check every path and the limits before writing anything.
    const targets = files.map((f) => {
      const parts = safeRelativePath(f.relativePath);
      const abs = join(upload.filesDir, ...parts);
      const rel = relative(upload.filesDir, abs);
      if (rel === '' || rel.startsWith('..' + sep) || rel === '..' || isAbsolute(rel)) safeRelativePath('..');
      return { key: parts.join('/'), abs, data: f.data };
    });
    const newFiles = new Set(targets.map((t) => t.key).filter((k) => !upload.written.has(k))).size;
    if (upload.written.size + newFiles > this.limits.maxFiles) {
      throw new LockstepError(`upload ${upload.name}: more than ${this.limits.maxFiles} files`);
    }
    const bytes = targets.reduce((n, t) => n + t.data.byteLength, 0);
    if (upload.bytes + bytes > this.limits.maxBytes) {
      throw new LockstepError(`upload ${upload.name}: more than ${(this.limits.maxBytes / 1024 ** 3).toFixed(1)} GiB`);
    }
    upload.bytes += bytes;
    const run = upload.queue.then(async () => {
      for (const t of targets) {
        try {
          await mkdir(dirname(t.abs), { recursive: true });
          if (upload.written.has(t.key)) await appendFile(t.abs, t.data);
          else {
            await writeFile(t.abs, t.data);
            upload.written.add(t.key);
          }
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          throw new LockstepError(
            `upload ${upload.name}: cannot write ${t.key} (${code ?? (e as Error).message}${code === 'ENOTDIR' || code === 'EISDIR' ? ': a name is used both as a file and as a folder' : ''})`,
          );
        }
      }
      return { received: upload.bytes };
    });
    upload.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Waits for the upload's writes, then hands the import target to `use` (the dataset import);
   * the uploaded files are deleted afterwards, whether the import worked or not.
   */
  async finish<T>(uploadId: string, use: (path: string, name: string) => Promise<T>): Promise<T> {
    const upload = this.get(uploadId);
    this.uploads.delete(uploadId);
    try {
      await upload.queue;
      if (upload.written.size === 0) throw new LockstepError(`upload ${upload.name}: no files arrived`);
      return await use(importTarget(upload.filesDir), datasetName(upload.name));
    } catch (e) {
      if (e instanceof LockstepError) throw new LockstepError(asDropped(e.message, upload));
      // A bug's message still reaches the page (as an internal error): it too names no temp path.
      if (e instanceof Error) e.message = asDropped(e.message, upload);
      throw e;
    } finally {
      rmSync(upload.dir, { recursive: true, force: true });
    }
  }

  /** Drops uploads nobody has touched for `idleMs`. */
  private sweep(): void {
    const now = Date.now();
    for (const u of this.uploads.values()) {
      if (now - u.touched > this.limits.idleMs) {
        this.uploads.delete(u.id);
        rmSync(u.dir, { recursive: true, force: true });
      }
    }
  }

  close(): void {
    for (const u of this.uploads.values()) rmSync(u.dir, { recursive: true, force: true });
    this.uploads.clear();
  }
}

/**
 * A message naming files as the user dropped them, never by where the upload is kept: a path
 * inside the upload (absolute, or relative to a root above it) loses that prefix, and the
 * upload's folder itself is called by the upload's name.
 */
function asDropped(message: string, upload: Upload): string {
  let out = message;
  for (const dir of [upload.filesDir, `${upload.id}/files`]) {
    out = out
      .split(dir + sep)
      .join('')
      .split(dir + '/')
      .join('')
      .split(dir)
      .join(upload.name);
  }
  return out;
}

/** 'ee-set.zip' → 'ee-set': the name a dropped archive or file gives its dataset. */
export function datasetName(dropped: string): string {
  const base = dropped.split(/[\\/]/).filter(Boolean).pop() ?? dropped;
  return base.replace(/\.(zip|tar\.gz|tgz|tar|npz|csv)$/i, '') || base;
}
