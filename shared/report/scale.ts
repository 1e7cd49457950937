/** Axis scales for the report's charts: linear with "nice" 1-2-5 ticks, or logarithmic with decade ticks. */
export interface Scale {
  (value: number): number;
  domain: [number, number];
  ticks: number[];
  format(value: number): string;
  log: boolean;
}

/** Ticks at a 1, 2 or 5 × 10^k step covering [lo, hi] with about `count` intervals. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9) * step;
  const last = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; first + i * step <= last + step * 1e-9; i++) ticks.push(Number((first + i * step).toPrecision(12)));
  return ticks;
}

function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

export function linearScale(domain: [number, number], range: [number, number], count = 5): Scale {
  let [lo, hi] = domain;
  if (!(hi > lo)) [lo, hi] = lo === 0 ? [0, 1] : [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  const ticks = niceTicks(lo, hi, count);
  const d0 = Math.min(lo, ticks[0]),
    d1 = Math.max(hi, ticks[ticks.length - 1]);
  const f = ((v: number) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0])) as Scale;
  return Object.assign(f, { domain: [d0, d1] as [number, number], ticks, format: formatNumber, log: false });
}

/** Decades covering the domain (values ≤ 0 have no place on it and must be left out by the caller). */
export function logScale(domain: [number, number], range: [number, number]): Scale {
  const e0 = Math.floor(Math.log10(domain[0]) + 1e-9);
  let e1 = Math.ceil(Math.log10(domain[1]) - 1e-9);
  if (e1 <= e0) e1 = e0 + 1;
  const ticks: number[] = [];
  for (let e = e0; e <= e1; e++) ticks.push(10 ** e);
  const f = ((v: number) => range[0] + ((Math.log10(v) - e0) / (e1 - e0)) * (range[1] - range[0])) as Scale;
  return Object.assign(f, { domain: [10 ** e0, 10 ** e1] as [number, number], ticks, format: formatNumber, log: true });
}
