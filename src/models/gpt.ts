/**
 * A GPT-2 style decoder-only transformer (arch 'gpt2'): learned token and position embeddings, pre-LayerNorm blocks
 * of causal multi-head attention and a GELU (tanh) MLP of width mlpHidden, a final LayerNorm and a language-model
 * head, tied to the token embedding when config.tieEmbeddings (GPT-2) or a separate `lm_head`. Parameter names
 * follow nanoGPT/Hugging Face GPT-2 (`wte`, `h.0.attn.c_attn`, ...); linear weights use the PyTorch (out, in)
 * layout. With a KV cache, a forward runs positions cache.length.. and attends over the cached prefix.
 * Dimension letters: B batch, T time, C channels, V vocab, H heads, D head size.
 */
import type { Rng } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import * as F from '../ops/index.ts';
import { Dropout, Embedding, initWith, LayerNorm, Linear } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { checkModelConfig } from './config.ts';
import type { DecodePrecision, TokenDecoder } from './decoder.ts';
import { GptDecoder } from './gpt-decode.ts';
import { lmOutput, planForward, runPlanned, tokenPositions, type ForwardPlan } from './forward-common.ts';
import { KVBuffers } from './kv-cache.ts';
import { LanguageModel, type ForwardOptions, type ForwardResult, type KVCache, type ModelConfig } from './model.ts';

/** One decoded position (B = T = 1, no autograd): q, k, v (1, 1, H, D) as views of qkv's thirds, without copies. */
function qkvViews(qkv: Tensor, C: number, H: number): [Tensor, Tensor, Tensor] {
  const view = (i: number): Tensor => new Tensor(qkv.data.subarray(i * C, (i + 1) * C), [1, 1, H, C / H]);
  return [view(0), view(1), view(2)];
}

class CausalSelfAttention extends Module {
  c_attn: Linear;
  c_proj: Linear;
  resid_dropout: Dropout;
  constructor(
    readonly cfg: ModelConfig,
    rng: Rng | null,
  ) {
    super();
    const C = cfg.nEmbd;
    this.c_attn = new Linear(C, 3 * C, { bias: cfg.bias, ...initWith(rng) });
    this.c_proj = new Linear(C, C, { bias: cfg.bias, ...initWith(rng), std: 0.02 / Math.sqrt(2 * cfg.nLayer) });
    this.resid_dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor, layer: number, plan: ForwardPlan, seed: number): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const H = this.cfg.nHead;
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    if (!plan.cache && !plan.segments) {
      const y = F.attentionFromQKV(qkv, H); // (B, T, C)
      return this.resid_dropout.forward(this.c_proj.forward(y), seed);
    }
    const [q, k, v] =
      B * T === 1
        ? qkvViews(qkv, C, H)
        : (F.split(qkv, C, 2).map((t) => F.reshape(t, [B, T, H, C / H])) as [Tensor, Tensor, Tensor]);
    const [kAll, vAll] = plan.cache ? plan.cache.append(layer, k, v) : [k, v]; // (B, start + T, H, D)
    const y = F.reshape(
      F.attention(q, kAll, vAll, { causal: true, qOffset: plan.start, segQ: plan.segments, segK: plan.segments }),
      [B, T, C],
    );
    return this.resid_dropout.forward(this.c_proj.forward(y), seed);
  }
}

class MLP extends Module {
  c_fc: Linear;
  c_proj: Linear;
  dropout: Dropout;
  constructor(cfg: ModelConfig, rng: Rng | null) {
    super();
    const C = cfg.nEmbd;
    this.c_fc = new Linear(C, cfg.mlpHidden, { bias: cfg.bias, ...initWith(rng) });
    this.c_proj = new Linear(cfg.mlpHidden, C, {
      bias: cfg.bias,
      ...initWith(rng),
      std: 0.02 / Math.sqrt(2 * cfg.nLayer),
    });
    this.dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor, seed: number): Tensor {
    return this.dropout.forward(this.c_proj.forward(F.gelu(this.c_fc.forward(x), 'tanh')), seed);
  }
}

