/**
 * Matrix products: `matmul` (batched, transpose flags, batch broadcasting) and `linear` (x @ W^T + b with a
 * PyTorch-layout weight). Both fold leading dims into rows where they can, so a (B, T, C) activation times a
 * 2-D weight is a single GEMM; `linear` writes the bias into its output first and lets the GEMM accumulate onto
 * it (no separate add pass), and sums the bias gradient with one GEMV. GEMMs run in the precision of
 * `matmul-precision.ts` (fp32, or bf16 operands with fp32 accumulation), fixed per op at forward time.
 */
import { backend, isFloat64, type FloatArray } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { broadcastShapes, formatShape, numel, sameShape } from '../tensor/shape.ts';
import { allocUninit, type Tensor } from '../tensor/tensor.ts';
import { add } from './elementwise.ts';
import { matmulPrecision } from './matmul-precision.ts';
import { empty, emptyUninit, sumTo } from './util.ts';
import { expand } from './view.ts';

export interface MatmulOptions {
  /** Use a's last two dims transposed. */
  transA?: boolean;
  /** Use b's last two dims transposed. */
  transB?: boolean;
}

/** True when GEMMs started now run with bf16 operands (never in float64 mode). */
function useBf16(): boolean {
  return matmulPrecision() === 'bf16' && !isFloat64();
}

/** C (batch, M, N) = op(A) @ op(B) with strides; beta 0 overwrites, 1 accumulates; bf16 rounds the operands. */
function gemm(
  A: Tensor,
  B: Tensor,
  C: Tensor,
  batch: number,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  strideA: number,
  strideB: number,
  beta = 0,
  bf16 = false,
): void {
  const be = backend();
  (bf16 ? be.gemmBf16 : be.gemm)(A.data, B.data, C.data, batch, M, N, K, transA, transB, strideA, strideB, M * N, beta);
}

/** Output storage for a GEMM with beta 0 and inner dimension `inner`: it overwrites every element unless inner is 0. */
function gemmOut(shape: readonly number[], inner: number): Tensor {
  return inner > 0 ? emptyUninit(shape) : empty(shape);
}

/**
 * op(a) @ op(b) over the last two dims, broadcasting leading (batch) dims. Both inputs need rank >= 2.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.ndim < 2 || b.ndim < 2) {
    throw new RangeError(`matmul: a ${formatShape(a.shape)} and b ${formatShape(b.shape)} must both have rank >= 2`);
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const Kb = transB ? bc : br;
  const N = transB ? br : bc;
  if (K !== Kb) {
    throw new RangeError(
      `matmul: a ${formatShape(a.shape)}${transA ? '^T' : ''} and b ${formatShape(b.shape)}${transB ? '^T' : ''}: inner dimensions ${K} and ${Kb} must match`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const bf = useBf16();

  // Fast path: a batched, b a plain matrix, a not transposed: fold a's batch into rows (one GEMM).
  if (batchB.length === 0 && !transA) {
    const rows = numel(batchA) * M;
    const out = gemmOut([...batchA, M, N], K);
    gemm(a, b, out, 1, rows, N, K, false, transB, 0, 0, 0, bf);
    return record(out, 'matmul', [a, b], (g) => {
      let ga: Tensor | null = null;
      let gb: Tensor | null = null;
      if (a.requiresGrad) {
        ga = gemmOut(a.shape, N); // (rows, K) = g (rows, N) @ op(b)^T
        gemm(g, b, ga, 1, rows, K, N, false, !transB, 0, 0, 0, bf);
      }
      if (b.requiresGrad) {
        gb = gemmOut(b.shape, rows);
        if (transB)
          gemm(g, a, gb, 1, N, K, rows, true, false, 0, 0, 0, bf); // (N, K) = g^T @ a
        else gemm(a, g, gb, 1, K, N, rows, true, false, 0, 0, 0, bf); // (K, N) = a^T @ g
      }
      return [ga, gb];
    });
  }

  const batch = broadcastShapes('matmul', batchA, batchB);
  const nb = numel(batch);
  const aFull = sameShape(batchA, batch) || batchA.length === 0 ? a : expand(a, [...batch, ...a.shape.slice(-2)]);
  const bFull = sameShape(batchB, batch) || batchB.length === 0 ? b : expand(b, [...batch, ...b.shape.slice(-2)]);
  if (aFull !== a || bFull !== b) return matmul(aFull, bFull, opts);
  const strideA = batchA.length === 0 ? 0 : M * K;
  const strideB = batchB.length === 0 ? 0 : K * N;
  const out = gemmOut([...batch, M, N], K);
  gemm(a, b, out, nb, M, N, K, transA, transB, strideA, strideB, 0, bf);
  return record(out, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      const full = gemmOut([...batch, ...a.shape.slice(-2)], N);
      if (transA)
        gemm(b, g, full, nb, K, M, N, transB, true, strideB, M * N, 0, bf); // (K, M) = op(b) @ g^T
      else gemm(g, b, full, nb, M, K, N, false, !transB, M * N, strideB, 0, bf); // (M, K) = g @ op(b)^T
      ga = sumTo(full, a.shape);
    }
    if (b.requiresGrad) {
      const full = gemmOut([...batch, ...b.shape.slice(-2)], M);
      if (transB)
        gemm(g, a, full, nb, N, K, M, true, transA, M * N, strideA, 0, bf); // (N, K) = g^T @ op(a)
      else gemm(a, g, full, nb, K, N, M, !transA, false, strideA, M * N, 0, bf); // (K, N) = op(a)^T @ g
      gb = sumTo(full, b.shape);
    }
    return [ga, gb];
  });
}

/** Every row of dst (rows, N) = src (N): one copy, then memcpys that double the filled prefix. */
function fillRows(dst: FloatArray, src: FloatArray, rows: number, N: number): void {
  if (rows === 0) return;
  dst.set(src);
  for (let filled = N, total = rows * N; filled < total; filled *= 2)
    dst.copyWithin(filled, 0, Math.min(filled, total - filled));
}

