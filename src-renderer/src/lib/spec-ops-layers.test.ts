import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../../shared/presets';
import { LAYER_FIELDS, LAYER_TYPES, addLayer, analyzeSpec, changeLayerType, type EditableSpec } from './spec-ops';

/** The editor's fields come from the layer descriptors' schemas: keys, kinds and defaults. */
const byKey = (type: keyof typeof LAYER_FIELDS) => Object.fromEntries(LAYER_FIELDS[type].map((f) => [f.key, f]));
const tdnn = (): EditableSpec => JSON.parse(JSON.stringify(PRESETS.get('tdnn')!.spec)) as EditableSpec;

describe('editor fields from the layer schemas', () => {
  it('every option with its kind and default, required where there is none', () => {
    expect(byKey('Conv1D')).toEqual({
      filters: { key: 'filters', label: 'filters', kind: 'int', required: true },
      kernelSize: { key: 'kernelSize', label: 'kernelSize', kind: 'int', required: true },
      strides: { key: 'strides', label: 'strides', kind: 'int', fallback: '1' },
      padding: { key: 'padding', label: 'padding', kind: 'padding', fallback: 'valid' },
      dilationRate: { key: 'dilationRate', label: 'dilationRate', kind: 'int', fallback: '1' },
      activation: { key: 'activation', label: 'activation', kind: 'activation', fallback: 'linear' },
      useBias: { key: 'useBias', label: 'useBias', kind: 'bool', fallback: 'true' },
    });
    expect(LAYER_FIELDS.MaxPooling1D.map((f) => [f.key, f.fallback])).toEqual([
      ['poolSize', '2'],
      ['strides', 'pool'],
      ['padding', 'valid'],
    ]);
    expect(LAYER_FIELDS.Dropout).toEqual([{ key: 'rate', label: 'rate', kind: 'rate', required: true }]);
    expect(LAYER_FIELDS.Activation).toEqual([
      { key: 'activation', label: 'activation', kind: 'activation', required: true },
    ]);
    // epsilon is set in a spec file; the editor shows the momentum only.
    expect(LAYER_FIELDS.BatchNormalization).toEqual([
      { key: 'momentum', label: 'momentum', kind: 'rate', fallback: '0.99' },
    ]);
    for (const type of ['Flatten', 'TimeSum', 'GlobalAveragePooling1D'] as const)
      expect(LAYER_FIELDS[type]).toEqual([]);
  });

  it('offers GlobalMaxPooling1D and LayerNormalization (center and scale; epsilon in a spec file)', () => {
    expect(LAYER_TYPES).toContain('GlobalMaxPooling1D');
    expect(LAYER_TYPES).toContain('LayerNormalization');
    expect(LAYER_FIELDS.GlobalMaxPooling1D).toEqual([]);
    expect(LAYER_FIELDS.LayerNormalization).toEqual([
      { key: 'center', label: 'center', kind: 'bool', fallback: 'true' },
      { key: 'scale', label: 'scale', kind: 'bool', fallback: 'true' },
    ]);
    let spec = changeLayerType(tdnn(), 2, 'GlobalMaxPooling1D');
    spec = addLayer(spec, 'LayerNormalization', 1).spec;
    const a = analyzeSpec(spec, 9);
    expect(a.error).toBeNull();
    expect(a.layers.map((l) => `${l.config.name} ${l.outputShape.join('×')} ${l.paramCount}`)).toEqual([
      'conv1d_1 68×8 392',
      'layer_normalization_1 68×8 16',
      'conv1d_2 64×3 123',
      'global_max_pooling1d_1 3 0',
      'dense_1 9 36',
    ]);
  });
});
