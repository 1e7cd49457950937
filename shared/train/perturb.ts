import { Rng } from '../engine/rng';

/**
 * The weights, each moved by one float32 ulp, up or down at random (seeded): two states one
 * rounding apart. Training from both and comparing measures what rounding alone, amplified by
 * the training dynamics, does — a sample of the null model per seed. Exact zeros (biases and
 * BatchNormalization offsets at initialisation) stay zero: they carry no rounding.
 */
export function nudgedByOneUlp(weights: ReadonlyMap<string, Float32Array>, seed: number): Map<string, Float32Array> {
  const rng = Rng.derive(seed, 'ulp');
  const nudged = new Map<string, Float32Array>();
  for (const [name, w] of weights) {
    const x = Float32Array.from(w);
    // A finite float32's neighbours are its bit pattern ± 1 (+1 away from zero, −1 towards it).
    const bits = new Int32Array(x.buffer);
    for (let i = 0; i < x.length; i++) if (x[i] !== 0) bits[i] += rng.next() < 0.5 ? 1 : -1;
    nudged.set(name, x);
  }
  return nudged;
}
