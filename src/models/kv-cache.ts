/**
 * The key/value cache both model families decode with: per layer, preallocated buffers of shape
 * (B, capacity, Hkv, D) filled position by position. A cached forward appends its T new keys and values at
 * `length` and reads the whole prefix back as (B, length + T, Hkv, D) tensors for attention; the model advances
 * `length` once every layer has appended. Inference only: the buffers are plain storage, outside autograd.
 */
import type { FloatArray } from '../backend/index.ts';
import { formatShape } from '../tensor/shape.ts';
import { allocStorage, Tensor } from '../tensor/tensor.ts';
import { headSize } from './config.ts';
import type { KVCache, ModelConfig } from './model.ts';

export class KVBuffers implements KVCache {
  length = 0;
  private readonly k: FloatArray[];
  private readonly v: FloatArray[];
  /** Elements per position: Hkv * D. */
  private readonly row: number;

  constructor(
    readonly batch: number,
    readonly capacity: number,
    readonly nLayer: number,
    readonly nKvHead: number,
    readonly headDim: number,
  ) {
    for (const [name, n] of [
      ['batch', batch],
      ['capacity', capacity],
    ] as const) {
      if (!(Number.isInteger(n) && n > 0))
        throw new RangeError(`createCache: ${name} must be a positive integer, received ${n}`);
    }
    this.row = nKvHead * headDim;
    const n = batch * capacity * this.row;
    this.k = Array.from({ length: nLayer }, () => allocStorage(n));
    this.v = Array.from({ length: nLayer }, () => allocStorage(n));
  }

  /** A cache for `model`'s shape; capacity may not exceed the context length. */
  static forConfig(cfg: ModelConfig, batch: number, capacity: number): KVBuffers {
    if (capacity > cfg.blockSize)
      throw new RangeError(
        `createCache: capacity ${capacity} exceeds the model's context length blockSize ${cfg.blockSize}`,
      );
    return new KVBuffers(batch, capacity, cfg.nLayer, cfg.nKvHead, headSize(cfg));
  }

  /** Checks that `cache` was made by `forConfig(cfg, ...)` and that B rows of T more positions fit. */
  static check(cache: KVCache, cfg: ModelConfig, B: number, T: number): KVBuffers {
    if (!(cache instanceof KVBuffers))
      throw new TypeError('forward: opts.cache must come from model.createCache(batch, capacity)');
    if (cache.nLayer !== cfg.nLayer || cache.nKvHead !== cfg.nKvHead || cache.headDim !== headSize(cfg)) {
      throw new RangeError(
        `forward: the cache was made for ${cache.nLayer} layers x ${cache.nKvHead} kv heads x D ${cache.headDim}, not for this model`,
      );
    }
    if (B !== cache.batch) throw new RangeError(`forward: batch ${B} differs from the cache's batch ${cache.batch}`);
    if (cache.length + T > cache.capacity) {
      throw new RangeError(
        `forward: ${cache.length} cached + ${T} new positions exceed the cache capacity ${cache.capacity}`,
      );
    }
    return cache;
  }

  /**
   * Stores k and v (B, T, Hkv, D) of `layer` at positions length..length+T-1 and returns the keys and values of
   * positions 0..length+T-1 as (B, length + T, Hkv, D) tensors (views of the buffers when B = 1, else copies).
   */
  append(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const [B, T, H, D] = k.shape as [number, number, number, number];
    if (k.ndim !== 4 || B !== this.batch || H * D !== this.row) {
      throw new RangeError(
        `KV cache: keys ${formatShape(k.shape)} do not fit a cache of batch ${this.batch}, ${this.nKvHead} heads x ${this.headDim}`,
      );
    }
    const start = this.length;
    const total = start + T;
    const row = this.row;
    const out: Tensor[] = [];
    for (const [buf, src] of [
      [this.k[layer]!, k.data],
      [this.v[layer]!, v.data],
    ] as const) {
      for (let b = 0; b < B; b++)
        buf.set(src.subarray(b * T * row, (b + 1) * T * row), (b * this.capacity + start) * row);
      let data: FloatArray;
      if (B === 1) {
        data = buf.subarray(0, total * row);
      } else {
        data = allocStorage(B * total * row);
        for (let b = 0; b < B; b++)
          data.set(buf.subarray(b * this.capacity * row, (b * this.capacity + total) * row), b * total * row);
      }
      out.push(new Tensor(data, [B, total, this.nKvHead, this.headDim]));
    }
    return out as [Tensor, Tensor];
  }

  /** The storage of `layer`'s keys and values, (B, capacity, Hkv, D) each: for kernels that append in place. */
  layerStorage(layer: number): [FloatArray, FloatArray] {
    return [this.k[layer]!, this.v[layer]!];
  }

  /** Marks T more positions as stored (after every layer has appended them). */
  advance(T: number): void {
    this.length += T;
  }

  /** Forgets every stored position (the buffers are reused). */
  reset(): void {
    this.length = 0;
  }
}
