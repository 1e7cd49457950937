import { z } from 'zod';
import { window1d } from '../window1d';
import { sequenceInput, type Inferred, type LayerConfigOf } from './descriptor';
import { intField, paddingField } from './fields';
import { kerasCommon, type KerasLayer } from './keras';

/** What MaxPooling1D and AveragePooling1D share: their options (strides default to poolSize, as in Keras) and shapes. */
export const poolSchema = z
  .object({ poolSize: intField({ default: 2 }), strides: intField({ fallback: 'pool' }), padding: paddingField() })
  .transform((c) => ({ poolSize: c.poolSize, strides: c.strides ?? c.poolSize, padding: c.padding }));

export type Pool1DConfig = LayerConfigOf<'MaxPooling1D' | 'AveragePooling1D', z.output<typeof poolSchema>>;

export function inferPool(config: Pool1DConfig, inputShape: number[], fail: (message: string) => never): Inferred {
  const [length, channels] = sequenceInput(inputShape, fail);
  if (config.padding === 'valid' && config.poolSize > length)
    fail(`poolSize ${config.poolSize} is longer than its input length ${length}`);
  const { outLength } = window1d(length, config.poolSize, config.strides, config.padding);
  return { outputShape: [outLength, channels], params: [] };
}

/** The tfjs-layers / Keras options of a pool. */
export const poolOptions = (c: Pool1DConfig) => ({ poolSize: c.poolSize, strides: c.strides, padding: c.padding });

export function kerasPool(c: Pool1DConfig): KerasLayer[] {
  return [
    {
      class_name: c.type,
      config: { ...kerasCommon(c.name), pool_size: [c.poolSize], strides: [c.strides], padding: c.padding },
    },
  ];
}

/** The pools run on the kernels when the channels fill whole vectors of 4; the reference layers otherwise. */
export function poolHasKernel(inputShape: readonly number[]): boolean {
  return inputShape[1] % 4 === 0;
}
