/**
 * Causal scaled-dot-product attention as one fused op: multi-head and grouped-query, optional segment ids
 * (packing, padding), a query offset for KV-cache decoding. The kernel is tiled with an online softmax and
 * never materializes a (T x T) matrix per head; it saves one logsumexp per query row for the backward.
 * `attentionFromQKV` takes the fused (B, T, 3C) projection of a GPT block as it comes out of c_attn: the kernel
 * reads q, k, v in place from its rows and its backward writes one (B, T, 3C) gradient, with no split copies and
 * no three zero-filled full-size gradients from three slices that autograd then sums.
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { formatShape } from '../tensor/shape.ts';
import { allocUninit, type Tensor } from '../tensor/tensor.ts';
import { empty, emptyUninit } from './util.ts';

export interface AttentionOptions {
  /** Mask keys after each query's position (default true). */
  causal?: boolean;
  /** Absolute position of the first query row (KV-cache decoding); default Tk - Tq. */
  qOffset?: number;
  /** Score scale (default 1/sqrt(D)). */
  scale?: number;
  /** Segment id per query (B*Tq); queries only see keys with the same id. */
  segQ?: Int32Array | null;
  /** Segment id per key (B*Tk). */
  segK?: Int32Array | null;
}

/** q (B, Tq, Hq, D), k and v (B, Tk, Hkv, D) -> (B, Tq, Hq, D). */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) {
    throw new RangeError(
      `attention: q, k, v must be (B, T, H, D); received ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`,
    );
  }
  const [B, Tq, Hq, D] = q.shape as [number, number, number, number];
  const [Bk, Tk, Hkv, Dk] = k.shape as [number, number, number, number];
  if (Bk !== B || Dk !== D || k.shape.some((d, i) => d !== v.shape[i])) {
    throw new RangeError(
      `attention: k ${formatShape(k.shape)} and v ${formatShape(v.shape)} must be [${B}, Tk, Hkv, ${D}] to match q ${formatShape(q.shape)}`,
    );
  }
  if (Hkv === 0 || Hq % Hkv !== 0)
    throw new RangeError(`attention: query heads ${Hq} must be a multiple of key/value heads ${Hkv}`);
  const causal = opts.causal ?? true;
  const qOffset = opts.qOffset ?? Tk - Tq;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const segQ = opts.segQ ?? null;
  const segK = opts.segK ?? null;
  if (segQ && segQ.length !== B * Tq)
    throw new RangeError(`attention: segQ has ${segQ.length} ids, expected B*Tq = ${B * Tq}`);
  if (segK && segK.length !== B * Tk)
    throw new RangeError(`attention: segK has ${segK.length} ids, expected B*Tk = ${B * Tk}`);
  if ((segQ === null) !== (segK === null)) throw new RangeError('attention: segQ and segK must be given together');
  const out = empty(q.shape);
  const lse = empty([B, Hq, Tq]);
  backend().attention(
    q.data,
    k.data,
    v.data,
    out.data,
    lse.data,
    B,
    Tq,
    Tk,
    Hq,
    Hkv,
    D,
    scale,
    causal,
    qOffset,
    segQ,
    segK,
  );
  return record(out, 'attention', [q, k, v], (g) => {
    const dq = empty(q.shape);
    const dk = empty(k.shape);
    const dv = empty(v.shape);
    backend().attentionBackward(
      q.data,
      k.data,
      v.data,
      out.data,
      lse.data,
      g.data,
      dq.data,
      dk.data,
      dv.data,
      B,
      Tq,
      Tk,
      Hq,
      Hkv,
      D,
      scale,
      causal,
      qOffset,
      segQ,
      segK,
    );
    return [dq, dk, dv];
  });
}

/**
 * Causal self-attention of a packed projection: qkv (B, T, 3C) holds q, k, v one after the other along the last
 * dim (each (B, T, H, D) with C = H * D) -> (B, T, C). The same result and gradients as splitting qkv and calling
 * `attention` (no KV cache, no segments, H query and key/value heads).
 */
export function attentionFromQKV(qkv: Tensor, nHead: number, opts: { causal?: boolean; scale?: number } = {}): Tensor {
  const [B, T, C3] = qkv.shape as [number, number, number];
  if (qkv.ndim !== 3 || C3 % 3 !== 0 || !(Number.isInteger(nHead) && nHead > 0) || (C3 / 3) % nHead !== 0) {
    throw new RangeError(
      `attentionFromQKV: qkv must be (B, T, 3C) with C a multiple of nHead ${nHead}; received ${formatShape(qkv.shape)}`,
    );
  }
  const C = C3 / 3;
  const D = C / nHead;
  const causal = opts.causal ?? true;
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const be = backend();
  const out = emptyUninit([B, T, C]);
  const lse = allocUninit(B * nHead * T);
  be.attentionQKV(qkv.data, out.data, lse, B, T, nHead, D, scale, causal);
  return record(out, 'attentionFromQKV', [qkv], (g) => {
    const dqkv = emptyUninit(qkv.shape);
    be.attentionQKVBackward(qkv.data, out.data, lse, g.data, dqkv.data, B, T, nHead, D, scale, causal);
    return [dqkv];
  });
}
