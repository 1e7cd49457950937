import type { DatasetSummary, LockstepApi } from '../../../shared/protocol';

/**
 * Getting what the user dropped or picked to the services: in the browser host the files
 * themselves travel (`uploads.begin` / `uploads.chunk` / `uploads.finish`, chunks of at most
 * 8 MiB; a larger file travels in slices that the services append), each with its path relative to what was dropped, so a folder's files keep their
 * folders (`ee-set/train/lab/…`).
 */
export const CHUNK_BYTES = 8 * 1024 * 1024;
export const CHUNK_FILES = 10_000;

export interface PickedFile {
  relativePath: string;
  file: File;
}

/** One dropped item, taken synchronously inside the drop event (items die after it). */
export interface DroppedItem {
  entry: FileSystemEntry | null;
  file: File | null;
}

const JUNK = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);
function isJunk(path: string): boolean {
  const parts = path.split('/');
  return JUNK.has(parts[parts.length - 1]) || parts.includes('__MACOSX');
}

/** Must run inside the drop handler: the DataTransfer is emptied once the event returns. */
export function takeDroppedItems(dt: DataTransfer): DroppedItem[] {
  const items: DroppedItem[] = [];
  if (dt.items && dt.items.length) {
    for (const item of Array.from(dt.items)) {
      if (item.kind !== 'file') continue;
      const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
      items.push({ entry, file: item.getAsFile() });
    }
    return items;
  }
  for (const file of Array.from(dt.files ?? [])) items.push({ entry: null, file });
  return items;
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every file under a directory entry, recursively (readEntries answers in batches). */
async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    if (!isJunk(path)) out.push({ relativePath: path, file: await entryFile(entry as FileSystemFileEntry) });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  for (;;) {
    const batch = await readBatch(reader);
    if (!batch.length) break;
    children.push(...batch);
  }
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) await walk(child, path, out);
}

/** The files of what was dropped: folders read recursively, plain files as they are. */
export async function readDroppedItems(items: DroppedItem[]): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  for (const { entry, file } of items) {
    if (entry && entry.isDirectory) await walk(entry, '', out);
    else if (file) {
      if (!isJunk(file.name)) out.push({ relativePath: file.name, file });
    } else if (entry && entry.isFile) await walk(entry, '', out);
  }
  return out;
}

/** Files from an `<input type=file>` (with `webkitdirectory`, each carries its relative path). */
export function filesFromInput(list: FileList | File[]): PickedFile[] {
  return Array.from(list)
    .map((file) => ({
      relativePath: (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name,
      file,
    }))
    .filter((f) => !isJunk(f.relativePath));
}

/** A name for the import: the one folder or file dropped, else "N files". */
export function uploadName(files: ReadonlyArray<{ relativePath: string }>): string {
  if (!files.length) return 'upload';
  const tops = new Set(files.map((f) => f.relativePath.split('/')[0]));
  if (tops.size === 1) {
    const top = [...tops][0];
    return top.replace(/\.(tar\.gz|tgz|zip|npz|csv|txt)$/i, '') || top;
  }
  return `${files.length} files`;
}

/** A slice of one file: bytes [start, end) of files[index]. */
export interface Piece {
  index: number;
  start: number;
  end: number;
}

/**
 * Groups files into chunks of at most `maxBytes` and `maxFiles` pieces each, in order. A file
 * larger than what is left of a chunk is cut into slices; the services append the slices of
 * one relativePath in arrival order, so no chunk ever exceeds `maxBytes`.
 */
export function planChunks(sizes: readonly number[], maxBytes = CHUNK_BYTES, maxFiles = CHUNK_FILES): Piece[][] {
  const chunks: Piece[][] = [];
  let current: Piece[] = [];
  let bytes = 0;
  const close = (): void => {
    if (current.length) chunks.push(current);
    current = [];
    bytes = 0;
  };
  sizes.forEach((size, index) => {
    let start = 0;
    do {
      if (current.length >= maxFiles || (bytes >= maxBytes && current.length)) close();
      const room = maxBytes - bytes;
      // Keep a small file whole in the next chunk rather than cutting it at a chunk's end.
      if (size - start > room && size <= maxBytes && current.length) {
        close();
        continue;
      }
      const end = Math.min(size, start + room);
      current.push({ index, start, end });
      bytes += end - start;
      start = end;
    } while (start < size);
  });
  close();
  return chunks;
}

export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
  sentFiles: number;
  totalFiles: number;
  phase: 'reading' | 'sending' | 'importing';
}

/** Sends the files through `uploads.*` and returns the imported dataset. */
export async function uploadFiles(
  api: LockstepApi,
  name: string,
  files: PickedFile[],
  onProgress: (p: UploadProgress) => void = () => {},
): Promise<DatasetSummary> {
  if (!files.length) throw new Error('nothing to import: no files were dropped');
  const totalBytes = files.reduce((s, f) => s + f.file.size, 0);
  const progress: UploadProgress = {
    sentBytes: 0,
    totalBytes,
    sentFiles: 0,
    totalFiles: files.length,
    phase: 'sending',
  };
  onProgress({ ...progress });
  const { uploadId } = await api.invoke('uploads.begin', { name: name.slice(0, 256) });
  for (const chunk of planChunks(files.map((f) => f.file.size))) {
    const payload = await Promise.all(
      chunk.map(async ({ index, start, end }) => {
        const f = files[index].file;
        const blob = start === 0 && end === f.size ? f : f.slice(start, end);
        return {
          relativePath: files[index].relativePath.slice(0, 1024),
          data: new Uint8Array(await blob.arrayBuffer()),
        };
      }),
    );
    await api.invoke('uploads.chunk', { uploadId, files: payload });
    progress.sentFiles += chunk.filter((p) => p.end === files[p.index].file.size).length;
    progress.sentBytes += payload.reduce((s, f) => s + f.data.byteLength, 0);
    onProgress({ ...progress });
  }
  progress.phase = 'importing';
  onProgress({ ...progress });
  return api.invoke('uploads.finish', { uploadId });
}
