import { describe, expect, it } from 'vitest';
import { divergenceDatasets, epochDatasets, hasDivergence, lossDatasets } from './charts';
import { appendEpochs, appendSteps, emptySeries, lockstepVerdict, mergeNewer, seriesFromDetail } from './series';

function bigSeries(n: number) {
  const s = emptySeries('r1');
  const points = Array.from({ length: n }, (_, i) => ({
    step: i + 1,
    losses: {
      scratch: 2 * Math.exp(-i / 5000) + 0.1 * Math.sin(i),
      tfjs: 2 * Math.exp(-i / 5000) + 0.1 * Math.sin(i) + 1e-6,
    },
    maxAbsWeightDiff: i % 10 === 0 ? 1e-6 * (1 + i / n) : undefined,
  }));
  appendSteps(s, points);
  return s;
}

describe('series', () => {
  it('appends steps once, in order, per engine', () => {
    const s = emptySeries('r');
    appendSteps(s, [
      { step: 1, losses: { scratch: 2 } },
      { step: 2, losses: { scratch: 1.5 } },
    ]);
    appendSteps(s, [
      { step: 2, losses: { scratch: 9 } },
      { step: 3, losses: { scratch: 1, tfjs: 1.1 }, maxAbsWeightDiff: 1e-7 },
    ]);
    expect(s.steps).toEqual([1, 2, 3]);
    expect(s.engines).toEqual(['scratch', 'tfjs']);
    expect(s.losses.get('scratch')).toEqual([2, 1.5, 1]);
    expect(s.losses.get('tfjs')).toEqual([NaN, NaN, 1.1]);
    expect(s.lossDiff[2]).toBeCloseTo(0.1);
    expect(s.weightDiff).toEqual([NaN, NaN, 1e-7]);
  });

  it('rebuilds from runs.get and keeps newer live steps', () => {
    const detail = {
      id: 'r',
      steps: [
        { step: 2, losses: { a: 2 } },
        { step: 1, losses: { a: 1 } },
      ],
      epochs: [{ epoch: 1, engine: 'a', trainLoss: 1, trainAccuracy: 0.5, ms: 1 }],
    };
    const fresh = seriesFromDetail(detail as never);
    expect(fresh.steps).toEqual([1, 2]);
    const live = emptySeries('r');
    appendSteps(live, [
      { step: 1, losses: { a: 1 } },
      { step: 2, losses: { a: 2 } },
      { step: 3, losses: { a: 3 } },
    ]);
    appendEpochs(live, [{ epoch: 2, engine: 'a', trainLoss: 1, trainAccuracy: 0.6, ms: 1 }]);
    mergeNewer(fresh, live);
    expect(fresh.steps).toEqual([1, 2, 3]);
    expect(fresh.epochs.map((e) => e.epoch)).toEqual([1, 2]);
  });
});

describe('chart datasets', () => {
  it('draw 100k steps of two engines as a few thousand points, quickly', () => {
    const s = bigSeries(100_000);
    const t0 = performance.now();
    const loss = lossDatasets([{ series: s, label: 'run' }], 0.9, 800);
    const div = divergenceDatasets([{ series: s, label: 'run' }], 800);
    const ms = performance.now() - t0;
    expect(loss).toHaveLength(4); // raw + smoothed per engine
    for (const d of [...loss, ...div]) expect(d.data.length).toBeLessThanOrEqual(4 * 800);
    expect(ms).toBeLessThan(1000);
    expect(hasDivergence([{ series: s, label: 'run' }])).toBe(true);
    // Plain objects only (chart.js must never get a Svelte proxy).
    expect(Object.getPrototypeOf(loss[0].data[0])).toBe(Object.prototype);
  });

  it('legend: smoothed curves named by engine, raw ones hidden unless unsmoothed', () => {
    const s = bigSeries(100);
    const smoothed = lossDatasets([{ series: s, label: 'run' }], 0.6, 100);
    expect(smoothed.filter((d) => d.legend !== false).map((d) => d.label)).toEqual([
      'scratch (smoothed)',
      'tfjs (smoothed)',
    ]);
    const raw = lossDatasets([{ series: s, label: 'run' }], 0, 100);
    expect(raw.map((d) => d.label)).toEqual(['scratch (raw)', 'tfjs (raw)']);
    expect(raw.every((d) => d.legend !== false)).toBe(true);
  });

  it('per-epoch datasets name the runs when overlaid', () => {
    const a = emptySeries('a');
    appendEpochs(a, [
      { epoch: 1, engine: 'scratch', trainLoss: 2, trainAccuracy: 0.3, devLoss: 2.1, devAccuracy: 0.25, ms: 5 },
    ]);
    const b = emptySeries('b');
    appendEpochs(b, [{ epoch: 1, engine: 'scratch', trainLoss: 1, trainAccuracy: 0.6, ms: 5 }]);
    const ds = epochDatasets([
      { series: a, label: 'A' },
      { series: b, label: 'B' },
    ]);
    const curves = ['train loss', 'dev loss', 'train acc', 'dev acc'];
    expect(ds.map((d) => d.legendText)).toEqual([
      ...curves.map((c) => `A · scratch ${c}`),
      ...curves.map((c) => `B · scratch ${c}`),
    ]);
    expect(ds.find((d) => d.label === 'A · scratch dev acc')?.data).toEqual([{ x: 1, y: 0.25 }]);
    expect(ds.find((d) => d.label === 'B · scratch dev acc')?.data).toEqual([]);
  });

  it("gives the epoch chart's loss/accuracy × train/dev curves four distinct colours; a second run differs by dash", () => {
    const a = emptySeries('a');
    appendEpochs(a, [
      { epoch: 1, engine: 'scratch', trainLoss: 2, trainAccuracy: 0.3, devLoss: 2.1, devAccuracy: 0.25, ms: 5 },
    ]);
    const one = epochDatasets([{ series: a, label: 'A' }]);
    expect(one.map((d) => d.legendText)).toEqual(['train loss', 'dev loss', 'train acc', 'dev acc']);
    expect(new Set(one.map((d) => d.borderColor)).size).toBe(4);
    expect(one.every((d) => d.borderDash === undefined)).toBe(true);
    const two = epochDatasets([
      { series: a, label: 'A' },
      { series: a, label: 'B' },
    ]);
    expect(two.slice(4).map((d) => d.borderColor)).toEqual(one.map((d) => d.borderColor));
    expect(two.slice(4).every((d) => Array.isArray(d.borderDash))).toBe(true);
  });

  it('judges a lockstep run from its per-step losses against the bound', () => {
    const s = emptySeries('l');
    appendSteps(
      s,
      [1, 2, 3].map((step) => ({ step, losses: { scratch: 2, 'tfjs-cpu': 2 * (1 + step * 1e-5) } })),
    );
    const agree = lockstepVerdict(s)!;
    expect(agree).toMatchObject({ engines: ['scratch', 'tfjs-cpu'], bound: 1e-4, steps: 3, firstStepOver: null });
    expect(agree.maxRelLossDiff).toBeCloseTo(3e-5 / (1 + 3e-5), 12);
    appendSteps(s, [{ step: 4, losses: { scratch: 2, 'tfjs-cpu': 2.01 } }]);
    expect(lockstepVerdict(s)).toMatchObject({ steps: 4, firstStepOver: 4 });
    const single = emptySeries('x');
    appendSteps(single, [{ step: 1, losses: { scratch: 1 } }]);
    expect(lockstepVerdict(single)).toBeNull();
  });
});
