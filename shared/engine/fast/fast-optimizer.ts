import {
  checkOptimizerSettings,
  copyState,
  restoreBuffers,
  type Optimizer,
  type OptimizerSettings,
  type OptimizerState,
} from '../optimizers';
import type { Param } from '../types';
import type { Arena, Allocator } from './arena';

/**
 * The optimizers of optimizers.ts on the kernels, operation for operation the same arithmetic
 * (kernels.wat), so a fast step updates the weights exactly as the reference step would.
 * Their state (momentum accumulators, Adam's m and v) lives in the arena.
 */
export function createFastOptimizer(params: Param[], s: OptimizerSettings, arena: Arena): Optimizer {
  const decay = checkOptimizerSettings(s);
  const k = arena.kernels;
  const at = params.map((p) => ({
    w: arena.ptr(p.value),
    g: arena.ptr(p.grad),
    n: p.value.length,
    decay: p.decay ? decay : 0,
  }));
  switch (s.optimizer) {
    case 'sgd':
      return {
        lr: s.lr,
        step() {
          for (const p of at) k.sgd(p.w, p.g, p.n, this.lr, p.decay);
        },
        getState: () => copyState([], []),
        setState: (state: OptimizerState) => restoreBuffers([], 0, state),
      };
    case 'momentum': {
      const mu = s.momentum ?? 0.9,
        nesterov = s.nesterov ? 1 : 0;
      const acc = at.map((p) => arena.f32(p.n));
      const accAt = acc.map((a) => arena.ptr(a));
      return {
        lr: s.lr,
        step() {
          at.forEach((p, j) => k.momentum(p.w, p.g, accAt[j], p.n, this.lr, mu, nesterov, p.decay));
        },
        getState: () => copyState(acc, []),
        setState: (state: OptimizerState) => restoreBuffers(acc, 0, state),
      };
    }
    case 'adam': {
      const r = Math.fround;
      const beta1 = s.beta1 ?? 0.9,
        beta2 = s.beta2 ?? 0.999,
        eps = r(s.epsilon ?? 1e-7);
      const b1 = r(beta1),
        b2 = r(beta2),
        oneMinusB1 = r(1 - beta1),
        oneMinusB2 = r(1 - beta2);
      const m = at.map((p) => arena.f32(p.n));
      const v = at.map((p) => arena.f32(p.n));
      const mAt = m.map((a) => arena.ptr(a)),
        vAt = v.map((a) => arena.ptr(a));
      let beta1Power = b1,
        beta2Power = b2;
      return {
        lr: s.lr,
        step() {
          const minusLr = r(-this.lr),
            c1 = r(1 - beta1Power),
            c2 = r(1 - beta2Power);
          at.forEach((p, j) =>
            k.adam(p.w, p.g, mAt[j], vAt[j], p.n, minusLr, b1, b2, oneMinusB1, oneMinusB2, c1, c2, eps, p.decay),
          );
          beta1Power = r(beta1Power * b1);
          beta2Power = r(beta2Power * b2);
        },
        getState: () => copyState([...m, ...v], [beta1Power, beta2Power]),
        setState(state: OptimizerState) {
          restoreBuffers([...m, ...v], 2, state);
          [beta1Power, beta2Power] = state.scalars;
        },
      };
    }
  }
}

/** Reserves what createFastOptimizer will take from the arena (two state buffers per param at most). */
export function reserveOptimizerState(params: Param[], alloc: Allocator): void {
  for (const p of params) {
    alloc.f32(p.value.length);
    alloc.f32(p.value.length);
  }
}
