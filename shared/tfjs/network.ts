import * as tf from '@tensorflow/tfjs';
import { initializeParams } from '../engine/init';
import { descriptorOf } from '../engine/layers/registry';
import { takesDecay } from '../engine/layers/descriptor';
import { Rng } from '../engine/rng';
import type { ResolvedLayer, ResolvedNetwork } from '../engine/spec';
import { sizeOf } from '../engine/types';

/** A trainable weight of the tfjs model under its scratch-engine name (`conv1d_1/kernel`). */
export interface TfjsParam {
  name: string;
  shape: number[];
  variable: tf.Variable;
  /** Kernels take L2 weight decay, biases do not (as in the scratch engine). */
  decay: boolean;
}

export interface TfjsNetwork {
  model: tf.Sequential;
  /** The trained weights (what tf.variableGrads and the optimizer see). */
  params: TfjsParam[];
  /** Every weight, trained and state (batch norm's moving statistics), in the resolved spec's order. */
  weights: TfjsParam[];
}

/**
 * The tfjs-layers layer for one resolved layer, under the scratch engine's name, as its
 * descriptor builds it.
 */
function toTfLayer(resolved: ResolvedLayer, inputShape: number[] | undefined, dropoutRng: Rng): tf.layers.Layer {
  const c = resolved.config;
  return descriptorOf(c.type).tfjs(
    tf,
    c,
    { name: c.name, ...(inputShape ? { inputShape } : {}) },
    { dropout: dropoutRng },
  );
}

/**
 * Builds the tfjs model of a resolved spec with the initial weights the scratch engine draws
 * for the same seed (the shared Glorot initialiser on the same "init" stream, in the same
 * param order), and the dropout masks of its "dropout" stream.
 */
export function buildTfjsNetwork(resolved: ResolvedNetwork, seed: number): TfjsNetwork {
  const dropoutRng = Rng.derive(seed, 'dropout');
  const model = tf.sequential({ name: 'lockstep' });
  resolved.layers.forEach((l, i) => model.add(toTfLayer(l, i === 0 ? l.inputShape : undefined, dropoutRng)));
  const weights = resolved.layers.flatMap((l, i) => {
    const variables = model.layers[i].weights;
    return l.params.map((p) => {
      const w = variables.find((v) => v.originalName === p.name);
      if (!w)
        throw new Error(
          `tfjs layer ${l.config.name} has no weight ${p.name} (it has ${variables.map((v) => v.originalName).join(', ')})`,
        );
      const param: TfjsParam = {
        name: p.name,
        shape: p.shape,
        variable: w.read() as tf.Variable,
        decay: takesDecay(p),
      };
      return { spec: p, param };
    });
  });
  const trained = weights.filter((w) => w.spec.trainable !== false);
  const initial = trained.map((w) => ({
    shape: w.spec.shape,
    value: new Float32Array(sizeOf(w.spec.shape)),
    fill: w.spec.fill,
  }));
  initializeParams(initial, Rng.derive(seed, 'init'));
  trained.forEach((w, i) => assignValues(w.param, initial[i].value));
  // State starts as in the scratch engine (moving mean 0, moving variance 1: tfjs's defaults too).
  const state = weights.filter((w) => w.spec.trainable === false);
  for (const w of state) assignValues(w.param, new Float32Array(sizeOf(w.spec.shape)).fill(w.spec.fill ?? 0));
  return { model, params: trained.map((w) => w.param), weights: weights.map((w) => w.param) };
}

/** Writes float32 values into a param exactly (no rounding: they already are float32). */
export function assignValues(p: TfjsParam, values: ArrayLike<number>): void {
  if (values.length !== sizeOf(p.shape))
    throw new Error(`setWeights: ${p.name} has ${values.length} values, expected ${sizeOf(p.shape)}`);
  tf.tidy(() => p.variable.assign(tf.tensor(Float32Array.from(values), p.shape, 'float32')));
}
