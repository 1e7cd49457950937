/** The speed and memory targets (issues 5, 14 and 20), checked against one benchmark run's medians. */
export interface TargetInput {
  /** ms per epoch (median) by network, then engine; null where the engine did not run. */
  msPerEpoch: Record<string, Record<string, number | null>>;
  loadMs: number | null;
  peakRssMb: Record<string, number | null>;
  /** The audio front end's ms per second of 16 kHz audio (issue 14: ≥ 500× real time). */
  audioMsPerSecond?: number | null;
}

export interface TargetCheck {
  target: string;
  /** The measured ratio or value the target bounds. */
  value: number | null;
  bound: number;
  /** null when a needed measurement is missing. */
  met: boolean | null;
}

const COURSE_NETWORKS = ['tdnn', 'fnn-50-tanh', 'best'];

export function checkTargets({ msPerEpoch, loadMs, peakRssMb, audioMsPerSecond }: TargetInput): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const atMost = (target: string, value: number | null | undefined, bound: number): void => {
    const v = value ?? null;
    checks.push({
      target,
      value: v === null ? null : Math.round(v * 1000) / 1000,
      bound,
      met: v === null ? null : v <= bound,
    });
  };
  const ratio = (model: string, engine: string, base: string): number | null => {
    const a = msPerEpoch[model]?.[engine],
      b = msPerEpoch[model]?.[base];
    return a != null && b != null && b > 0 ? a / b : null;
  };
  for (const model of COURSE_NETWORKS) {
    atMost(`${model}: scratch / torch ≤ 1`, ratio(model, 'scratch', 'torch'), 1);
    atMost(`${model}: scratch / tfjs-wasm ≤ 1/3`, ratio(model, 'scratch', 'tfjs-wasm'), 1 / 3);
    atMost(`${model}: scratch / tfjs-cpu ≤ 1/20`, ratio(model, 'scratch', 'tfjs-cpu'), 1 / 20);
  }
  atMost('train split load ms ≤ 300', loadMs, 300);
  atMost('scratch process peak RSS MB ≤ 150', peakRssMb.scratch, 150);
  atMost('audio front end ms per s of 16 kHz audio ≤ 2', audioMsPerSecond, 2);
  return checks;
}
