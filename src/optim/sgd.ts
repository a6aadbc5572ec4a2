/**
 * SGD with momentum (PyTorch semantics, optional Nesterov and weight decay), fused in place per parameter.
 */
import { backend } from '../backend/index.ts';
import type { FloatArray } from '../backend/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { normalizeGroups, type ParamGroup } from './param-groups.ts';

export interface SGDOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

const DEFAULTS: SGDOptions = { lr: 1e-2, momentum: 0, weightDecay: 0, nesterov: false };

export class SGD {
  readonly groups: ParamGroup<SGDOptions>[];
  readonly defaults: SGDOptions;
  readonly state = new Map<Tensor, { buf: FloatArray }>();

  constructor(params: Tensor[] | ParamGroup<SGDOptions>[], options: Partial<SGDOptions> = {}) {
    this.groups = normalizeGroups('SGD', params);
    this.defaults = { ...DEFAULTS, ...options };
    if (this.defaults.nesterov && this.defaults.momentum <= 0) throw new RangeError('SGD: nesterov needs momentum > 0');
  }

  setLr(lr: number): void {
    this.defaults.lr = lr;
    for (const g of this.groups) if (g.options) delete g.options.lr;
  }

  step(gradScale = 1): void {
    const b = backend();
    for (const group of this.groups) {
      const o = { ...this.defaults, ...group.options };
      for (const p of group.params) {
        if (!p.requiresGrad || !p.grad) continue;
        let s = this.state.get(p);
        const first = s === undefined;
        if (!s) {
          s = { buf: p.data instanceof Float32Array ? new Float32Array(p.size) : new Float64Array(p.size) };
          this.state.set(p, s);
        }
        b.sgd(p.data, p.grad.data, s.buf, p.size, o.lr, o.momentum, o.weightDecay, o.nesterov, first, gradScale);
      }
    }
  }

  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }
}
