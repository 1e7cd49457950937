import { existsSync, readFileSync } from 'node:fs';
import { LockstepError } from '../../shared/errors';
import { PRESET_NAMES, PRESETS } from '../../shared/presets';
import type { TrainingSettings } from '../../shared/train/settings';

export interface ModelChoice {
  /** The preset's name, or the spec file's path. */
  name: string;
  spec: { input: [number, number]; layers: unknown[] };
  /** The preset's (or the spec file's) recommended settings; flags override them. */
  training: Partial<TrainingSettings>;
}

/**
 * `--model tdnn` names a preset; `--model net.json` a file holding either a bare spec
 * (`{"input", "layers"}`) or a preset-shaped object (`{"spec", "training"}`).
 */
export function resolveModel(model: string): ModelChoice {
  const preset = PRESETS.get(model);
  if (preset) return { name: preset.name, spec: structuredClone(preset.spec), training: { ...preset.training } };
  if (!existsSync(model)) {
    throw new LockstepError(
      `--model ${model}: neither a preset (${PRESET_NAMES.join(', ')}) nor an existing spec file`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(model, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new LockstepError(`not valid JSON (${(e as Error).message})`, { file: model });
  }
  const obj = raw as Record<string, unknown>;
  if (obj && typeof obj === 'object' && 'spec' in obj) {
    return {
      name: model,
      spec: obj.spec as ModelChoice['spec'],
      training: (obj.training ?? {}) as Partial<TrainingSettings>,
    };
  }
  return { name: model, spec: raw as ModelChoice['spec'], training: {} };
}
