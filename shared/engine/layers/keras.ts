/**
 * What a layer descriptor writes into a Keras / TensorFlow.js LayersModel topology
 * (src-main/export/tfjs.ts assembles the model from these, layer by layer).
 */
export interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}

/** How an export wrote one TimeSum layer, recorded in metadata.json to be undone on import. */
export type TimeSumMapping =
  | { layer: string; exportedAs: 'GlobalAveragePooling1D'; scale: number; scaledKernel: string }
  | { layer: string; exportedAs: 'GlobalAveragePooling1D'; scale: number; scaleLayer: string };

export const GLOROT = { class_name: 'GlorotUniform', config: { seed: null } };
export const ZEROS = { class_name: 'Zeros', config: {} };
export const ONES = { class_name: 'Ones', config: {} };
export const NO_EXTRAS = {
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
};

/** The keys every exported layer's config starts with. */
export const kerasCommon = (name: string) => ({ name, trainable: true, dtype: 'float32' });

/** The keys a kernel-and-bias layer's config ends with (Conv1D, Dense): its activation, bias and initialisers. */
export const kerasWeighted = (c: { activation: string; useBias: boolean }) => ({
  activation: c.activation,
  use_bias: c.useBias,
  kernel_initializer: GLOROT,
  bias_initializer: ZEROS,
  ...NO_EXTRAS,
});
