/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter), fused in place: one kernel call per parameter updates the
 * moments and the weights. Parameter groups carry their own lr and weight decay (no decay for biases and norms).
 * Frozen parameters (requiresGrad false) and parameters without a gradient are skipped.
 */
import { backend } from '../backend/index.ts';
import type { FloatArray } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { normalizeGroups, type ParamGroup } from './param-groups.ts';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

const DEFAULTS: AdamWOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

export class AdamW {
  readonly groups: ParamGroup<AdamWOptions>[];
  readonly defaults: AdamWOptions;
  /** First and second moments per parameter, created on its first update. */
  readonly state = new Map<Tensor, { m: FloatArray; v: FloatArray; step: number }>();

  constructor(params: Tensor[] | ParamGroup<AdamWOptions>[], options: Partial<AdamWOptions> = {}) {
    this.groups = normalizeGroups('AdamW', params);
    this.defaults = { ...DEFAULTS, ...options };
    for (const [k, v] of Object.entries(this.defaults)) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`AdamW: option ${k} must be a non-negative number, received ${v}`);
    }
  }

  /** Sets the learning rate of every group (schedules call this each step). */
  setLr(lr: number): void {
    this.defaults.lr = lr;
    for (const g of this.groups) if (g.options) delete g.options.lr;
  }

  /** One update from the current gradients; gradScale multiplies every gradient first (clipping). */
  step(gradScale = 1): void {
    const b = backend();
    for (const group of this.groups) {
      const o = { ...this.defaults, ...group.options };
      for (const p of group.params) {
        if (!p.requiresGrad || !p.grad) continue;
        let s = this.state.get(p);
        if (!s) {
          s = { m: new Float32Array(p.size), v: new Float32Array(p.size), step: 0 };
          if (!(p.data instanceof Float32Array)) {
            s.m = new Float64Array(p.size);
            s.v = new Float64Array(p.size);
          }
          this.state.set(p, s);
        }
        s.step++;
        b.adamw(p.data, p.grad.data, s.m, s.v, p.size, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, s.step, gradScale);
      }
    }
  }

  /** Clears the gradients of every parameter. */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }
}
