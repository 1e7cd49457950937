import type { LabKind, LabSettings } from '../../../shared/lab/problem';

export const LAB_ACTIVATIONS = ['linear', 'sigmoid', 'tanh', 'relu'] as const;
export type LabActivation = (typeof LAB_ACTIVATIONS)[number];

/**
 * What the gradient lab's controls hold, kept for the session (leaving the tab and coming
 * back finds the same layer, sizes and seed). Each layer type reads only its own fields.
 */
const DEFAULTS = {
  kind: 'MaxPooling1D' as LabKind,
  length: 8,
  channels: 1,
  classes: 5,
  poolSize: 3,
  poolStrides: 1,
  padding: 'valid' as 'valid' | 'same',
  filters: 2,
  kernelSize: 3,
  convStrides: 1,
  dilationRate: 1,
  activation: 'tanh' as LabActivation,
  units: 4,
  rate: 0.5,
  seed: 1,
  makeTies: false,
};

class GradientLabControls {
  kind = $state(DEFAULTS.kind);
  length = $state(DEFAULTS.length);
  channels = $state(DEFAULTS.channels);
  classes = $state(DEFAULTS.classes);
  poolSize = $state(DEFAULTS.poolSize);
  poolStrides = $state(DEFAULTS.poolStrides);
  padding = $state(DEFAULTS.padding);
  filters = $state(DEFAULTS.filters);
  kernelSize = $state(DEFAULTS.kernelSize);
  convStrides = $state(DEFAULTS.convStrides);
  dilationRate = $state(DEFAULTS.dilationRate);
  activation = $state(DEFAULTS.activation);
  units = $state(DEFAULTS.units);
  rate = $state(DEFAULTS.rate);
  seed = $state(DEFAULTS.seed);
  makeTies = $state(DEFAULTS.makeTies);

  /** Back to the opening sizes and seed (L = 8, W = 3, seed 1), keeping the function the user chose. */
  reset(): void {
    Object.assign(this, { ...DEFAULTS, kind: this.kind });
  }

  get isLoss(): boolean {
    return this.kind === 'Softmax' || this.kind === 'SoftmaxNLL';
  }

  get isPool(): boolean {
    return this.kind === 'MaxPooling1D' || this.kind === 'AveragePooling1D';
  }

  /** The layer's options, keyed as in a tfjs-layers config. */
  layerOptions(): Record<string, unknown> {
    switch (this.kind) {
      case 'MaxPooling1D':
      case 'AveragePooling1D':
        return { poolSize: this.poolSize, strides: this.poolStrides, padding: this.padding };
      case 'Conv1D':
        return {
          filters: this.filters,
          kernelSize: this.kernelSize,
          strides: this.convStrides,
          padding: this.padding,
          dilationRate: this.dilationRate,
          activation: this.activation,
        };
      case 'Dense':
        return { units: this.units, activation: this.activation };
      case 'Activation':
        return { activation: this.activation };
      case 'Dropout':
        return { rate: this.rate };
      default:
        return {};
    }
  }

  settings(): LabSettings {
    return {
      kind: this.kind,
      length: this.isLoss ? this.classes : this.length,
      channels: this.isLoss ? 1 : this.channels,
      layer: this.layerOptions(),
      seed: this.seed,
      makeTies: this.kind === 'MaxPooling1D' && this.makeTies,
    };
  }
}

export const labControls = new GradientLabControls();
