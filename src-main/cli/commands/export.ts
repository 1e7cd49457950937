import { LockstepError } from '../../../shared/errors';
import { EXPORT_FORMATS, exportModel } from '../../export';
import { required } from '../args';
import type { Command } from '../command';

export const exportCommand: Command = {
  summary: 'export a checkpoint as a TensorFlow.js model, a NumPy .npz, an ONNX model or a copy of the checkpoint',
  usage: `export --checkpoint DIR --format ${EXPORT_FORMATS.join('|')} --out PATH`,
  flags: { checkpoint: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
  async run(flags) {
    const f = flags as Record<string, string | undefined>;
    const source = required('checkpoint', f.checkpoint);
    const format = required('format', f.format);
    if (!(EXPORT_FORMATS as readonly string[]).includes(format))
      throw new LockstepError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got '${format}'`);
    const out = required('out', f.out);
    const result = await exportModel(source, format, out);
    const what = {
      tfjs: 'TensorFlow.js LayersModel',
      npz: 'NumPy .npz',
      onnx: 'ONNX model',
      checkpoint: 'Lockstep checkpoint',
    }[result.format];
    return {
      json: { format: result.format, files: result.files },
      text: [`${what} written:`, ...result.files.map((p) => `  ${p}`)].join('\n'),
    };
  },
};
