import katex from 'katex';
import { describe, expect, it } from 'vitest';
import { labFormula } from './formulas';
import { buildLabProblem, LAB_KINDS, type LabKind } from './problem';

const LAYER: Record<LabKind, Record<string, unknown>> = {
  Softmax: {},
  SoftmaxNLL: {},
  AveragePooling1D: { poolSize: 3, strides: 2, padding: 'same' },
  MaxPooling1D: { poolSize: 3 },
  Conv1D: { filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu' },
  Dense: { units: 3, activation: 'tanh' },
  Activation: { activation: 'sigmoid' },
  Flatten: {},
  TimeSum: {},
  GlobalAveragePooling1D: {},
  Dropout: { rate: 0.25 },
  BatchNormalization: { epsilon: 0.01 },
};

describe('labFormula', () => {
  for (const kind of LAB_KINDS) {
    it(`${kind}: definition, derivative and sizes are valid TeX`, () => {
      const f = labFormula(
        buildLabProblem({ kind, length: 7, channels: 2, layer: LAYER[kind], seed: 1, makeTies: false }),
      );
      for (const tex of [f.definition, f.derivative, f.sizes])
        expect(() => katex.renderToString(tex, { throwOnError: true })).not.toThrow();
    });
  }

  it('states the current geometry: same-padded pooling of L = 7 by W = 3, s = 2 pads p = 1 and gives T = 4', () => {
    const f = labFormula(
      buildLabProblem({
        kind: 'AveragePooling1D',
        length: 7,
        channels: 2,
        layer: LAYER.AveragePooling1D,
        seed: 1,
        makeTies: false,
      }),
    );
    expect(f.sizes).toBe('L = 7,\\ C = 2,\\ W = 3,\\ s = 2,\\ p = 1,\\ T = 4');
  });

  it("writes each activation's derivative in terms of y, as the engine does", () => {
    const f = labFormula(
      buildLabProblem({
        kind: 'Dense',
        length: 2,
        channels: 2,
        layer: { units: 2, activation: 'sigmoid' },
        seed: 1,
        makeTies: false,
      }),
    );
    expect(f.derivative).toContain("\\operatorname{act}' = y(1-y)");
  });

  it('average pooling differentiates to +1/n_i over the window (the 2016 write-up had −1/W over W+1 elements)', () => {
    const f = labFormula(
      buildLabProblem({
        kind: 'AveragePooling1D',
        length: 7,
        channels: 1,
        layer: LAYER.AveragePooling1D,
        seed: 1,
        makeTies: false,
      }),
    );
    expect(f.derivative).toMatch(
      /^\\frac\{\\partial y\[i,c\]\}\{\\partial x\[j,c'\]\} = \\delta_\{cc'\}\\,\\frac\{\[\\,j \\in \\mathcal W\(i\)\\,\]\}\{n_i\}$/,
    );
    expect(f.definition).toContain('0 \\le w \\le W-1');
  });
});
