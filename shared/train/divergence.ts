import type { TrainingEngine } from './engine';

/**
 * Divergence: a loss, weight or gradient that is NaN or ±Inf. Training cannot recover from it,
 * so a run stops with a message naming the step, the engine and the first layer holding a
 * non-finite value, and suggests a lower learning rate. Works through the TrainingEngine
 * interface alone (weights and gradients keyed `layer/param`), so for every engine alike.
 */
export interface NonFiniteValue {
  layer: string;
  /** The weight's full name, `layer/param`. */
  name: string;
  source: 'weights' | 'gradients';
  index: number;
  value: number;
}

const layerOf = (name: string): string => {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? name : name.slice(0, slash);
};

/**
 * The first non-finite value in an engine's weights or last gradients, in layer order (the
 * order of the engine's weight names; within a layer, its weights before its gradients), or null.
 */
export function firstNonFinite(engine: Pick<TrainingEngine, 'getWeights' | 'getGradients'>): NonFiniteValue | null {
  const sources = [
    ['weights', engine.getWeights()],
    ['gradients', engine.getGradients()],
  ] as const;
  const layers: string[] = [];
  for (const [, values] of sources)
    for (const name of values.keys()) if (!layers.includes(layerOf(name))) layers.push(layerOf(name));
  for (const layer of layers) {
    for (const [source, values] of sources) {
      for (const [name, v] of values) {
        if (layerOf(name) !== layer) continue;
        for (let i = 0; i < v.length; i++)
          if (!Number.isFinite(v[i])) return { layer, name, source, index: i, value: v[i] };
      }
    }
  }
  return null;
}

export interface DivergenceContext {
  /** The step just taken (1-based) and its epoch (1-based). */
  step: number;
  epoch: number;
  lr: number;
  /** The engine's id ('scratch', 'tfjs-cpu'): a lockstep run names which of its two diverged. */
  engineId: string;
  /** The step's loss; without one (e.g. at the end of an epoch) the weights and gradients are checked. */
  loss?: number;
}

/**
 * The message for a run that diverged at this step, or null if it did not: its loss is not
 * finite, or (when no loss is given) a weight or gradient is not.
 */
export function divergenceMessage(
  engine: Pick<TrainingEngine, 'getWeights' | 'getGradients'>,
  c: DivergenceContext,
): string | null {
  const lossBad = c.loss !== undefined && !Number.isFinite(c.loss);
  if (c.loss !== undefined && !lossBad) return null;
  const where = firstNonFinite(engine);
  if (!lossBad && where === null) return null;
  const what = lossBad ? `the ${c.engineId} loss became ${c.loss}` : `the ${c.engineId} weights are no longer finite`;
  const located = where
    ? `the first non-finite value is in layer ${where.layer} (its ${where.source}: ${where.name}[${where.index}] = ${where.value})`
    : 'every weight and gradient is still finite (the loss itself overflowed)';
  return `training diverged at step ${c.step} (epoch ${c.epoch}): ${what}; ${located}. Try a lower learning rate (this run used lr ${c.lr}).`;
}
