import { describe, expect, it } from 'vitest';
import { PRESETS } from './presets';
import { networkName, runName } from './run-name';

describe('runName', () => {
  const tdnn = PRESETS.get('tdnn')!.spec.layers;

  it('names the network by its preset, whatever the key order, else "custom"', () => {
    const reordered = tdnn.map((layer) => Object.fromEntries(Object.entries(layer).reverse()));
    expect(networkName(reordered)).toBe('tdnn');
    expect(networkName(PRESETS.get('fnn-50-relu')!.spec.layers)).toBe('fnn-50-relu');
    expect(networkName([...tdnn, { type: 'Activation', activation: 'relu' }])).toBe('custom');
  });

  it('names the network, the engine (with the backend where tfjs runs) and the data', () => {
    const scratch = runName({ layers: tdnn, engine: 'scratch', backend: 'cpu', datasetName: 'demo' });
    expect(scratch).toBe('tdnn · scratch · demo');
    const tfjs = runName({ layers: tdnn, engine: 'tfjs', backend: 'wasm', datasetName: 'ee-set' });
    expect(tfjs).toBe('tdnn · tfjs/wasm · ee-set');
    expect(
      runName({ layers: tdnn, engine: 'lockstep', backend: 'cpu', datasetName: 'd', context: 'course tdnn-sum' }),
    ).toBe('course tdnn-sum · tdnn · lockstep/cpu · d');
  });
});
