/**
 * Reference causal self-attention over a packed (B, T, 3C) projection (Backend.attentionQKV and
 * Backend.attentionQKVBackward): splits qkv into q, k, v (each (B, T, H, D), C = H * D), runs the reference
 * attention of ./attention.ts, and packs dq, dk, dv back into one (B, T, 3C) gradient. The native kernel reads and
 * writes the packed rows in place instead.
 */
import type { Backend, FloatArray } from '../backend.ts';
import { attention, attentionBackward } from './attention.ts';

/** Part `part` (0 q, 1 k, 2 v) of every row of packed (rows, 3C) -> a new dense (rows, C) array. */
function unpack(packed: FloatArray, part: number, rows: number, C: number): FloatArray {
  const out = packed instanceof Float64Array ? new Float64Array(rows * C) : new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) out.set(packed.subarray(r * 3 * C + part * C, r * 3 * C + (part + 1) * C), r * C);
  return out;
}

function pack(dense: FloatArray, packed: FloatArray, part: number, rows: number, C: number): void {
  for (let r = 0; r < rows; r++) packed.set(dense.subarray(r * C, (r + 1) * C), r * 3 * C + part * C);
}

export const attentionQKV: Backend['attentionQKV'] = (qkv, out, lse, B, T, H, D, scale, causal) => {
  const C = H * D;
  const [q, k, v] = [0, 1, 2].map((part) => unpack(qkv, part, B * T, C)) as [FloatArray, FloatArray, FloatArray];
  attention(q, k, v, out, lse, B, T, T, H, H, D, scale, causal, 0, null, null);
};

export const attentionQKVBackward: Backend['attentionQKVBackward'] = (
  qkv,
  out,
  lse,
  dout,
  dqkv,
  B,
  T,
  H,
  D,
  scale,
  causal,
) => {
  const C = H * D;
  const [q, k, v] = [0, 1, 2].map((part) => unpack(qkv, part, B * T, C)) as [FloatArray, FloatArray, FloatArray];
  const make = (): FloatArray =>
    qkv instanceof Float64Array ? new Float64Array(B * T * C) : new Float32Array(B * T * C);
  const grads = [make(), make(), make()] as const;
  attentionBackward(
    q,
    k,
    v,
    out,
    lse,
    dout,
    grads[0],
    grads[1],
    grads[2],
    B,
    T,
    T,
    H,
    H,
    D,
    scale,
    causal,
    0,
    null,
    null,
  );
  grads.forEach((d, part) => {
    pack(d, dqkv, part, B * T, C);
  });
};
