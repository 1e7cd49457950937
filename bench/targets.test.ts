import { describe, expect, it } from 'vitest';
import { checkTargets } from './targets';

describe('checkTargets', () => {
  const base = { loadMs: 250, peakRssMb: { scratch: 120 }, audioMsPerSecond: 2.5 };

  it('compares each ratio with its bound, pair by pair', () => {
    const checks = checkTargets({
      ...base,
      msPerEpoch: {
        tdnn: { scratch: 100, torch: 110, 'tfjs-wasm': 310, 'tfjs-cpu': 1900 },
        'fnn-50-tanh': { scratch: 130, torch: 60, 'tfjs-wasm': 400, 'tfjs-cpu': 3000 },
        best: { scratch: 500, torch: 300, 'tfjs-wasm': 1400, 'tfjs-cpu': 20000 },
      },
    });
    const met = Object.fromEntries(checks.map((c) => [c.target, c.met]));
    expect(met['tdnn: scratch / torch ≤ 1']).toBe(true);
    expect(met['tdnn: scratch / tfjs-wasm ≤ 1/3']).toBe(true);
    expect(met['tdnn: scratch / tfjs-cpu ≤ 1/20']).toBe(false); // 100/1900 > 1/20
    expect(met['fnn-50-tanh: scratch / torch ≤ 1']).toBe(false); // 130/60 > 1
    expect(met['best: scratch / torch ≤ 1']).toBe(false); // 500/300 > 1
    expect(met['best: scratch / tfjs-wasm ≤ 1/3']).toBe(false);
    expect(met['train split load ms ≤ 300']).toBe(true);
    expect(met['scratch process peak RSS MB ≤ 150']).toBe(true);
    expect(met['audio front end ms per s of 16 kHz audio ≤ 2']).toBe(false);
  });

  it('reports a target without its measurements as unknown, not met', () => {
    const checks = checkTargets({ msPerEpoch: { tdnn: { scratch: 100, torch: null } }, loadMs: null, peakRssMb: {} });
    expect(checks.find((c) => c.target === 'tdnn: scratch / torch ≤ 1')).toMatchObject({ value: null, met: null });
    expect(checks.find((c) => c.target === 'train split load ms ≤ 300')?.met).toBeNull();
    expect(checks.find((c) => c.target.startsWith('audio front end'))?.met).toBeNull();
    expect(checks.find((c) => c.target.startsWith('best: scratch / torch'))?.met).toBeNull();
  });
});
