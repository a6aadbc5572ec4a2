/**
 * SGD with momentum (PyTorch semantics, optional Nesterov and weight decay), fused in place per parameter.
 */
import { backend } from '../backend/index.ts';
import type { FloatArray } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Optimizer } from './optimizer.ts';
import type { ParamGroup } from './param-groups.ts';

export interface SGDOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

const DEFAULTS: SGDOptions = { lr: 1e-2, momentum: 0, weightDecay: 0, nesterov: false };

export class SGD extends Optimizer<SGDOptions> {
  /** Momentum buffer per parameter, created on its first update. */
  readonly state = new Map<Tensor, { buf: FloatArray }>();

  constructor(params: Tensor[] | ParamGroup<SGDOptions>[], options: Partial<SGDOptions> = {}) {
    super('SGD', params, { ...DEFAULTS, ...options });
    if (this.defaults.nesterov && this.defaults.momentum <= 0) throw new RangeError('SGD: nesterov needs momentum > 0');
  }

  protected override update(p: Tensor, grad: Tensor, o: SGDOptions, gradScale: number): void {
    let s = this.state.get(p);
    const first = s === undefined;
    if (!s) {
      s = { buf: p.data instanceof Float32Array ? new Float32Array(p.size) : new Float64Array(p.size) };
      this.state.set(p, s);
    }
    backend().sgd(p.data, grad.data, s.buf, p.size, o.lr, o.momentum, o.weightDecay, o.nesterov, first, gradScale);
  }
}
