import type { TrainingSettings } from '../train/settings';
import best from './best.json';
import fnn10relu from './fnn-10-relu.json';
import fnn10sigmoid from './fnn-10-sigmoid.json';
import fnn10tanh from './fnn-10-tanh.json';
import fnn50relu from './fnn-50-relu.json';
import fnn50sigmoid from './fnn-50-sigmoid.json';
import fnn50tanh from './fnn-50-tanh.json';
import tdnn from './tdnn.json';

/** A named network with the training settings it is meant to be trained with. */
export interface Preset {
  name: string;
  description: string;
  spec: { input: [number, number]; layers: Array<Record<string, unknown> & { type: string }> };
  training: TrainingSettings;
}

const all = [tdnn, fnn10sigmoid, fnn10tanh, fnn10relu, fnn50sigmoid, fnn50tanh, fnn50relu, best] as unknown as Preset[];

export const PRESETS: ReadonlyMap<string, Preset> = new Map(all.map((p) => [p.name, p]));
export const PRESET_NAMES: readonly string[] = all.map((p) => p.name);
