/**
 * Exports of a trained model (a checkpoint folder, or a tfjs export folder: see `openModel`):
 * - 'tfjs': a TensorFlow.js LayersModel folder (model.json, weights.bin, metadata.json);
 * - 'npz': one NumPy .npz of the weights by layer, the classes, the standardisation and the spec;
 * - 'onnx': one ONNX model (opset 13) of the network, the front end in its metadata;
 * - 'checkpoint': the native checkpoint folder (checkpoint.json + weights file).
 * Each exporter has the signature of services/run-export.ts's `Exporter`.
 */
import { LockstepError } from '../../shared/errors';
import { exportFormat } from '../../shared/protocol';
import { exportCheckpoint } from './checkpoint-export';
import { exportNpz } from './npz-export';
import { exportOnnx } from './onnx-export';
import { exportTfjs } from './tfjs';

export const EXPORT_FORMATS = exportFormat.options;
export type ExportFormatName = (typeof EXPORT_FORMATS)[number];

export type ModelExporter = (source: string, dest: string) => Promise<string[]>;

export const EXPORTERS: Readonly<Record<ExportFormatName, ModelExporter>> = {
  tfjs: exportTfjs,
  npz: exportNpz,
  onnx: exportOnnx,
  checkpoint: exportCheckpoint,
};

/** Writes `source` in `format` at `dest`; returns the format and the files written. */
export async function exportModel(
  source: string,
  format: string,
  dest: string,
): Promise<{ format: ExportFormatName; files: string[] }> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new LockstepError(`expected an export format among ${EXPORT_FORMATS.join(', ')}, found '${format}'`, {
      field: 'format',
    });
  }
  const f = format as ExportFormatName;
  return { format: f, files: await EXPORTERS[f](source, dest) };
}

export { exportCheckpoint, exportNpz, exportOnnx, exportTfjs };
export { openModel, type OpenedModel } from './import-model';
