import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../../shared/presets';
import {
  addLayer,
  analyzeSpec,
  changeLayerType,
  errorLayerIndex,
  moveLayer,
  parseSpecFile,
  removeLayer,
  setLayerField,
  specToJson,
  withInput,
  type EditableSpec,
} from './spec-ops';

const tdnn = (): EditableSpec => JSON.parse(JSON.stringify(PRESETS.get('tdnn')!.spec)) as EditableSpec;

describe('spec editor operations', () => {
  it('adds a layer before the softmax output by default, without touching the original', () => {
    const spec = tdnn();
    const { spec: next, index } = addLayer(spec, 'MaxPooling1D');
    expect(index).toBe(3);
    expect(next.layers.map((l) => l.type)).toEqual(['Conv1D', 'Conv1D', 'TimeSum', 'MaxPooling1D', 'Dense']);
    expect(spec.layers).toHaveLength(4);
  });

  it('adds at an explicit index, and at the end when there is no output layer', () => {
    expect(addLayer(tdnn(), 'Dropout', 0).spec.layers[0]).toEqual({ type: 'Dropout', rate: 0.2 });
    const noOut: EditableSpec = { input: [70, 16], layers: [{ type: 'Flatten' }] };
    expect(addLayer(noOut, 'Dense').index).toBe(1);
  });

  it('removes and moves layers; out-of-range moves are no-ops', () => {
    const spec = tdnn();
    expect(removeLayer(spec, 2).layers.map((l) => l.type)).toEqual(['Conv1D', 'Conv1D', 'Dense']);
    const moved = moveLayer(spec, 2, -1);
    expect(moved.layers.map((l) => l.type)).toEqual(['Conv1D', 'TimeSum', 'Conv1D', 'Dense']);
    expect(moveLayer(spec, 0, -1)).toBe(spec);
    expect(moveLayer(spec, 3, 1)).toBe(spec);
  });

  it('sets and clears fields (clearing falls back to the tfjs default)', () => {
    let spec = setLayerField(tdnn(), 0, 'strides', 2);
    expect(spec.layers[0].strides).toBe(2);
    spec = setLayerField(spec, 0, 'strides', undefined);
    expect('strides' in spec.layers[0]).toBe(false);
    spec = setLayerField(spec, 0, 'filters', Number.NaN);
    expect('filters' in spec.layers[0]).toBe(false);
  });

  it('changes a layer type keeping shared keys and the name', () => {
    let spec = setLayerField(tdnn(), 0, 'name', 'front');
    spec = changeLayerType(spec, 0, 'Dense');
    expect(spec.layers[0]).toEqual({ type: 'Dense', units: 9, activation: 'sigmoid', name: 'front' });
    spec = changeLayerType(spec, 0, 'MaxPooling1D');
    expect(spec.layers[0]).toEqual({ type: 'MaxPooling1D', poolSize: 2, name: 'front' });
  });

  it('withInput keeps identity when nothing changes', () => {
    const spec = tdnn();
    expect(withInput(spec, [70, 16])).toBe(spec);
    expect(withInput(spec, [50, 16]).input).toEqual([50, 16]);
  });
});

describe('analyzeSpec', () => {
  it('gives every shape and parameter count of the TDNN', () => {
    const a = analyzeSpec(tdnn(), 9);
    expect(a.error).toBeNull();
    expect(a.layers.map((l) => l.outputShape)).toEqual([[68, 8], [64, 3], [3], [9]]);
    expect(a.layers.map((l) => l.paramCount)).toEqual([3 * 16 * 8 + 8, 5 * 8 * 3 + 3, 0, 3 * 9 + 9]);
    expect(a.paramCount).toBe(392 + 123 + 36);
  });

  it('explains an invalid network and still shapes the layers before the error', () => {
    const spec = removeLayer(tdnn(), 2); // no TimeSum: Dense gets a sequence
    const a = analyzeSpec(spec, 9);
    expect(a.error).toMatch(/^layer 3 Dense: expects a flat input/);
    expect(a.errorLayer).toBe(2);
    expect(a.layers.map((l) => l.outputShape)).toEqual([
      [68, 8],
      [64, 3],
    ]);
    expect(a.network).toBeNull();
  });

  it('reports a missing required key', () => {
    const a = analyzeSpec(setLayerField(tdnn(), 1, 'kernelSize', undefined), 9);
    expect(a.error).toMatch(/layer 2 Conv1D: kernelSize is required/);
    expect(a.layers).toHaveLength(1);
  });

  it('checks the class count against the dataset', () => {
    expect(analyzeSpec(tdnn(), 5).error).toMatch(/units 9 must equal the number of classes, 5/);
  });

  it('requires a softmax output', () => {
    const a = analyzeSpec(setLayerField(tdnn(), 3, 'activation', 'relu'), 9);
    expect(a.error).toMatch(/last layer must be a Dense layer with activation 'softmax'/);
    expect(a.layers).toHaveLength(4);
  });

  it('finds the layer a message names', () => {
    expect(errorLayerIndex('layer 12 Conv1D: x')).toBe(11);
    expect(errorLayerIndex('network spec: x')).toBeNull();
  });
});

describe('spec files', () => {
  it('round-trips through JSON', () => {
    const spec = tdnn();
    expect(parseSpecFile(specToJson(spec)).spec).toEqual(spec);
  });

  it('reads a preset-shaped file with its training settings', () => {
    const preset = PRESETS.get('fnn-10-relu')!;
    const { spec, training } = parseSpecFile(JSON.stringify(preset));
    expect(spec.layers[0].type).toBe('Flatten');
    expect(training?.optimizer).toBe(preset.training.optimizer);
  });

  it('rejects what is not a spec, with a message', () => {
    expect(() => parseSpecFile('{nope')).toThrow(/not valid JSON/);
    expect(() => parseSpecFile('[1,2]')).toThrow(/input.*layers/);
    expect(() => parseSpecFile('{"input":[70,16],"layers":[3]}')).toThrow(/layer 1: expected an object/);
  });
});
