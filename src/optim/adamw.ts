/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter), fused in place: one kernel call per parameter updates the
 * moments and the weights. Parameter groups carry their own lr and weight decay (no decay for biases and norms).
 */
import { backend } from '../backend/index.ts';
import type { FloatArray } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Optimizer } from './optimizer.ts';
import type { ParamGroup } from './param-groups.ts';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

const DEFAULTS: AdamWOptions = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

export class AdamW extends Optimizer<AdamWOptions> {
  /** First and second moments per parameter, created on its first update. */
  readonly state = new Map<Tensor, { m: FloatArray; v: FloatArray; step: number }>();

  constructor(params: Tensor[] | ParamGroup<AdamWOptions>[], options: Partial<AdamWOptions> = {}) {
    super('AdamW', params, { ...DEFAULTS, ...options });
    for (const [k, v] of Object.entries(this.defaults)) {
      if (!Number.isFinite(v) || v < 0)
        throw new RangeError(`AdamW: option ${k} must be a non-negative number, received ${v}`);
    }
  }

  protected override update(p: Tensor, grad: Tensor, o: AdamWOptions, gradScale: number): void {
    let s = this.state.get(p);
    if (!s) {
      const zeros = (): FloatArray =>
        p.data instanceof Float32Array ? new Float32Array(p.size) : new Float64Array(p.size);
      s = { m: zeros(), v: zeros(), step: 0 };
      this.state.set(p, s);
    }
    s.step++;
    backend().adamw(
      p.data,
      grad.data,
      s.m,
      s.v,
      p.size,
      o.lr,
      o.beta1,
      o.beta2,
      o.eps,
      o.weightDecay,
      s.step,
      gradScale,
    );
  }
}
