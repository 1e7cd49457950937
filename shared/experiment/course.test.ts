import { describe, expect, it } from 'vitest';
import { resolveSpec } from '../engine/spec';
import { PRESETS } from '../presets';
import { COURSE_EXPERIMENT } from './course';
import { expandExperiment } from './grid';

describe('the built-in course experiment', () => {
  const plan = expandExperiment(COURSE_EXPERIMENT);

  it('is the six FNNs of the assignment grid and the TDNN with both outputs, each on both engines', () => {
    expect(plan.runs).toHaveLength(16);
    expect(plan.runs.map((r) => `${r.label} ${r.engineId}`)).toEqual(
      [
        'fnn hidden=10 activation=sigmoid',
        'fnn hidden=10 activation=tanh',
        'fnn hidden=10 activation=relu',
        'fnn hidden=50 activation=sigmoid',
        'fnn hidden=50 activation=tanh',
        'fnn hidden=50 activation=relu',
        'tdnn output=sum',
        'tdnn output=flatten',
      ].flatMap((l) => [`${l} scratch`, `${l} tfjs-wasm`]),
    );
  });

  it('trains each FNN exactly as its fnn-<hidden>-<activation> preset says', () => {
    for (const r of plan.runs.filter((x) => x.part === 'fnn')) {
      const preset = PRESETS.get(`fnn-${r.axes.hidden}-${r.axes.activation}`)!;
      expect(r.spec).toEqual(preset.spec);
      expect(r.settings).toEqual(preset.training);
    }
  });

  it('has the TDNN preset as its sum variant and the same layers flattened as the other', () => {
    const tdnn = PRESETS.get('tdnn')!;
    const [sum, flat] = [
      plan.runs.find((r) => r.label === 'tdnn output=sum')!,
      plan.runs.find((r) => r.label === 'tdnn output=flatten')!,
    ];
    expect(sum.spec).toEqual(tdnn.spec);
    expect(sum.settings).toEqual(tdnn.training);
    expect(flat.spec.layers.map((l) => l.type)).toEqual(['Conv1D', 'Conv1D', 'Flatten', 'Dense']);
    // 70 frames → 68 after kernel 3 → 64 after kernel 5; flattened 64 × 3 = 192 inputs to the output layer.
    const net = resolveSpec(flat.spec, 9);
    expect(net.layers.map((l) => l.outputShape)).toEqual([[68, 8], [64, 3], [192], [9]]);
    expect(net.paramCount).toBe(3 * 16 * 8 + 8 + 5 * 8 * 3 + 3 + 192 * 9 + 9);
    expect(resolveSpec(sum.spec, 9).paramCount).toBe(3 * 16 * 8 + 8 + 5 * 8 * 3 + 3 + 3 * 9 + 9);
  });

  it('times the 10- and 50-unit networks on both engines at batch sizes 1 to 200', () => {
    expect(plan.timing.map((t) => `${t.label} ${t.engineId}`)).toEqual([
      'fnn hidden=10 activation=tanh scratch',
      'fnn hidden=10 activation=tanh tfjs-wasm',
      'fnn hidden=50 activation=tanh scratch',
      'fnn hidden=50 activation=tanh tfjs-wasm',
    ]);
    expect(plan.timing.every((t) => t.batchSizes.join() === '1,10,50,200')).toBe(true);
  });
});