/** y = x @ weight^T (+ bias), with weight (out, in) as in PyTorch's nn.Linear; x is (..., in). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2)
    throw new RangeError(`linear: weight must be (out, in), received ${formatShape(weight.shape)}`);
  const [N, K] = weight.shape as [number, number];
  if (!bias || K === 0 || bias.ndim !== 1 || bias.shape[0] !== N || x.ndim < 2 || x.shape[x.ndim - 1] !== K) {
    const y = matmul(x, weight, { transB: true }); // unusual shapes: matmul and add broadcast (and report errors)
    return bias ? add(y, bias) : y;
  }
  const rows = x.size / K;
  const bf = useBf16();
  const out = emptyUninit([...x.shape.slice(0, -1), N]); // (rows, N): fillRows writes every row
  const be = backend();
  fillRows(out.data, bias.data, rows, N);
  gemm(x, weight, out, 1, rows, N, K, false, true, 0, 0, 1, bf); // out = bias + x @ W^T
  return record(out, 'linear', [x, weight, bias], (g) => {
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = gemmOut(x.shape, N);
      gemm(g, weight, gx, 1, rows, K, N, false, false, 0, 0, 0, bf); // (rows, K) = g @ W
    }
    if (weight.requiresGrad) {
      gw = gemmOut(weight.shape, rows);
      gemm(g, x, gw, 1, N, K, rows, true, false, 0, 0, 0, bf); // (N, K) = g^T @ x
    }
    if (bias.requiresGrad) {
      gb = gemmOut(bias.shape, rows); // (1, N) = ones (1, rows) @ g: a GEMV streams g once, ~2x the column sums of sumAxis
      const ones = allocUninit(rows).fill(1);
      be.gemm(ones, g.data, gb.data, 1, 1, N, rows, false, false, 0, 0, N, 0);
    }
    return [gx, gw, gb];
  });
}

/**
 * A LoRA-adapted linear layer as one op: y = x @ W^T + b + scale * (h @ A^T) @ B^T, with W (out, in), A (r, in),
 * B (out, r) and h = x (or a dropout of x, same shape). The adapter adds two thin GEMMs to the output in place, so
 * the forward keeps only the (rows, r) product instead of three (rows, out) tensors (B's output, its scaled copy and
 * the sum), and the backward computes only the gradients that are needed: with a frozen base, no dW and no db;
 * dx takes the adapter's share by accumulating onto g @ W (one (rows, in) gradient, not two summed by autograd).
 */
