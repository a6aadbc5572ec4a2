/**
 * The basic layers: Linear (PyTorch weight layout (out, in)), Embedding, LayerNorm, RMSNorm, Dropout. Each holds its
 * parameters as fields and calls one op in forward. Built with `init: false`, a layer allocates its parameters
 * zero-filled and draws nothing: for a loader that overwrites every weight right away (and checks it did).
 */
import { ones, randn, zeros } from '../tensor/creation.ts';
import type { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import * as F from '../ops/index.ts';
import { Module, parameter } from './module.ts';

/** How a layer's parameters start: random weights from `rng` (the global generator when absent), or zeros with `init: false`. */
export interface InitOptions {
  rng?: Rng;
  /** false: zero-filled parameters and no random draws, for weights a loader fills in (default true). */
  init?: boolean;
}

/** Layer options for a model's generator: `rng` draws the weights; null builds them uninitialized (`init: false`). */
export function initWith(rng: Rng | null): InitOptions {
  return rng ? { rng } : { init: false };
}

/** A weight drawn from N(0, std), or zeros when `opts.init` is false. */
function randomWeight(shape: number[], std: number, opts: InitOptions): Tensor {
  if (opts.init === false) return zeros(shape);
  return randn(shape, opts.rng ? { rng: opts.rng, std } : { std });
}

export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean; std?: number } & InitOptions = {}) {
    super();
    this.weight = parameter(randomWeight([outFeatures, inFeatures], opts.std ?? 0.02, opts));
    this.bias = (opts.bias ?? true) ? parameter(zeros([outFeatures])) : null;
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(num: number, dim: number, opts: { std?: number } & InitOptions = {}) {
    super();
    this.weight = parameter(randomWeight([num, dim], opts.std ?? 0.02, opts));
  }
  forward(ids: Int32Array, shape: readonly number[]): Tensor {
    return F.embedding(this.weight, ids, shape);
  }
}

export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    dim: number,
    readonly eps = 1e-5,
    bias = true,
    init = true,
  ) {
    super();
    this.weight = parameter(init ? ones([dim]) : zeros([dim]));
    this.bias = bias ? parameter(zeros([dim])) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class RMSNorm extends Module {
  weight: Tensor;
  constructor(
    dim: number,
    readonly eps = 1e-6,
    init = true,
  ) {
    super();
    this.weight = parameter(init ? ones([dim]) : zeros([dim]));
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
