/**
 * The kernel interface every backend implements: plain functions over flat, contiguous, row-major arrays and
 * sizes (the llm.c style). The autograd layer (`src/tensor`, `src/ops`) only talks to this interface, so the
 * `native` (C++ addon) and `reference` (readable TypeScript) backends are interchangeable and one conformance
 * suite runs over both.
 *
 * Conventions:
 * - Dimension letters: B batch, T time, C channels, V vocab, H heads, D head size, N rows (flattened leading dims).
 * - Kernels write their outputs; nothing is accumulated unless the parameter says so (`beta` in gemm,
 *   `dweight` in embeddingBackward, the norm weight/bias gradients which are `+=`).
 * - `FloatArray` is Float32Array on the native backend. The reference backend also accepts Float64Array
 *   (used by gradient checks against finite differences); every kernel must be generic over both.
 * - Index arrays are Int32Array. Boolean masks are Uint8Array (0 or 1).
 */

export type FloatArray = Float32Array | Float64Array;

/** Unary elementwise ops, shared numeric codes between TypeScript and C++. */
export const Unary = {
  neg: 0,
  exp: 1,
  log: 2,
  sqrt: 3,
  tanh: 4,
  relu: 5,
  geluTanh: 6,
  geluErf: 7,
  silu: 8,
  sigmoid: 9,
  abs: 10,
} as const;
export type UnaryOp = (typeof Unary)[keyof typeof Unary];

/** Binary elementwise ops, shared numeric codes between TypeScript and C++. */
export const Binary = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  max: 4,
  min: 5,
} as const;
export type BinaryOp = (typeof Binary)[keyof typeof Binary];

/** Maximum rank handled by the strided kernels (binary, copyStrided). */
export const MAX_RANK = 8;

export interface Backend {
  readonly name: 'native' | 'reference';

  /** Threads used by this backend's kernels (1 for reference). */
  numThreads(): number;
  setNumThreads(n: number): void;

  // ---- GEMM -------------------------------------------------------------------------------------------------
  /**
   * Batched strided matrix multiply, row-major:
   *   for b in 0..batch: C[b] = op(A[b]) @ op(B[b]) + beta * C[b]
   * op(A[b]) is (M, K): A[b] is stored (M, K), or (K, M) when transA. op(B[b]) is (K, N): B[b] is stored
   * (K, N), or (N, K) when transB. A[b] starts at b * strideA (0 broadcasts one matrix over the batch),
   * likewise B and C. beta is 0 (overwrite) or 1 (accumulate).
   */
  gemm(
    A: FloatArray,
    B: FloatArray,
    C: FloatArray,
    batch: number,
    M: number,
    N: number,
    K: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    strideC: number,
    beta: number,
  ): void;
  /**
   * gemm in mixed precision (the bf16 matmul mode of src/ops/matmul-precision.ts): same arguments and contract,
   * but every element of A and B is first rounded to bfloat16 (round to nearest even) and the products are summed
   * in fp32 or wider. Products with M <= 8 (decode-time, memory-bound: bf16 would not speed them up) skip the
   * rounding and run as gemm. The native kernel uses AMX tiles or AVX512_BF16 (the fp32 gemm, after one warning,
   * on CPUs without them); the reference rounds and then runs its float64-accumulating gemm.
   */
  gemmBf16(
    A: FloatArray,
    B: FloatArray,
    C: FloatArray,
    batch: number,
    M: number,
    N: number,
    K: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    strideC: number,
    beta: number,
  ): void;

