/**
 * A Llama style decoder-only transformer (arch 'llama'): token embedding, pre-RMSNorm blocks of causal attention
 * with rotary position embeddings (rotate-half pairing, base config.ropeTheta, optionally config.ropeScaling's
 * linear or Llama 3 frequency scaling) and grouped-query attention
 * (nKvHead key/value heads shared by nHead query heads), a SwiGLU MLP (down(silu(gate(x)) * up(x))), a final
 * RMSNorm and an untied `lm_head` (tied to the embedding when config.tieEmbeddings). config.qkvBias adds biases to
 * the query/key/value projections only, as Qwen2 has them; config.headDim sets a head size D other than C / H
 * (q/k/v project C to H*D and Hkv*D, o_proj maps H*D back to C). Fields are named so parameter
 * names match Hugging Face's LlamaForCausalLM (`model.embed_tokens`, `model.layers.0.self_attn.q_proj`, ...,
 * `model.norm`, `lm_head`). Dimension letters: B batch, T time, C channels, V vocab, H query heads, Hkv key/value
 * heads, D head size.
 */
import { isFloat64 } from '../backend/index.ts';
import type { Rng } from '../tensor/random.ts';
import { allocStorage, type Tensor } from '../tensor/tensor.ts';
import * as F from '../ops/index.ts';
import { Dropout, Embedding, initWith, Linear, RMSNorm } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { checkModelConfig, headSize } from './config.ts';
import type { DecodePrecision, TokenDecoder } from './decoder.ts';
import { lmOutput, planForward, runPlanned, tokenPositions, type ForwardPlan } from './forward-common.ts';
import { KVBuffers } from './kv-cache.ts';
import { LlamaDecoder } from './llama-decode.ts';
import { LanguageModel, type ForwardOptions, type ForwardResult, type KVCache, type ModelConfig } from './model.ts';
import { ropeInverseFrequencies } from './rope-scaling.ts';

class LlamaAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  resid_dropout: Dropout;
  constructor(
    readonly cfg: ModelConfig,
    rng: Rng | null,
  ) {
    super();
    const C = cfg.nEmbd;
    const D = headSize(cfg);
    const qkvBias = cfg.bias || cfg.qkvBias === true; // Qwen2: biases on q/k/v only
    this.q_proj = new Linear(C, cfg.nHead * D, { bias: qkvBias, ...initWith(rng) });
    this.k_proj = new Linear(C, cfg.nKvHead * D, { bias: qkvBias, ...initWith(rng) });
    this.v_proj = new Linear(C, cfg.nKvHead * D, { bias: qkvBias, ...initWith(rng) });
    this.o_proj = new Linear(cfg.nHead * D, C, {
      bias: cfg.bias,
      ...initWith(rng),
      std: 0.02 / Math.sqrt(2 * cfg.nLayer),
    });
    this.resid_dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor, layer: number, plan: ForwardPlan, rope: F.RopeTables, seed: number): Tensor {
    const [B, T] = x.shape as [number, number, number];
    const { nHead: H, nKvHead: Hkv } = this.cfg;
    const D = headSize(this.cfg);
    // Per-token tables (packed rows) are (B*T, D/2): rotate the activations viewed as one row of B*T positions.
    const rot = (t: Tensor, h: number): Tensor =>
      rope.T === T ? F.rope(t, rope) : F.reshape(F.rope(F.reshape(t, [1, B * T, h, D]), rope), [B, T, h, D]);
    const q = rot(F.reshape(this.q_proj.forward(x), [B, T, H, D]), H); // (B, T, H, D)
    const k = rot(F.reshape(this.k_proj.forward(x), [B, T, Hkv, D]), Hkv); // (B, T, Hkv, D)
    const v = F.reshape(this.v_proj.forward(x), [B, T, Hkv, D]);
    const [kAll, vAll] = plan.cache ? plan.cache.append(layer, k, v) : [k, v]; // (B, start + T, Hkv, D)
    const y = F.reshape(
      F.attention(q, kAll, vAll, { causal: true, qOffset: plan.start, segQ: plan.segments, segK: plan.segments }),
      [B, T, H * D],
    );
    return this.resid_dropout.forward(this.o_proj.forward(y), seed);
  }
}

class LlamaMLP extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;
  dropout: Dropout;
  constructor(cfg: ModelConfig, rng: Rng | null) {
    super();
    const C = cfg.nEmbd;
    this.gate_proj = new Linear(C, cfg.mlpHidden, { bias: cfg.bias, ...initWith(rng) });
    this.up_proj = new Linear(C, cfg.mlpHidden, { bias: cfg.bias, ...initWith(rng) });
    this.down_proj = new Linear(cfg.mlpHidden, C, {
      bias: cfg.bias,
      ...initWith(rng),
      std: 0.02 / Math.sqrt(2 * cfg.nLayer),
    });
    this.dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor, seed: number): Tensor {
    const h = F.mul(F.silu(this.gate_proj.forward(x)), this.up_proj.forward(x)); // (B, T, mlpHidden)
    return this.dropout.forward(this.down_proj.forward(h), seed);
  }
}

class LlamaDecoderLayer extends Module {
  self_attn: LlamaAttention;
  mlp: LlamaMLP;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;
  constructor(cfg: ModelConfig, rng: Rng | null) {
    super();
    this.self_attn = new LlamaAttention(cfg, rng);
    this.mlp = new LlamaMLP(cfg, rng);
    this.input_layernorm = new RMSNorm(cfg.nEmbd, cfg.normEps, rng !== null);
    this.post_attention_layernorm = new RMSNorm(cfg.nEmbd, cfg.normEps, rng !== null);
  }
  forward(x: Tensor, layer: number, plan: ForwardPlan, rope: F.RopeTables, seed: number): Tensor {
    const h = F.add(x, this.self_attn.forward(this.input_layernorm.forward(x), layer, plan, rope, seed));
    return F.add(h, this.mlp.forward(this.post_attention_layernorm.forward(h), seed + 1));
  }
}