export function loraLinear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  loraA: Tensor,
  loraB: Tensor,
  scale: number,
  h: Tensor = x,
): Tensor {
  const [N, K] = weight.shape as [number, number];
  const r = loraA.shape[0] ?? 0;
  if (
    weight.ndim !== 2 ||
    loraA.ndim !== 2 ||
    loraB.ndim !== 2 ||
    loraA.shape[1] !== K ||
    loraB.shape[0] !== N ||
    loraB.shape[1] !== r
  ) {
    throw new RangeError(
      `loraLinear: weight ${formatShape(weight.shape)}, A ${formatShape(loraA.shape)} and B ${formatShape(loraB.shape)} must be (out, in), (r, in) and (out, r)`,
    );
  }
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== K || !sameShape(h.shape, x.shape)) {
    throw new RangeError(`loraLinear: x ${formatShape(x.shape)} (and h ${formatShape(h.shape)}) must be (..., ${K})`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== N))
    throw new RangeError(`loraLinear: bias ${formatShape(bias.shape)} must be [${N}]`);
  const rows = K > 0 ? x.size / K : 0;
  const bf = useBf16();
  const be = backend();
  const us = gemmOut([rows, r], K); // (rows, r) = scale * h @ A^T, kept for dB
  gemm(h, loraA, us, 1, rows, r, K, false, true, 0, 0, 0, bf);
  be.affine(us.data, us.data, us.size, scale, 0);
  const out = bias ? emptyUninit([...x.shape.slice(0, -1), N]) : gemmOut([...x.shape.slice(0, -1), N], K); // (rows, N)
  if (bias) fillRows(out.data, bias.data, rows, N);
  gemm(x, weight, out, 1, rows, N, K, false, true, 0, 0, bias ? 1 : 0, bf); // out = (bias +) x @ W^T
  gemm(us, loraB, out, 1, rows, N, r, false, true, 0, 0, 1, bf); // out += us @ B^T
  const inputs = [x, weight, loraA, loraB];
  if (bias) inputs.push(bias);
  if (h !== x) inputs.push(h);
  return record(out, 'loraLinear', inputs, (g) => {
    const needX = x.requiresGrad;
    const needH = h !== x && h.requiresGrad;
    let gu: Tensor | null = null; // (rows, r) = scale * g @ B
    if (loraA.requiresGrad || (h === x ? needX : needH)) {
      gu = gemmOut([rows, r], N);
      gemm(g, loraB, gu, 1, rows, r, N, false, false, 0, 0, 0, bf);
      be.affine(gu.data, gu.data, gu.size, scale, 0);
    }
    let gx: Tensor | null = null;
    if (needX) {
      gx = gemmOut(x.shape, N); // (rows, K) = g @ W (+ gu @ A when h is x)
      gemm(g, weight, gx, 1, rows, K, N, false, false, 0, 0, 0, bf);
      if (h === x) gemm(gu!, loraA, gx, 1, rows, K, r, false, false, 0, 0, 1, bf);
    }
    let gh: Tensor | null = null;
    if (needH) {
      gh = gemmOut(h.shape, r); // (rows, K) = gu @ A
      gemm(gu!, loraA, gh, 1, rows, K, r, false, false, 0, 0, 0, bf);
    }
    let gw: Tensor | null = null;
    if (weight.requiresGrad) {
      gw = gemmOut(weight.shape, rows);
      gemm(g, x, gw, 1, N, K, rows, true, false, 0, 0, 0, bf); // (N, K) = g^T @ x
    }
    let ga: Tensor | null = null;
    if (loraA.requiresGrad) {
      ga = gemmOut(loraA.shape, rows);
      gemm(gu!, h, ga, 1, r, K, rows, true, false, 0, 0, 0, bf); // (r, K) = gu^T @ h
    }
    let gB: Tensor | null = null;
    if (loraB.requiresGrad) {
      gB = gemmOut(loraB.shape, rows);
      gemm(g, us, gB, 1, N, r, rows, true, false, 0, 0, 0, bf); // (N, r) = g^T @ us
    }
    let gb: Tensor | null = null;
    if (bias?.requiresGrad) {
      gb = gemmOut(bias.shape, rows); // (1, N) = ones (1, rows) @ g
      be.gemm(allocUninit(rows).fill(1), g.data, gb.data, 1, 1, N, rows, false, false, 0, 0, N, 0);
    }
    const grads: (Tensor | null)[] = [gx, gw, ga, gB];
    if (bias) grads.push(gb);
    if (h !== x) grads.push(gh);
    return grads;
  });
}
