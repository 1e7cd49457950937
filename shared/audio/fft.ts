/**
 * A real FFT of a power-of-two length n: the n real inputs are packed as n/2 complex values
 * (even samples real, odd imaginary), transformed by an iterative radix-2 FFT, and unpacked into
 * the n/2 + 1 bins of the real signal's spectrum. Tables and buffers are built once per size.
 */
export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly bitReverse: Uint32Array;
  /** cos and sin of -2πk/half, k < half/2: the half-size transform's twiddles. */
  private readonly cosHalf: Float64Array;
  private readonly sinHalf: Float64Array;
  /** cos and sin of -2πk/n, k ≤ n/2: the unpacking twiddles. */
  private readonly cosFull: Float64Array;
  private readonly sinFull: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(Math.log2(size)) || size < 4) {
      throw new Error(`RealFft: size must be a power of two ≥ 4, got ${size}`);
    }
    this.size = size;
    const half = (this.half = size / 2);
    const bits = Math.log2(half);
    this.bitReverse = new Uint32Array(half);
    for (let i = 0; i < half; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitReverse[i] = r;
    }
    this.cosHalf = new Float64Array(half / 2);
    this.sinHalf = new Float64Array(half / 2);
    for (let k = 0; k < half / 2; k++) {
      this.cosHalf[k] = Math.cos((-2 * Math.PI * k) / half);
      this.sinHalf[k] = Math.sin((-2 * Math.PI * k) / half);
    }
    this.cosFull = new Float64Array(half + 1);
    this.sinFull = new Float64Array(half + 1);
    for (let k = 0; k <= half; k++) {
      this.cosFull[k] = Math.cos((-2 * Math.PI * k) / size);
      this.sinFull[k] = Math.sin((-2 * Math.PI * k) / size);
    }
    this.re = new Float64Array(half);
    this.im = new Float64Array(half);
  }

  /**
   * Writes |X[k]|² for k = 0 … n/2 into `power` (length n/2 + 1), X the DFT of `input`
   * (length n): X[k] = Σ x[t]·e^(−2πikt/n).
   */
  powerSpectrum(input: Float64Array, power: Float64Array): void {
    const { half, re, im, bitReverse, cosHalf, sinHalf, cosFull, sinFull } = this;
    for (let i = 0; i < half; i++) {
      const j = bitReverse[i];
      re[j] = input[2 * i];
      im[j] = input[2 * i + 1];
    }
    for (let len = 2; len <= half; len <<= 1) {
      const step = half / len;
      const mid = len >> 1;
      for (let start = 0; start < half; start += len) {
        for (let k = 0; k < mid; k++) {
          const wr = cosHalf[k * step];
          const wi = sinHalf[k * step];
          const a = start + k;
          const b = a + mid;
          const tr = re[b] * wr - im[b] * wi;
          const ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
    // Unpack: with Z the packed transform, E[k] = (Z[k] + conj Z[half−k]) / 2 is the even samples'
    // DFT, O[k] = (Z[k] − conj Z[half−k]) / 2i the odd ones', and X[k] = E[k] + e^(−2πik/n)·O[k].
    for (let k = 0; k <= half; k++) {
      const a = k % half;
      const b = (half - k) % half;
      const zr = re[a];
      const zi = im[a];
      const cr = re[b];
      const ci = -im[b];
      const er = (zr + cr) / 2;
      const ei = (zi + ci) / 2;
      const or = (zi - ci) / 2;
      const oi = -(zr - cr) / 2;
      const wr = cosFull[k];
      const wi = sinFull[k];
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      power[k] = xr * xr + xi * xi;
    }
  }
}
