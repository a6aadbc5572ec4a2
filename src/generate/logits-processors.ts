/**
 * Logits processing on one row of V scores (a Float32Array, changed in place), the steps a sampler chains before
 * drawing the next token: repetition penalty (CTRL / Hugging Face semantics), frequency and presence penalties
 * (OpenAI semantics), temperature, top-k and top-p (nucleus) filtering, a float32-faithful softmax, and the
 * log-probabilities of a row (what an API's `logprobs` report). Filtered-out tokens get -Infinity logits or zero
 * probability. Ties at a top-k or top-p boundary are broken towards the lower id, so results are deterministic.
 */

/**
 * CTRL-style repetition penalty: for every distinct token id in `context`, a positive logit is divided by
 * `penalty` and a negative one multiplied by it (penalty > 1 makes repeats less likely). Duplicates in `context`
 * are penalized once.
 */
export function applyRepetitionPenalty(logits: Float32Array, context: ArrayLike<number>, penalty: number): void {
  if (penalty === 1 || context.length === 0) return;
  const seen = new Set<number>();
  for (let i = 0; i < context.length; i++) {
    const id = context[i]!;
    if (seen.has(id) || id < 0 || id >= logits.length) continue;
    seen.add(id);
    const x = logits[id]!;
    logits[id] = x > 0 ? x / penalty : x * penalty;
  }
}

/**
 * OpenAI's frequency and presence penalties: for every token id j generated so far, `counts.get(j)` times,
 * logits[j] -= count * frequency + (count > 0 ? presence : 0). Positive values make repeats less likely, negative
 * ones more. `counts` holds generated tokens only (the prompt is not penalized).
 */
export function applyFrequencyPresencePenalty(
  logits: Float32Array,
  counts: ReadonlyMap<number, number>,
  frequency: number,
  presence: number,
): void {
  if (frequency === 0 && presence === 0) return;
  for (const [id, count] of counts) {
    if (count <= 0 || id < 0 || id >= logits.length) continue;
    logits[id] = logits[id]! - (count * frequency + presence);
  }
}

/**
 * Log-probabilities of one row of logits (log-softmax, in float64 from the float32 logits): logits[i] - max -
 * log(sum exp(logits - max)). -Infinity logits give -Infinity; throws as `softmaxRow` does when none is finite.
 */
export function logSoftmaxRow(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  if (max === -Infinity || Number.isNaN(max) || max === Infinity)
    throw new RangeError('log-softmax: the logits have no finite maximum; no distribution to report');
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const shift = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - shift;
  return out;
}

/** Divides every logit by `temperature` (> 0). */
export function applyTemperature(logits: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! / temperature;
}

/**
 * The `count` largest entries of `values` (count <= length): their indices, largest first, ties by lower index.
 * Sorts a typed copy once (native numeric sort), then collects the entries above the boundary value and the
 * lowest-index ties at it.
 */
export function topIndices(values: Float32Array, count: number): Int32Array {
  const V = values.length;
  const n = Math.max(0, Math.min(count, V));
  const out = new Int32Array(n);
  if (n === 0) return out;
  const sorted = Float32Array.from(values).sort(); // ascending; NaN last
  const boundary = sorted[V - n]!;
  let k = 0;
  for (let i = 0; i < V && k < n; i++) if (values[i]! > boundary) out[k++] = i;
  for (let i = 0; i < V && k < n; i++) if (values[i] === boundary) out[k++] = i;
  // Order the selection by value, largest first (stable on index for ties).
  const order = Array.from(out).sort((a, b) => values[b]! - values[a]! || a - b);
  out.set(order);
  return out;
}

/** Keeps the `k` largest logits (ties towards the lower id) and sets the rest to -Infinity; k <= 0 or k >= V keeps all. */
export function applyTopK(logits: Float32Array, k: number): void {
  if (k <= 0 || k >= logits.length) return;
  const keep = topIndices(logits, k);
  const kept = new Float32Array(keep.length);
  for (let j = 0; j < keep.length; j++) kept[j] = logits[keep[j]!]!;
  logits.fill(-Infinity);
  for (let j = 0; j < keep.length; j++) logits[keep[j]!] = kept[j]!;
}

/**
 * Softmax of one row, float32-faithful: the max is subtracted first (no overflow), exponentials and their sum are
 * taken in float64, and each probability is the float32 rounding of exp(x - max) / sum. -Infinity logits give
 * exactly 0. Throws when no logit is finite-or-positive-infinity (an empty distribution).
 */
export function softmaxRow(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  if (max === -Infinity || Number.isNaN(max))
    throw new RangeError('softmax: every logit is -Infinity or NaN; no token can be chosen');
  const out = new Float32Array(logits.length);
  if (max === Infinity) {
    // Limit of the softmax: the +Infinity entries share all the mass.
    let n = 0;
    for (let i = 0; i < logits.length; i++) if (logits[i] === Infinity) n++;
    for (let i = 0; i < logits.length; i++) if (logits[i] === Infinity) out[i] = 1 / n;
    return out;
  }
  const e = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = Math.exp(logits[i]! - max);
    e[i] = v;
    sum += v;
  }
  for (let i = 0; i < logits.length; i++) out[i] = e[i]! / sum;
  return out;
}

/**
 * Nucleus filter on probabilities (in place): keeps the smallest set of most probable tokens whose cumulative
 * probability reaches `p` (at least one token; ties at the boundary towards the lower id), zeroes the rest and
 * renormalizes the kept ones. p >= 1 keeps everything.
 */
export function applyTopP(probs: Float32Array, p: number): void {
  if (p >= 1) return;
  const V = probs.length;
  const sorted = Float32Array.from(probs).sort(); // ascending
  let cum = 0;
  let need = 0;
  for (let j = V - 1; j >= 0; j--) {
    cum += sorted[j]!;
    need++;
    if (cum >= p) break;
  }
  const boundary = sorted[V - need]!;
  let kept = 0;
  let total = 0;
  const keep = new Uint8Array(V);
  for (let i = 0; i < V; i++) {
    if (probs[i]! > boundary) {
      keep[i] = 1;
      kept++;
      total += probs[i]!;
    }
  }
  for (let i = 0; i < V && kept < need; i++) {
    if (probs[i] === boundary) {
      keep[i] = 1;
      kept++;
      total += probs[i]!;
    }
  }
  for (let i = 0; i < V; i++) probs[i] = keep[i] ? probs[i]! / total : 0;
}
