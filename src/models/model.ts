/**
 * The contract every language model in llmforge meets: one typed config that covers the GPT-2 family (learned
 * positions, LayerNorm, GELU, biases, tied head) and the Llama family (RoPE, RMSNorm, SwiGLU, grouped-query
 * attention, untied head), and the forward pass the trainer, generation and evaluation call. A KV cache makes
 * decoding cost one position per step instead of re-reading the whole prefix.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from '../nn/module.ts';
import type { DecodePrecision, TokenDecoder } from './decoder.ts';
import type { RopeScaling } from './rope-scaling.ts';

export type Arch = 'gpt2' | 'llama';

export interface ModelConfig {
  /** Architecture family. */
  arch: Arch;
  /** Vocabulary size V. */
  vocabSize: number;
  /** Maximum context length (positions). */
  blockSize: number;
  nLayer: number;
  /** Query heads H. */
  nHead: number;
  /** Key/value heads (grouped-query attention); equal to nHead for multi-head attention. */
  nKvHead: number;
  /** Model width C (a multiple of nHead unless headDim is given). */
  nEmbd: number;
  /** MLP hidden width (GPT-2: 4 C; Llama: the SwiGLU intermediate size). */
  mlpHidden: number;
  /** Dropout probability (0 disables). */
  dropout: number;
  /** Biases in linear layers and norms (GPT-2: true; Llama: false). */
  bias: boolean;
  /** Norm epsilon (GPT-2 LayerNorm 1e-5; Llama RMSNorm 1e-5 or 1e-6). */
  normEps: number;
  /** RoPE base (Llama family only). */
  ropeTheta: number;
  /** Language-model head shares the token embedding matrix. */
  tieEmbeddings: boolean;
  /** Biases on the query/key/value projections only (Qwen2; Llama family only). Absent means false. */
  qkvBias?: boolean;
  /**
   * Head size D (Llama family only). Absent means nEmbd / nHead; when given, q/k/v project C to nHead * D and
   * nKvHead * D, and o_proj maps nHead * D back to C (as Hugging Face's `head_dim`).
   */
  headDim?: number;
  /** RoPE context-extension scaling ("linear" or "llama3", see rope-scaling.ts; Llama family only). Absent: none. */
  ropeScaling?: RopeScaling;
}

/** Keys and values of the positions seen so far, per layer; created by `LanguageModel.createCache`. */
export interface KVCache {
  /** Batch size the cache was created for. */
  readonly batch: number;
  /** Capacity in positions. */
  readonly capacity: number;
  /** Positions already stored (the next forward's first position). */
  length: number;
}

export interface ForwardOptions {
  /** Decoding: attend over the cached prefix, append this call's keys and values, advance `cache.length`. */
  cache?: KVCache;
  /** Compute logits for the last position of each row only (B, 1, V): generation and classification reads. */
  lastOnly?: boolean;
  /**
   * Seed of this call's dropout masks. Without it the model advances a private counter on every call; a trainer
   * passes a seed derived from (step, micro-batch) so a resumed run draws the same masks.
   */
  dropoutSeed?: number;
  /**
   * Return the final-normed hidden states (B, T, C), or (B, 1, C) with `lastOnly`, in `logits` instead of the
   * language-model head's output (no head matmul, no loss): what a classification head reads.
   */
  hidden?: boolean;
  /**
   * Segment id per token (B*T, row-major), for packed sequences: a token attends only to earlier tokens of its own
   * segment, and positions (learned or RoPE) restart at 0 where a segment starts. Not with a KV cache.
   */
  segments?: Int32Array;
}

export interface ForwardResult {
  /** (B, T, V), or (B, 1, V) with `lastOnly`; the hidden states (B, T or 1, C) with `hidden`. */
  logits: Tensor;
  /** Mean cross-entropy over targets that are not -100, when targets are given. */
  loss: Tensor | null;
}

export abstract class LanguageModel extends Module {
  abstract readonly config: ModelConfig;
  /** ids and targets are B*T row-major token ids. */
  abstract forward(
    ids: Int32Array,
    B: number,
    T: number,
    targets?: Int32Array | null,
    opts?: ForwardOptions,
  ): ForwardResult;
  abstract createCache(batch: number, capacity: number): KVCache;
  /** A fast batch-1 decoder in `precision` (see decoder.ts), or null where this model has none. */
  decoder(_precision: DecodePrecision): TokenDecoder | null {
    return null;
  }
}
