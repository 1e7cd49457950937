import { checkNetworkMemory } from '../../shared/engine/memory';
import { resolveSpec } from '../../shared/engine/spec';
import type { EngineOptions } from '../../shared/train/engine';
import { prepareData, type PreparedData } from '../../shared/train/prepare';
import { optimizerSettings, resolveSettings, type TrainingSettings } from '../../shared/train/settings';
import type { SplitPolicy } from '../data/audio-clips';
import { openDataset } from './datasets';
import { resolveModel } from './models';

export interface RunSetup {
  settings: TrainingSettings;
  data: PreparedData;
  /** The model's spec with its input set to the data's [frames, channels]. */
  spec: { input: [number, number]; layers: unknown[] };
  engineOptions: EngineOptions;
}

/**
 * What a training run and a comparison run both start from: the model, its settings with the
 * caller's overrides, the data standardised on train, and a spec checked against the data.
 */
export async function setUpRun(
  modelName: string,
  dataPath: string | undefined,
  overrides: Partial<TrainingSettings>,
  split?: SplitPolicy,
): Promise<RunSetup> {
  const model = resolveModel(modelName);
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const settings = resolveSettings({ ...model.training, ...given });
  const dataset = await openDataset(dataPath, { frames: settings.frames, split });
  const data = prepareData(dataset, settings);
  const spec = { ...model.spec, input: [data.train.frames, data.train.channels] as [number, number] };
  // Refused here, before any engine (scratch or tfjs) allocates it.
  checkNetworkMemory(resolveSpec(spec, data.classes.length), settings.batch, settings.optimizer);
  return {
    settings,
    data,
    spec,
    engineOptions: { spec, optimizer: optimizerSettings(settings), maxBatch: settings.batch, seed: settings.seed },
  };
}
