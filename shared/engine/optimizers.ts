import { LockstepError } from '../errors';
import { OPTIMIZERS, type OptimizerName } from '../names';
import type { FloatArray, Param } from './types';

/**
 * The optimizers of tfjs, with its update rules and defaults, so a lockstep run can hold
 * both engines to the same arithmetic. Weight decay is L2 on kernels: g ← g + λ·w
 * (the gradient of (λ/2)·Σw², i.e. a Keras l2 regularizer of λ/2).
 */
export { OPTIMIZERS, type OptimizerName };

export interface OptimizerSettings {
  optimizer: OptimizerName;
  lr: number;
  /** momentum: the momentum coefficient (default 0.9); nesterov for Nesterov's variant. */
  momentum?: number;
  nesterov?: boolean;
  /** adam: tfjs defaults beta1 0.9, beta2 0.999, epsilon 1e-7. */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

export interface Optimizer {
  /** Applies one update from each param's current grad. */
  step(): void;
  /** The learning rate can change between steps (schedules). */
  lr: number;
  /** A copy of what it carries from step to step; setState of it into a twin makes both go on alike. */
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
}

/** An optimizer's accumulators (momentum's a; Adam's m, then v; param by param) and scalars (Adam's β1ᵗ, β2ᵗ). */
export interface OptimizerState {
  buffers: FloatArray[];
  scalars: number[];
}

export function copyState(buffers: FloatArray[], scalars: number[]): OptimizerState {
  return { buffers: buffers.map((b) => b.slice()), scalars: [...scalars] };
}

/** Copies a state's buffers into an optimizer's own, once the state is known to be of its shape. */
export function restoreBuffers(buffers: FloatArray[], scalarCount: number, state: OptimizerState): void {
  const fits =
    state.buffers.length === buffers.length &&
    state.scalars.length === scalarCount &&
    state.buffers.every((b, i) => b.length === buffers[i].length);
  if (!fits)
    throw new LockstepError(
      `optimizer state of ${state.buffers.length} buffers and ${state.scalars.length} scalars does not fit this optimizer (${buffers.length} and ${scalarCount})`,
    );
  buffers.forEach((b, i) => b.set(state.buffers[i]));
}

/** Effective gradient g + λ·w for one element. */
function decayed(p: Param, i: number, decay: number): number {
  return p.decay && decay !== 0 ? p.grad[i] + decay * p.value[i] : p.grad[i];
}

/** w ← w − lr·g */
class Sgd implements Optimizer {
  constructor(
    private readonly params: Param[],
    public lr: number,
    private readonly decay: number,
  ) {}

  step(): void {
    for (const p of this.params) {
      const w = p.value;
      for (let i = 0; i < w.length; i++) w[i] -= this.lr * decayed(p, i, this.decay);
    }
  }

  getState(): OptimizerState {
    return copyState([], []);
  }

  setState(state: OptimizerState): void {
    restoreBuffers([], 0, state);
  }
}

/** a ← μ·a + g;  w ← w − lr·a  (Nesterov: w ← w − lr·(g + μ·a)), as tfjs's MomentumOptimizer. */
class Momentum implements Optimizer {
  private readonly accumulators: FloatArray[];

  constructor(
    private readonly params: Param[],
    public lr: number,
    private readonly momentum: number,
    private readonly nesterov: boolean,
    private readonly decay: number,
  ) {
    this.accumulators = params.map((p) => new (p.value.constructor as Float32ArrayConstructor)(p.value.length));
  }

  step(): void {
    const mu = this.momentum;
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j],
        a = this.accumulators[j],
        w = p.value;
      for (let i = 0; i < w.length; i++) {
        const g = decayed(p, i, this.decay);
        a[i] = mu * a[i] + g;
        w[i] -= this.lr * (this.nesterov ? g + mu * a[i] : a[i]);
      }
    }
  }

  getState(): OptimizerState {
    return copyState(this.accumulators, []);
  }

  setState(state: OptimizerState): void {
    restoreBuffers(this.accumulators, 0, state);
  }
}

