import type { DatasetSummary } from '../../../shared/protocol';
import { errorMessage } from './format';
import { lab } from './lab.svelte';
import {
  readDroppedItems,
  uploadFiles,
  uploadName,
  type DroppedItem,
  type PickedFile,
  type UploadProgress,
} from './upload';

/**
 * Imports what the user dropped or picked. Electron: by path (the services read the disk).
 * Browser host: the files are read here and uploaded in chunks, with progress.
 */
class Importer {
  status = $state<(UploadProgress & { name: string }) | null>(null);
  error = $state<string | null>(null);
  last = $state.raw<DatasetSummary | null>(null);

  get busy(): boolean {
    return this.status !== null;
  }

  private done(d: DatasetSummary): void {
    lab.addDataset(d);
    this.last = d;
  }

  async fromDrop(items: DroppedItem[]): Promise<void> {
    const api = lab.api;
    if (!api || this.busy) return;
    this.error = null;
    try {
      if (api.pathForFile) {
        const paths = items.flatMap((i) => (i.file ? [api.pathForFile!(i.file)] : [])).filter(Boolean);
        if (!paths.length) throw new Error('nothing to import: the drop carried no files');
        for (const path of paths) await this.fromPath(path);
        return;
      }
      this.status = { phase: 'reading', sentBytes: 0, totalBytes: 0, sentFiles: 0, totalFiles: 0, name: '' };
      const files = await readDroppedItems(items);
      await this.upload(files);
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.status = null;
    }
  }

  async fromPicked(files: PickedFile[]): Promise<void> {
    const api = lab.api;
    if (!api || this.busy || !files.length) return;
    this.error = null;
    try {
      if (api.pathForFile) {
        // Electron: a folder pick gives its files; the folder is the first file's path less its relative path.
        const first = files[0];
        const full = api.pathForFile(first.file);
        const rel = first.relativePath;
        const isFolder = rel.includes('/');
        const root = isFolder ? full.slice(0, full.length - rel.length + rel.split('/')[0].length) : full;
        await this.fromPath(root);
        return;
      }
      await this.upload(files);
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.status = null;
    }
  }

  async fromPath(path: string): Promise<void> {
    const api = lab.api;
    if (!api) return;
    this.status = {
      phase: 'importing',
      sentBytes: 0,
      totalBytes: 0,
      sentFiles: 0,
      totalFiles: 0,
      name: path.split(/[\\/]/).pop() ?? path,
    };
    try {
      this.done(await api.invoke('datasets.importPath', { path }));
    } finally {
      this.status = null;
    }
  }

  private async upload(files: PickedFile[]): Promise<void> {
    const name = uploadName(files);
    this.status = { phase: 'sending', sentBytes: 0, totalBytes: 0, sentFiles: 0, totalFiles: files.length, name };
    const d = await uploadFiles(lab.api!, name, files, (p) => (this.status = { ...p, name }));
    this.done(d);
  }
}

export const importer = new Importer();
