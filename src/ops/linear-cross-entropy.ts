/**
 * The language-model head and its mean cross-entropy as one op: loss = crossEntropy(x @ weight^T, targets) for
 * x (..., C) and weight (V, C), without ever holding the (N, V) logits. Rows are processed in chunks: logits of a
 * chunk -> per-row loss and logsumexp -> (when a gradient is needed) dlogits in place -> dx of the chunk and
 * dweight accumulated, so the gradients are ready when the forward returns and the backward only scales them by
 * the upstream gradient. Memory: one chunk of probabilities plus dx and dweight, instead of (N, V) logits and
 * (N, V) dlogits. The chunk is reused so its pages are not faulted in again every step: inside a step arena (the
 * trainer's) it is arena storage, handed back to the arena when the op returns and reused by the next step, and it
 * goes when the arena does; outside one, a module scratch of at most 16 MB is kept across calls, and a larger chunk
 * is a fresh array the GC frees (a chunk can be 256 MB: a long-lived process must not hold that after training).
 * Same value and gradients as `crossEntropy(linear(x, weight), targets)` (mean over rows whose target is not
 * ignoreIndex; NaN when every row is ignored); GEMMs run in the matmul precision of matmul-precision.ts.
 */
import { backend, isFloat64, type FloatArray } from '../backend/index.ts';
import { activeArena } from '../tensor/arena.ts';
import { needsGrad, record } from '../tensor/autograd.ts';
import { formatShape } from '../tensor/shape.ts';
import { allocStorage, allocUninit, type Tensor } from '../tensor/tensor.ts';
import { matmulPrecision } from './matmul-precision.ts';
import { checkIds, empty } from './util.ts';

/**
 * Elements of logits per chunk: 256 MB of fp32 at most. Each chunk streams the whole (V, C) weight through three
 * GEMMs again, so chunks are kept large: GPT-2 124M at 1024 tokens (51M logits) runs as one chunk, which measured
 * 8% less CPU time than crossEntropy(linear(...)) (no fresh 205 MB buffers to fault in each step), while 4 chunks
 * of 256 rows cost 6% more. Larger batches are split and keep their memory bounded.
 */
const CHUNK_ELEMENTS = 1 << 26;

/** Elements of the chunk scratch kept between calls outside a step arena: 16 MB of fp32 at most. */
const KEEP_ELEMENTS = 1 << 22;

let scratch32: Float32Array | null = null;

/**
 * Chunk storage for n elements, overwritten before it is read: from the active step arena (or fresh in float64
 * mode) through allocUninit; else the module scratch (grown on demand) when n fits KEEP_ELEMENTS, or a fresh array.
 */
function chunkStorage(n: number): FloatArray {
  if (isFloat64() || activeArena() !== null) return allocUninit(n);
  if (n > KEEP_ELEMENTS) return new Float32Array(n);
  if (scratch32 === null || scratch32.length < n) scratch32 = new Float32Array(n);
  return scratch32;
}

/** Bytes of chunk scratch this module keeps between calls (at most 16 MB); for tests and profiles. */
export function linearCrossEntropyScratchBytes(): number {
  return scratch32?.byteLength ?? 0;
}

/** Rows per chunk: N split into equal chunks of at most CHUNK_ELEMENTS logits (at least one row). */
export function linearCrossEntropyChunkRows(N: number, V: number): number {
  const chunks = Math.max(1, Math.ceil((N * V) / CHUNK_ELEMENTS));
  return Math.max(1, Math.ceil(N / chunks));
}

export interface LinearCrossEntropyOptions {
  /** Target value whose rows are skipped (default -100, as in PyTorch). */
  ignoreIndex?: number;
  /** Rows per chunk (default: linearCrossEntropyChunkRows(N, V)); tests set it small to cover several chunks. */
  chunkRows?: number;
}

/** Mean cross-entropy of the logits x @ weight^T against targets (one per row of x's leading dims). */
export function linearCrossEntropy(
  x: Tensor,
  weight: Tensor,
  targets: Int32Array | readonly number[],
  opts: LinearCrossEntropyOptions = {},
): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (x.ndim < 1 || weight.ndim !== 2 || weight.shape[1] !== x.shape[x.ndim - 1]) {
    throw new RangeError(
      `linearCrossEntropy: x ${formatShape(x.shape)} and weight ${formatShape(weight.shape)} must be (..., C) and (V, C)`,
    );
  }
  const [V, C] = weight.shape as [number, number];
  const N = C > 0 ? x.size / C : 0;
  if (targets.length !== N) {
    throw new RangeError(
      `linearCrossEntropy: x ${formatShape(x.shape)} has ${N} rows but ${targets.length} targets were given`,
    );
  }
  const t = checkIds('linearCrossEntropy', targets, V, ignoreIndex);
  let count = 0;
  for (let i = 0; i < N; i++) if (t[i] !== ignoreIndex) count++;
  const scale = count > 0 ? 1 / count : 0;

  const be = backend();
  const gemm = matmulPrecision() === 'bf16' && !isFloat64() ? be.gemmBf16 : be.gemm;
  const dx = needsGrad(x) ? empty(x.shape) : null;
  const dw = needsGrad(weight) ? empty(weight.shape) : null;
  const rows = opts.chunkRows ?? linearCrossEntropyChunkRows(N, V);
  if (!(Number.isInteger(rows) && rows > 0))
    throw new RangeError(`linearCrossEntropy: chunkRows must be a positive integer, received ${rows}`);
  const logits = chunkStorage(rows * V); // (rows, V), then dlogits in place
  const losses = allocStorage(rows);
  const lse = allocStorage(rows);
  const dlosses = allocStorage(rows).fill(scale);
  let total = 0;
  for (let r0 = 0; r0 < N; r0 += rows) {
    const n = Math.min(rows, N - r0);
    const xs = x.data.subarray(r0 * C, (r0 + n) * C); // (n, C)
    const ts = t.subarray(r0, r0 + n);
    gemm(xs, weight.data, logits, 1, n, V, C, false, true, 0, 0, 0, 0); // (n, V) = xs @ weight^T
    be.crossEntropy(logits, ts, losses, lse, n, V, ignoreIndex, 0);
    for (let i = 0; i < n; i++) total += losses[i]!;
    if (!dx && !dw) continue;
    be.crossEntropyBackward(logits, lse, ts, dlosses, logits, n, V, ignoreIndex, 0); // dlogits, in place
    if (dx) gemm(logits, weight.data, dx.data.subarray(r0 * C), 1, n, C, V, false, false, 0, 0, 0, 0); // (n, C)
    if (dw) gemm(logits, xs, dw.data, 1, V, C, n, true, false, 0, 0, 0, r0 === 0 ? 0 : 1); // (V, C) += dlogits^T xs
  }
  activeArena()?.release(logits.buffer); // dead now: later allocations of this step and the next step reuse it
  const out = empty([]);
  out.data[0] = count > 0 ? total * scale : Number.NaN;

  let handedOut = false;
  return record(out, 'linearCrossEntropy', [x, weight], (g) => {
    const s = g.data[0]!;
    // The buffers go out as they are the first time (the common case: upstream gradient 1); scaled or repeated
    // backwards get fresh tensors, so a gradient handed out earlier is never changed behind its owner's back.
    const give = (d: Tensor | null): Tensor | null => {
      if (!d || (s === 1 && !handedOut)) return d;
      const scaled = empty(d.shape);
      be.affine(d.data, scaled.data, d.size, s, 0);
      return scaled;
    };
    const grads = [give(dx), give(dw)];
    handedOut = true;
    return grads;
  });
}
