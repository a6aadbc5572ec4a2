/**
 * Model accounting from the config alone (no weights allocated): parameters per component, FLOPs per token, and
 * training memory. FLOPs follow the PaLM/Chinchilla convention: a forward pass costs 2 FLOPs per weight of every
 * matmul (the head included, tied or not) plus 4*L*T*H*D for attention scores and the weighted sum over a context
 * of T (counted as if unmasked; H*D = C unless a Llama config sets headDim); training (forward + backward) is 3x
 * the forward, i.e. 6N + 12*L*T*H*D per token.
 * Norms, softmax and elementwise ops are ignored (well under 1%). Activation memory assumes fp32, no activation
 * checkpointing and llmforge's fused attention (no T x T score matrix is kept, only a logsumexp per query row).
 */
import { headSize } from './config.ts';
import type { ModelConfig } from './model.ts';

export interface ParamCounts {
  /** Token embedding (and learned positions for GPT-2). */
  embeddings: number;
  /** q/k/v/o projections over all layers (with biases). */
  attention: number;
  /** MLP weights over all layers (with biases). */
  mlp: number;
  /** Norm weights (and biases) of every layer and the final norm. */
  norms: number;
  /** Separate output head (0 when tied to the token embedding). */
  head: number;
  total: number;
  /** total - embeddings - head: the transformer blocks and norms (Kaplan et al.'s N). */
  nonEmbedding: number;
}

/** Exact parameter counts for `cfg`, equal to `createModel(cfg).numParameters()` in total. */
export function countParameters(cfg: ModelConfig): ParamCounts {
  const { vocabSize: V, nEmbd: C, nLayer: L, mlpHidden: M } = cfg;
  const q = cfg.nHead * headSize(cfg); // query and attention-output width (C unless headDim is set)
  const kv = cfg.nKvHead * headSize(cfg);
  const b = cfg.bias ? 1 : 0;
  const llama = cfg.arch === 'llama';
  const embeddings = V * C + (llama ? 0 : cfg.blockSize * C);
  const qkvB = !cfg.bias && cfg.qkvBias === true ? q + 2 * kv : 0; // Qwen2-style q/k/v biases
  const attnPerLayer = C * q + 2 * C * kv + q * C + b * (q + 2 * kv + C) + qkvB;
  const mlpPerLayer = llama ? 3 * C * M + b * (2 * M + C) : 2 * C * M + b * (M + C);
  const normWidth = llama ? C : C + b * C; // RMSNorm has no bias
  const norms = (2 * L + 1) * normWidth;
  const head = cfg.tieEmbeddings ? 0 : V * C;
  const attention = L * attnPerLayer;
  const mlp = L * mlpPerLayer;
  const total = embeddings + attention + mlp + norms + head;
  return { embeddings, attention, mlp, norms, head, total, nonEmbedding: total - embeddings - head };
}

export interface FlopsPerToken {
  /** Context length T the attention term is counted for. */
  seq: number;
  /** Weights that take part in matmuls (blocks + head; embeddings are lookups). */
  matmulParams: number;
  /** 2 * matmulParams. */
  forwardDense: number;
  /** 4 * L * T * H * D (scores and weighted sum; H * D = C unless headDim is set). */
  forwardAttention: number;
  forward: number;
  /** 3 * forward = 6 * matmulParams + 12 * L * T * C. */
  training: number;
}

/** FLOPs per token for a forward pass and a training step at context length `seq` (default blockSize). */
export function flopsPerToken(cfg: ModelConfig, seq = cfg.blockSize): FlopsPerToken {
  const p = countParameters(cfg);
  // Biases sit in p.attention and p.mlp; they are additions, a negligible error the convention accepts.
  const matmulParams = p.attention + p.mlp + cfg.vocabSize * cfg.nEmbd;
  const forwardDense = 2 * matmulParams;
  const forwardAttention = 4 * cfg.nLayer * seq * cfg.nHead * headSize(cfg);
  const forward = forwardDense + forwardAttention;
  return { seq, matmulParams, forwardDense, forwardAttention, forward, training: 3 * forward };
}

export interface MemoryEstimate {
  batch: number;
  seq: number;
  /** Bytes for the fp32 weights. */
  weights: number;
  /** Bytes for fp32 gradients (one per weight). */
  gradients: number;
  /** Bytes for AdamW's two fp32 moments. */
  optimizer: number;
  /** Bytes of activations kept for the backward pass for one batch x seq step. */
  activations: number;
  /** Floats kept per token per layer (the basis of `activations`). */
  activationFloatsPerTokenLayer: number;
  total: number;
}

/**
 * Activation floats kept per token and layer: GPT-2: the two LayerNorm inputs and outputs (4C), q, k, v (3C), the
 * attention output (C), the two residual sums (2C) and the MLP hidden before and after GELU (2 * mlpHidden).
 * Llama: the two RMSNorm inputs and outputs (4C), q and k before and after RoPE (2q + 2kv, q = H*D and kv = Hkv*D),
 * v (kv), the attention output (q), the two residual sums (2C) and gate, up, silu(gate) and their product
 * (4 * mlpHidden).
 */
function activationFloats(cfg: ModelConfig): number {
  const C = cfg.nEmbd;
  const q = cfg.nHead * headSize(cfg);
  const kv = cfg.nKvHead * headSize(cfg);
  return cfg.arch === 'llama' ? 6 * C + 3 * q + 3 * kv + 4 * cfg.mlpHidden : 10 * C + 2 * cfg.mlpHidden;
}

/**
 * Training memory in fp32 for one step of `batch` sequences of `seq` tokens: weights, gradients, AdamW state and
 * activations (per-layer floats above, plus the embedding output and final norm (2C per token), and the logits
 * with their softmax for the loss (2V per token)).
 */
export function trainingMemory(cfg: ModelConfig, batch: number, seq = cfg.blockSize): MemoryEstimate {
  const n = countParameters(cfg).total;
  const perLayer = activationFloats(cfg);
  const tokens = batch * seq;
  const activations = 4 * tokens * (cfg.nLayer * perLayer + 2 * cfg.nEmbd + 2 * cfg.vocabSize);
  const weights = 4 * n;
  const gradients = 4 * n;
  const optimizer = 8 * n;
  return {
    batch,
    seq,
    weights,
    gradients,
    optimizer,
    activations,
    activationFloatsPerTokenLayer: perLayer,
    total: weights + gradients + optimizer + activations,
  };
}
