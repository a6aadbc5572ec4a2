/**
 * The PPO policy: a language model with a value head (Linear C -> 1 with bias, as TRL's
 * AutoModelForCausalLMWithValueHead) over its final-normed hidden states. One forward of a batch of rollouts
 * (prompt + response rows, right-padded) gives, for each response token only, the policy's log-probability of that
 * token, the value of the state it was chosen in, and the entropy of the distribution it was drawn from: the hidden
 * states are computed once, their response rows gathered, and only those rows go through the language-model head
 * and the value head. Response token j of a row whose prompt has P tokens is predicted at position P + j - 1.
 */
import { GPT } from '../models/gpt.ts';
import { Llama } from '../models/llama.ts';
import type { LanguageModel } from '../models/model.ts';
import { Linear } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import * as F from '../ops/index.ts';
import { noGrad } from '../tensor/autograd.ts';
import type { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** The scalar value of each state, from a hidden state (..., C) to (..., 1). */
export class ValueHead extends Module {
  summary: Linear;
  constructor(nEmbd: number, rng: Rng) {
    super();
    this.summary = new Linear(nEmbd, 1, { bias: true, rng });
  }
  forward(h: Tensor): Tensor {
    return this.summary.forward(h);
  }
}

/** Policy and value head as one module (one optimizer, one set of parameter names: `policy.*`, `value.*`). */
export class PolicyWithValue extends Module {
  constructor(
    readonly policy: LanguageModel,
    readonly value: ValueHead,
  ) {
    super();
  }
}

/** The language-model head of GPT-2 and Llama models as a function of final-normed hidden states. */
export function languageHead(model: LanguageModel): (h: Tensor) => Tensor {
  if (model instanceof GPT) {
    const head = model.lm_head;
    return head ? (h) => head.forward(h) : (h) => F.linear(h, model.wte.weight);
  }
  if (model instanceof Llama) {
    const head = model.lm_head;
    return head ? (h) => head.forward(h) : (h) => F.linear(h, model.model.embed_tokens.weight);
  }
  throw new TypeError('PPO: the policy must be a GPT-2 or Llama family model');
}

/** Rollouts as one padded batch: ids (B*T), and per response token its flat input position and its token id. */
export interface RolloutBatch {
  ids: Int32Array;
  B: number;
  T: number;
  /** b * T + position predicting each response token, rows in order, tokens in order (N). */
  positions: Int32Array;
  /** The response tokens (N). */
  targets: Int32Array;
  /** Response tokens per row (sums to N). */
  lengths: number[];
}

/** Pads rows of prompt + response tokens; `promptLengths[b]` tokens of row b are prompt (at least 1). */
export function rolloutBatch(
  rows: readonly (readonly number[])[],
  promptLengths: readonly number[],
  padId: number,
): RolloutBatch {
  const B = rows.length;
  const T = Math.max(1, ...rows.map((r) => r.length - 1));
  const ids = new Int32Array(B * T).fill(padId);
  const positions: number[] = [];
  const targets: number[] = [];
  const lengths: number[] = [];
  rows.forEach((row, b) => {
    const P = promptLengths[b]!;
    if (P < 1 || P > row.length)
      throw new RangeError(`rolloutBatch: row ${b} has ${row.length} tokens and a prompt of ${P}`);
    ids.set(row.slice(0, row.length - 1), b * T);
    for (let t = P; t < row.length; t++) {
      positions.push(b * T + t - 1);
      targets.push(row[t]!);
    }
    lengths.push(row.length - P);
  });
  return { ids, B, T, positions: Int32Array.from(positions), targets: Int32Array.from(targets), lengths };
}

export interface PolicyOutput {
  /** log pi(token) per response token (N), differentiable. */
  logprobs: Tensor;
  /** V(state) per response token (N), differentiable (absent without a value head). */
  values: Tensor | null;
  /** Entropy of the policy's distribution at each response token (N), no gradient. */
  entropy: Float64Array;
}

/** Log-probabilities, values and entropies of the response tokens of `batch`. */
export function policyForward(
  model: LanguageModel,
  valueHead: ValueHead | null,
  batch: RolloutBatch,
  dropoutSeed?: number,
): PolicyOutput {
  const { B, T } = batch;
  const C = model.config.nEmbd;
  const N = batch.positions.length;
  const opts = dropoutSeed === undefined ? { hidden: true } : { hidden: true, dropoutSeed };
  const h = model.forward(batch.ids, B, T, null, opts).logits; // (B, T, C)
  const rows = F.embedding(F.reshape(h, [B * T, C]), batch.positions); // (N, C)
  const logits = languageHead(model)(rows); // (N, V)
  const logprobs = F.neg(F.crossEntropy(logits, batch.targets, { reduction: 'none' })); // (N)
  const values = valueHead ? F.reshape(valueHead.forward(rows), [N]) : null; // (N)
  return { logprobs, values, entropy: entropies(logits) };
}

/** Entropy -sum p log p of each row of logits (N, V). */
function entropies(logits: Tensor): Float64Array {
  const V = logits.shape[logits.ndim - 1]!;
  const N = logits.size / V;
  const out = new Float64Array(N);
  const d = logits.data;
  for (let i = 0; i < N; i++) {
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, d[i * V + j]!);
    let z = 0;
    let s = 0;
    for (let j = 0; j < V; j++) {
      const x = d[i * V + j]! - m;
      const e = Math.exp(x);
      z += e;
      s += e * x;
    }
    out[i] = Math.log(z) - s / z;
  }
  return out;
}

/** The same quantities without a graph, the model in eval mode (rollout scoring, reference log-probabilities). */
export function scoreRollouts(
  model: LanguageModel,
  valueHead: ValueHead | null,
  batch: RolloutBatch,
): { logprobs: Float64Array; values: Float64Array | null; entropy: Float64Array } {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      const r = policyForward(model, valueHead, batch);
      return {
        logprobs: Float64Array.from(r.logprobs.data),
        values: r.values ? Float64Array.from(r.values.data) : null,
        entropy: r.entropy,
      };
    });
  } finally {
    model.train(wasTraining);
  }
}
