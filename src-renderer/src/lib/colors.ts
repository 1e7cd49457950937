/** A perceptual sequential colour map (viridis, 9 stops, linearly interpolated): t in [0, 1] → RGB. */
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

export function heatColor(t: number): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1) : 0;
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i],
    b = VIRIDIS[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** A white → blue ramp for the confusion matrix, with text colour that stays readable. */
export function confusionColor(t: number): { background: string; color: string } {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const r = Math.round(255 + (30 - 255) * x),
    g = Math.round(255 + (78 - 255) * x),
    b = Math.round(255 + (196 - 255) * x);
  return { background: `rgb(${r}, ${g}, ${b})`, color: x > 0.55 ? '#fff' : '#1d2330' };
}
