import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveSpec } from '../../shared/engine/spec';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  packWeights,
  type CheckpointManifest,
} from '../../shared/model/checkpoint';
import { resolveSettings } from '../../shared/train/settings';
import { writeCheckpoint } from '../store/checkpoint-dir';
import { openModel } from './import-model';

/**
 * Export as a native checkpoint (`checkpoint.json` + one weights file): a checkpoint is copied
 * (manifest and weights as they are: settings, metrics, classes, standardisation; not the optimizer
 * state kept to resume training); a tfjs export
 * becomes a checkpoint with default training settings and no metrics, so it can be evaluated or
 * trained on. Written as `writeCheckpoint` writes: the weights first, the manifest atomically last.
 */
export async function exportCheckpoint(source: string, dest: string): Promise<string[]> {
  const model = openModel(source);
  const resolved = resolveSpec(model.spec, model.classes.length);
  const shapes = new Map(resolved.layers.flatMap((l) => l.params).map((p) => [p.name, p.shape]));
  const ordered = new Map([...shapes.keys()].map((name) => [name, model.weights.get(name)!]));
  const { tensors, bytes } = packWeights(ordered, shapes);
  const base: Omit<CheckpointManifest, 'weightsFile' | 'tensors'> = model.manifest
    ? (({ weightsFile: _w, tensors: _t, optimizerState: _o, ...rest }) => rest)(model.manifest)
    : {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        createdAt: new Date().toISOString(),
        spec: model.spec,
        classes: model.classes,
        frames: model.frames,
        channels: model.channels,
        frontEnd: model.frontEnd,
        standardize: model.standardize,
        audio: model.audio ?? null,
        settings: resolveSettings({
          frames: model.frames,
          standardize: model.standardize !== null,
          frontEnd: model.frontEnd,
        }),
        engine: `import:${model.kind}`,
        metrics: [],
      };
  const out = resolve(dest);
  const manifestPath = writeCheckpoint(out, { ...base, tensors }, bytes);
  const { weightsFile } = JSON.parse(readFileSync(manifestPath, 'utf8')) as CheckpointManifest;
  return [manifestPath, join(out, weightsFile)];
}
