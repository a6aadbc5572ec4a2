/**
 * The basic layers: Linear (PyTorch weight layout (out, in)), Embedding, LayerNorm, RMSNorm, Dropout. Each holds its
 * parameters as fields and calls one op in forward.
 */
import { ones, randn, zeros } from '../tensor/creation.ts';
import type { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import * as F from '../ops/index.ts';
import { Module, parameter } from './module.ts';

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean; std?: number; rng?: Rng } = {}) {
    super();
    const std = opts.std ?? 0.02;
    this.weight = parameter(randn([outFeatures, inFeatures], opts.rng ? { rng: opts.rng, std } : { std }));
    this.bias = opts.bias ?? true ? parameter(zeros([outFeatures])) : null;
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(num: number, dim: number, opts: { std?: number; rng?: Rng } = {}) {
    super();
    const std = opts.std ?? 0.02;
    this.weight = parameter(randn([num, dim], opts.rng ? { rng: opts.rng, std } : { std }));
  }
  forward(ids: Int32Array, shape: readonly number[]): Tensor {
    return F.embedding(this.weight, ids, shape);
  }
}

export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(dim: number, readonly eps = 1e-5, bias = true) {
    super();
    this.weight = parameter(ones([dim]));
    this.bias = bias ? parameter(zeros([dim])) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module {
  weight: Tensor;
  constructor(dim: number, readonly eps = 1e-6) {
    super();
    this.weight = parameter(ones([dim]));
  }
  forward(x: Tensor): Tensor {
    return F.rmsNorm(x, this.weight, this.eps);
  }
}

/** Dropout active only in training mode (and only for p > 0); the caller supplies the seed of this call. */
export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }
  forward(x: Tensor, seed: number): Tensor {
    return this.training && this.p > 0 ? F.dropout(x, this.p, seed) : x;
  }
}