  // ---- elementwise ------------------------------------------------------------------------------------------
  /** out[i] = op(x[i]) for i < n. */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray, n: number): void;
  /**
   * dx[i] = dy[i] * op'(x[i]) for i < n. `y` is the forward output (some derivatives are cheaper from it:
   * exp, sqrt, tanh, sigmoid).
   */
  unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray, n: number): void;
  /** out[i] = x[i] * mul + add for i < n (scalar ops; also used in place with out === x). */
  affine(x: FloatArray, out: FloatArray, n: number, mul: number, add: number): void;
  /** out[i] = x[i] ** p for i < n. */
  powScalar(x: FloatArray, out: FloatArray, n: number, p: number): void;
  /**
   * Broadcasting binary op. `shape` is the output shape (rank <= MAX_RANK); aStrides/bStrides are the element
   * strides of a and b over that output shape (0 on broadcast dims). out is contiguous.
   */
  binary(
    op: BinaryOp,
    a: FloatArray,
    aStrides: Int32Array,
    b: FloatArray,
    bStrides: Int32Array,
    out: FloatArray,
    shape: Int32Array,
  ): void;
  /**
   * General strided copy: dst[dstOffset + sum(i_d * dstStrides[d])] = src[srcOffset + sum(i_d * srcStrides[d])]
   * over the index space `shape`. Implements permute, slice, concat, split, expand.
   */
  copyStrided(
    src: FloatArray,
    srcOffset: number,
    srcStrides: Int32Array,
    dst: FloatArray,
    dstOffset: number,
    dstStrides: Int32Array,
    shape: Int32Array,
  ): void;
  /** out[i] = cond[i] ? a[i] : b[i] for i < n. */
  where(cond: Uint8Array, a: FloatArray, b: FloatArray, out: FloatArray, n: number): void;
  /** out[i] = x[i], fill positions where mask[i] with value. */
  maskedFill(x: FloatArray, mask: Uint8Array, value: number, out: FloatArray, n: number): void;

  // ---- reductions over one axis of a (outer, dim, inner) view ------------------------------------------------
  /** out[o, i] = sum_d x[o, d, i]. out has outer * inner elements. Accumulates in at least float64 on reference. */
  sumAxis(x: FloatArray, out: FloatArray, outer: number, dim: number, inner: number): void;
  /** out[o, i] = max_d x[o, d, i]; argmax[o, i] = first d attaining it. */
  maxAxis(x: FloatArray, out: FloatArray, argmax: Int32Array, outer: number, dim: number, inner: number): void;
  /** Sum of squares of x[0..n) (for global grad-norm clipping), accumulated in float64. */
  sumSquares(x: FloatArray, n: number): number;

  // ---- softmax family over the last dim of (N, C) -----------------------------------------------------------
  softmax(x: FloatArray, out: FloatArray, N: number, C: number): void;
  /** dx = y * (dy - sum(dy * y)) per row. */
  softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, N: number, C: number): void;
  logSoftmax(x: FloatArray, out: FloatArray, N: number, C: number): void;
  /** dx = dy - exp(y) * sum(dy) per row (y is the log-softmax output). */
  logSoftmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, N: number, C: number): void;

  /**
   * Cross-entropy fused with log-softmax over logits (N, V). For each row with targets[r] != ignoreIndex:
   *   losses[r] = (1 - s) * -(logp[r, t]) + s * mean_v(-(logp[r, v])),  s = labelSmoothing
   * Rows with the ignore index get losses[r] = 0. lse[r] receives logsumexp of the row (saved for backward).
   */
  crossEntropy(
    logits: FloatArray,
    targets: Int32Array,
    losses: FloatArray,
    lse: FloatArray,
    N: number,
    V: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): void;
  /**
   * dlogits[r, v] = dlosses[r] * (softmax[r, v] - (1 - s) * [v == t] - s / V); rows with the ignore index get 0.
   */
  crossEntropyBackward(
    logits: FloatArray,
    lse: FloatArray,
    targets: Int32Array,
    dlosses: FloatArray,
    dlogits: FloatArray,
    N: number,
    V: number,
    ignoreIndex: number,
    labelSmoothing: number,
  ): void;

  // ---- embedding and gathers --------------------------------------------------------------------------------
  /** out[n, :] = weight[ids[n], :] for n < N; weight is (V, C). */
  embedding(weight: FloatArray, ids: Int32Array, out: FloatArray, N: number, C: number): void;
  /** dweight[ids[n], :] += dout[n, :] (scatter-add; dweight is not cleared). */
  embeddingBackward(dout: FloatArray, ids: Int32Array, dweight: FloatArray, N: number, C: number): void;
  /** out[n] = x[n, idx[n]] for x (N, V). */
  gatherLast(x: FloatArray, idx: Int32Array, out: FloatArray, N: number, V: number): void;
  /** dx (N, V) is overwritten: zero except dx[n, idx[n]] = dout[n]. */
  gatherLastBackward(dout: FloatArray, idx: Int32Array, dx: FloatArray, N: number, V: number): void;

  // ---- normalization ----------------------------------------------------------------------------------------
  /** LayerNorm over rows of (N, C); saves mean and rstd (N) for the backward. bias may be null. */
  layerNorm(
    x: FloatArray,
    weight: FloatArray,
    bias: FloatArray | null,
    out: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
    N: number,
    C: number,
    eps: number,
  ): void;
  /** Writes dx; accumulates dweight and dbias (+=). dbias may be null. */
  layerNormBackward(
    dout: FloatArray,
    x: FloatArray,
    weight: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
    dx: FloatArray,
    dweight: FloatArray,
    dbias: FloatArray | null,
    N: number,
    C: number,
  ): void;
  /** RMSNorm over rows of (N, C): out = x * rstd * weight, rstd = 1 / sqrt(mean(x^2) + eps). */
  rmsNorm(
    x: FloatArray,
    weight: FloatArray,
    out: FloatArray,
    rstd: FloatArray,
    N: number,
    C: number,
    eps: number,
  ): void;
  /** Writes dx; accumulates dweight (+=). */
  rmsNormBackward(
    dout: FloatArray,
    x: FloatArray,
    weight: FloatArray,
    rstd: FloatArray,
    dx: FloatArray,
    dweight: FloatArray,
    N: number,
    C: number,
  ): void;

  // ---- rotary position embedding ----------------------------------------------------------------------------
  /**
   * Rotary embedding on x (B, T, H, D), "rotate half" pairing (i, i + D/2) as in Hugging Face Llama.
   * cos and sin are (T, D/2) for the positions of these T rows. With inverse, rotates by -angle (the backward).
   */
  rope(
    x: FloatArray,
    out: FloatArray,
    cos: FloatArray,
    sin: FloatArray,
    B: number,
    T: number,
    H: number,
    D: number,
    inverse: boolean,
  ): void;

  // ---- fused causal attention -------------------------------------------------------------------------------
  /**
   * Scaled-dot-product attention, tiled with an online softmax (never a full (Tq, Tk) matrix per head).
   * q (B, Tq, Hq, D), k and v (B, Tk, Hkv, D), out (B, Tq, Hq, D); Hq % Hkv == 0 (grouped-query: query head h
   * reads kv head floor(h / (Hq / Hkv))). Query row i sits at absolute position qOffset + i, key j at position j.
   * causal: key j is visible to query i iff j <= qOffset + i. segQ (B, Tq) / segK (B, Tk), when given, further
   * restrict attention to equal segment ids (packing and padding). lse (B, Hq, Tq) receives each row's
   * logsumexp of the scaled scores (-Infinity for a row that sees no key, whose output is 0).
   */
  attention(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    out: FloatArray,
    lse: FloatArray,
    B: number,
    Tq: number,
    Tk: number,
    Hq: number,
    Hkv: number,
    D: number,
    scale: number,
    causal: boolean,
    qOffset: number,
    segQ: Int32Array | null,
    segK: Int32Array | null,
  ): void;
  /** Writes dq, dk, dv (same shapes as q, k, v). */
  attentionBackward(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    out: FloatArray,
    lse: FloatArray,
    dout: FloatArray,
    dq: FloatArray,
    dk: FloatArray,
    dv: FloatArray,
    B: number,
    Tq: number,
    Tk: number,
    Hq: number,
    Hkv: number,
    D: number,
    scale: number,
    causal: boolean,
    qOffset: number,
    segQ: Int32Array | null,
    segK: Int32Array | null,
  ): void;
  /**
   * Self-attention (Tq = Tk = T, Hq = Hkv = H, no cache, no segments) over a packed projection qkv (B, T, 3C),
   * C = H * D, holding q, k, v one after the other along the last dim: the same out (B, T, C) and lse as
   * `attention` on the three parts, without copying them out.
   */
  attentionQKV(
    qkv: FloatArray,
    out: FloatArray,
    lse: FloatArray,
    B: number,
    T: number,
    H: number,
    D: number,
    scale: number,
    causal: boolean,
  ): void;
  /** Writes dqkv (B, T, 3C): dq, dk, dv packed like qkv. */
  attentionQKVBackward(
    qkv: FloatArray,
    out: FloatArray,
    lse: FloatArray,
    dout: FloatArray,
    dqkv: FloatArray,
    B: number,
    T: number,
    H: number,
    D: number,
    scale: number,
    causal: boolean,
  ): void;

  // ---- dropout ----------------------------------------------------------------------------------------------
  /**
   * out[i] = keep(seed, i) ? x[i] / (1 - p) : 0, where keep(seed, i) = hash32(seed, i) >= p * 2^32 with the
   * shared counter-based hash in `src/backend/hash.ts` (so both backends draw the same mask). The backward is
   * the same call on dy.
   */
  dropout(x: FloatArray, out: FloatArray, n: number, p: number, seed: number): void;

  // ---- optimizers (in place) --------------------------------------------------------------------------------
  /**
   * AdamW step t (1-based) with decoupled weight decay:
   *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  mhat = m / (1-b1^t);  vhat = v / (1-b2^t)
   *   p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p)
   * g is read as grad[i] * gradScale (gradScale folds global-norm clipping into the step).
   */
  adamw(
    param: FloatArray,
    grad: FloatArray,
    m: FloatArray,
    v: FloatArray,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
    gradScale: number,
  ): void;
  /**
   * SGD with momentum (PyTorch semantics, dampening 0): g = grad * gradScale + wd * p;
   * buf = momentum * buf + g (buf = g on the first step, signalled by firstStep); p -= lr * (nesterov ? g + momentum * buf : buf).
   */
  sgd(
    param: FloatArray,
    grad: FloatArray,
    buf: FloatArray,
    n: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
    firstStep: boolean,
    gradScale: number,
  ): void;
}