/** The decoder stack (Hugging Face's LlamaModel): embedding, layers, final norm. */
class LlamaBody extends Module {
  embed_tokens: Embedding;
  layers: LlamaDecoderLayer[];
  norm: RMSNorm;
  constructor(cfg: ModelConfig, rng: Rng | null) {
    super();
    this.embed_tokens = new Embedding(cfg.vocabSize, cfg.nEmbd, initWith(rng));
    this.layers = Array.from({ length: cfg.nLayer }, () => new LlamaDecoderLayer(cfg, rng));
    this.norm = new RMSNorm(cfg.nEmbd, cfg.normEps, rng !== null);
  }
}

export class Llama extends LanguageModel {
  readonly config: ModelConfig;
  model: LlamaBody;
  /** Output head (V, C); null when tied to model.embed_tokens. */
  lm_head: Linear | null;
  drop: Dropout;
  private dropoutSeed = 0;
  /** cos/sin for positions 0..blockSize-1, built on first use (per storage precision). */
  private ropeAll: F.RopeTables | null = null;

  /** `rng` draws the initial weights; null leaves every parameter zero for a loader to fill (createModel's `{ init: false }`). */
  constructor(config: ModelConfig, rng: Rng | null) {
    super();
    const cfg = checkModelConfig(config, 'Llama');
    if (cfg.arch !== 'llama') throw new RangeError(`Llama: config.arch must be 'llama', received '${cfg.arch}'`);
    this.config = cfg;
    this.model = new LlamaBody(cfg, rng);
    this.lm_head = cfg.tieEmbeddings ? null : new Linear(cfg.nEmbd, cfg.vocabSize, { bias: false, ...initWith(rng) });
    this.drop = new Dropout(cfg.dropout);
  }

  createCache(batch: number, capacity: number): KVCache {
    return KVBuffers.forConfig(this.config, batch, capacity);
  }

  override decoder(precision: DecodePrecision): TokenDecoder | null {
    return LlamaDecoder.create(this, precision);
  }

  /** Rotation tables for positions start..start+T-1 (views into the tables for the whole context; the fused decoder reads its position's row). */
  ropeFor(start: number, T: number): F.RopeTables {
    const cfg = this.config;
    const D = headSize(cfg);
    if (!this.ropeAll || this.ropeAll.cos instanceof Float64Array !== isFloat64()) {
      this.ropeAll = F.ropeTablesFor(cfg.blockSize, ropeInverseFrequencies(D, cfg.ropeTheta, cfg.ropeScaling));
    }
    const half = D / 2;
    const { cos, sin } = this.ropeAll;
    return {
      cos: cos.subarray(start * half, (start + T) * half),
      sin: sin.subarray(start * half, (start + T) * half),
      T,
      D,
    };
  }

  /** Rotation tables for arbitrary positions (B*T entries, packed rows): rows of the whole-context tables. */
  private ropeAt(pos: Int32Array): F.RopeTables {
    const full = this.ropeFor(0, this.config.blockSize);
    const half = full.D / 2;
    const cos = allocStorage(pos.length * half);
    const sin = allocStorage(pos.length * half);
    pos.forEach((p, i) => {
      cos.set(full.cos.subarray(p * half, (p + 1) * half), i * half);
      sin.set(full.sin.subarray(p * half, (p + 1) * half), i * half);
    });
    return { cos, sin, T: pos.length, D: full.D };
  }

  /**
   * Logits (B, T, V) for token ids (B*T, row-major), and the mean cross-entropy when targets are given
   * (targets equal to -100 are ignored). With opts.cache the call runs without autograd (inference).
   */
  forward(
    ids: Int32Array,
    B: number,
    T: number,
    targets: Int32Array | null = null,
    opts: ForwardOptions = {},
  ): ForwardResult {
    const plan = planForward('Llama', this.config, ids, B, T, targets, opts);
    return runPlanned(plan, T, () => this.run(ids, B, T, targets, plan, opts.hidden ?? false));
  }

  /** Advances and returns the model's own dropout seed (for a forward whose plan brings none). */
  private nextDropoutSeed(): number {
    this.dropoutSeed += 1000003;
    return this.dropoutSeed;
  }

  private run(
    ids: Int32Array,
    B: number,
    T: number,
    targets: Int32Array | null,
    plan: ForwardPlan,
    hidden: boolean,
  ): ForwardResult {
    const seed = plan.dropoutSeed ?? this.nextDropoutSeed();
    const rope = plan.segments ? this.ropeAt(tokenPositions(plan, B, T)) : this.ropeFor(plan.start, T);
    let x = this.drop.forward(this.model.embed_tokens.forward(ids, [B, T]), seed); // (B, T, C)
    this.model.layers.forEach((layer, i) => {
      x = layer.forward(x, i, plan, rope, seed + 2 * (i + 1));
    });
    const head = this.lm_head;
    const norm = (t: Tensor): Tensor => this.model.norm.forward(t);
    if (hidden) return lmOutput(x, norm, (t) => t, null, plan.lastOnly);
    const headWeight = !head
      ? this.model.embed_tokens.weight
      : head instanceof Linear && !head.bias
        ? head.weight
        : null; // null: LoRA-wrapped
    return lmOutput(
      x,
      norm,
      head ? (t) => head.forward(t) : (t) => F.linear(t, this.model.embed_tokens.weight),
      targets,
      plan.lastOnly,
      headWeight,
    );
  }
}
