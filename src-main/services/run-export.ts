import { LockstepError } from '../../shared/errors';
import type { Params } from '../../shared/protocol';
import { EXPORTERS as MODEL_EXPORTERS } from '../export';

export type ExportFormat = Params<'runs.export'>['format'];

/**
 * Writes a run's final checkpoint (`checkpointDir`) in one format at `dest` and returns the
 * files written. `dest` is a folder for 'checkpoint' and 'tfjs', a file for 'npz' and 'onnx'.
 */
export type Exporter = (checkpointDir: string, dest: string) => Promise<string[]>;

/** The formats `runs.export` writes, by the exporters of src-main/export. */
const EXPORTERS = new Map<ExportFormat, Exporter>(Object.entries(MODEL_EXPORTERS) as Array<[ExportFormat, Exporter]>);

export async function exportRun(checkpointDir: string, format: ExportFormat, dest: string): Promise<string[]> {
  const exporter = EXPORTERS.get(format);
  if (!exporter) throw new LockstepError(`unknown export format '${format}'`);
  return exporter(checkpointDir, dest);
}

/** The name an export gets by default (a folder, or a .npz or .onnx file). */
export function exportFileName(runName: string, format: ExportFormat): string {
  const stem =
    runName
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'run';
  return format === 'npz' || format === 'onnx' ? `${stem}.${format}` : `${stem}-${format}`;
}
