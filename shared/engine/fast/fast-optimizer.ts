import { checkOptimizerSettings, type Optimizer, type OptimizerSettings } from '../optimizers';
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
  const at = params.map((p) => ({ w: arena.ptr(p.value), g: arena.ptr(p.grad), n: p.value.length, decay: p.decay ? decay : 0 }));
  switch (s.optimizer) {
    case 'sgd':
      return {
        lr: s.lr,
        step() {
          for (const p of at) k.sgd(p.w, p.g, p.n, this.lr, p.decay);
        },
      };
    case 'momentum': {
      const mu = s.momentum ?? 0.9, nesterov = s.nesterov ? 1 : 0;
      const acc = at.map((p) => arena.ptr(arena.f32(p.n)));
      return {
        lr: s.lr,
        step() {
          at.forEach((p, j) => k.momentum(p.w, p.g, acc[j], p.n, this.lr, mu, nesterov, p.decay));
        },
      };
    }
    case 'adam': {
      const r = Math.fround;
      const beta1 = s.beta1 ?? 0.9, beta2 = s.beta2 ?? 0.999, eps = r(s.epsilon ?? 1e-7);
      const b1 = r(beta1), b2 = r(beta2), oneMinusB1 = r(1 - beta1), oneMinusB2 = r(1 - beta2);
      const m = at.map((p) => arena.ptr(arena.f32(p.n)));
      const v = at.map((p) => arena.ptr(arena.f32(p.n)));
      let beta1Power = b1, beta2Power = b2;
      return {
        lr: s.lr,
        step() {
          const minusLr = r(-this.lr), c1 = r(1 - beta1Power), c2 = r(1 - beta2Power);
          at.forEach((p, j) => k.adam(p.w, p.g, m[j], v[j], p.n, minusLr, b1, b2, oneMinusB1, oneMinusB2, c1, c2, eps, p.decay));
          beta1Power = r(beta1Power * b1);
          beta2Power = r(beta2Power * b2);
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