/**
 * Adam as tfjs computes it: m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 * w ← w − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
 * In float32 every operation is rounded to float32 in tfjs's order (its constants too, and
 * β1ᵗ, β2ᵗ kept as float32 products): Adam divides by √v, so it turns a one-ulp difference
 * in a near-zero gradient into a full-size step, and without the same rounding a lockstep run
 * would drift apart for no reason but the optimizer's arithmetic. Float64 networks
 * (gradient checks) compute it exactly.
 */
class Adam implements Optimizer {
  private readonly m: FloatArray[];
  private readonly v: FloatArray[];
  private readonly round: (x: number) => number;
  private beta1Power: number;
  private beta2Power: number;

  constructor(
    private readonly params: Param[],
    public lr: number,
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly epsilon: number,
    private readonly decay: number,
  ) {
    const zeros = (p: Param): FloatArray => new (p.value.constructor as Float32ArrayConstructor)(p.value.length);
    this.m = params.map(zeros);
    this.v = params.map(zeros);
    this.round = params.every((p) => p.value instanceof Float64Array) ? (x) => x : Math.fround;
    this.beta1Power = this.round(beta1);
    this.beta2Power = this.round(beta2);
  }

  step(): void {
    const r = this.round;
    const b1 = r(this.beta1),
      b2 = r(this.beta2),
      eps = r(this.epsilon),
      minusLr = r(-this.lr);
    const oneMinusB1 = r(1 - this.beta1),
      oneMinusB2 = r(1 - this.beta2);
    const c1 = r(1 - this.beta1Power),
      c2 = r(1 - this.beta2Power);
    for (let j = 0; j < this.params.length; j++) {
      const p = this.params[j],
        m = this.m[j],
        v = this.v[j],
        w = p.value;
      for (let i = 0; i < w.length; i++) {
        const g = r(decayed(p, i, this.decay));
        m[i] = r(r(m[i] * b1) + r(g * oneMinusB1));
        v[i] = r(r(v[i] * b2) + r(r(g * g) * oneMinusB2));
        const step = r(r(r(m[i] / c1) / r(r(Math.sqrt(r(v[i] / c2))) + eps)) * minusLr);
        w[i] = r(step + w[i]);
      }
    }
    this.beta1Power = r(this.beta1Power * b1);
    this.beta2Power = r(this.beta2Power * b2);
  }

  getState(): OptimizerState {
    return copyState([...this.m, ...this.v], [this.beta1Power, this.beta2Power]);
  }

  setState(state: OptimizerState): void {
    restoreBuffers([...this.m, ...this.v], 2, state);
    [this.beta1Power, this.beta2Power] = state.scalars;
  }
}

/** Checks what every engine's optimizer needs; returns the weight decay λ (0 when unset). */
export function checkOptimizerSettings(s: OptimizerSettings): number {
  if (!(s.lr > 0) || !Number.isFinite(s.lr))
    throw new LockstepError(`learning rate must be a positive number, got ${s.lr}`);
  const decay = s.weightDecay ?? 0;
  if (!(decay >= 0)) throw new LockstepError(`weight decay must be ≥ 0, got ${decay}`);
  if (!OPTIMIZERS.includes(s.optimizer))
    throw new LockstepError(`unknown optimizer '${String(s.optimizer)}' (expected one of ${OPTIMIZERS.join(', ')})`);
  return decay;
}

export function createOptimizer(params: Param[], s: OptimizerSettings): Optimizer {
  const decay = checkOptimizerSettings(s);
  switch (s.optimizer) {
    case 'sgd':
      return new Sgd(params, s.lr, decay);
    case 'momentum':
      return new Momentum(params, s.lr, s.momentum ?? 0.9, s.nesterov ?? false, decay);
    case 'adam':
      return new Adam(params, s.lr, s.beta1 ?? 0.9, s.beta2 ?? 0.999, s.epsilon ?? 1e-7, decay);
  }
}
