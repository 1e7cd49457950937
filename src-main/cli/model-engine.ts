import { ScratchEngine } from '../../shared/engine/scratch-engine';
import { optimizerSettings, resolveSettings } from '../../shared/train/settings';
import type { OpenedModel } from '../export/import-model';

/** A scratch engine holding an opened model's weights, for inference `maxBatch` examples at a time. */
export function modelEngine(model: OpenedModel, maxBatch: number): ScratchEngine {
  const settings = model.manifest?.settings ?? resolveSettings({ frames: model.frames });
  const engine = new ScratchEngine({
    spec: model.spec,
    optimizer: optimizerSettings(settings),
    maxBatch,
    seed: settings.seed,
  });
  engine.setWeights(model.weights);
  return engine;
}