class Block extends Module {
  ln_1: LayerNorm;
  attn: CausalSelfAttention;
  ln_2: LayerNorm;
  mlp: MLP;
  constructor(cfg: ModelConfig, rng: Rng | null) {
    super();
    this.ln_1 = new LayerNorm(cfg.nEmbd, cfg.normEps, cfg.bias, rng !== null);
    this.attn = new CausalSelfAttention(cfg, rng);
    this.ln_2 = new LayerNorm(cfg.nEmbd, cfg.normEps, cfg.bias, rng !== null);
    this.mlp = new MLP(cfg, rng);
  }
  forward(x: Tensor, layer: number, plan: ForwardPlan, seed: number): Tensor {
    const h = F.add(x, this.attn.forward(this.ln_1.forward(x), layer, plan, seed));
    return F.add(h, this.mlp.forward(this.ln_2.forward(h), seed + 1));
  }
}

export class GPT extends LanguageModel {
  readonly config: ModelConfig;
  wte: Embedding;
  wpe: Embedding;
  h: Block[];
  ln_f: LayerNorm;
  /** Separate head (V, C) when the config does not tie it to wte; null when tied. */
  lm_head: Linear | null;
  drop: Dropout;
  /** Dropout seed of the next forward pass (advanced every call, so masks differ step to step). */
  private dropoutSeed = 0;

  /** `rng` draws the initial weights; null leaves every parameter zero for a loader to fill (createModel's `{ init: false }`). */
  constructor(config: ModelConfig, rng: Rng | null) {
    super();
    const cfg = checkModelConfig(config, 'GPT');
    if (cfg.arch !== 'gpt2') throw new RangeError(`GPT: config.arch must be 'gpt2', received '${cfg.arch}'`);
    this.config = cfg;
    this.wte = new Embedding(cfg.vocabSize, cfg.nEmbd, initWith(rng));
    this.wpe = new Embedding(cfg.blockSize, cfg.nEmbd, { ...initWith(rng), std: 0.01 });
    this.h = Array.from({ length: cfg.nLayer }, () => new Block(cfg, rng));
    this.ln_f = new LayerNorm(cfg.nEmbd, cfg.normEps, cfg.bias, rng !== null);
    this.lm_head = cfg.tieEmbeddings ? null : new Linear(cfg.nEmbd, cfg.vocabSize, { bias: false, ...initWith(rng) });
    this.drop = new Dropout(cfg.dropout);
  }

  createCache(batch: number, capacity: number): KVCache {
    return KVBuffers.forConfig(this.config, batch, capacity);
  }

  override decoder(precision: DecodePrecision): TokenDecoder | null {
    return GptDecoder.create(this, precision);
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
    const plan = planForward('GPT', this.config, ids, B, T, targets, opts);
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
    const pos = tokenPositions(plan, B, T);
    const seed = plan.dropoutSeed ?? this.nextDropoutSeed();
    let x = F.add(this.wte.forward(ids, [B, T]), this.wpe.forward(pos, [B, T])); // (B, T, C)
    x = this.drop.forward(x, seed);
    this.h.forEach((block, i) => {
      x = block.forward(x, i, plan, seed + 2 * (i + 1));
    });
    const head = this.lm_head;
    if (hidden)
      return lmOutput(
        x,
        (t) => this.ln_f.forward(t),
        (t) => t,
        null,
        plan.lastOnly,
      );
    const headWeight = !head ? this.wte.weight : head instanceof Linear && !head.bias ? head.weight : null; // null: LoRA-wrapped
    return lmOutput(
      x,
      (t) => this.ln_f.forward(t),
      head ? (t) => head.forward(t) : (t) => F.linear(t, this.wte.weight),
      targets,
      plan.lastOnly,
      headWeight,
    );
  }
}
