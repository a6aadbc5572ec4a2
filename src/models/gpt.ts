/**
 * A GPT-2 style decoder-only transformer: learned token and position embeddings, pre-LayerNorm blocks of causal
 * multi-head attention and a GELU MLP, a final LayerNorm and a language-model head tied to the token embedding.
 * Parameter names follow nanoGPT/Hugging Face GPT-2 (`wte`, `h.0.attn.c_attn`, ...); linear weights use the
 * PyTorch (out, in) layout. Dimension letters: B batch, T time, C channels, V vocab, H heads, D head size.
 */
import type { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import * as F from '../ops/index.ts';
import { Dropout, Embedding, LayerNorm, Linear } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';

export interface GPTConfig {
  /** Vocabulary size V. */
  vocabSize: number;
  /** Maximum context length (positions). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** Model width C (a multiple of nHead). */
  nEmbd: number;
  /** Dropout probability on embeddings, attention output and MLP output (0 disables). */
  dropout: number;
  /** Biases in linear layers and LayerNorms (GPT-2: true). */
  bias: boolean;
  /** LayerNorm epsilon (GPT-2: 1e-5). */
  layerNormEps: number;
}

class CausalSelfAttention extends Module {
  c_attn: Linear;
  c_proj: Linear;
  resid_dropout: Dropout;
  constructor(readonly cfg: GPTConfig, rng: Rng) {
    super();
    const C = cfg.nEmbd;
    this.c_attn = new Linear(C, 3 * C, { bias: cfg.bias, rng });
    this.c_proj = new Linear(C, C, { bias: cfg.bias, rng, std: 0.02 / Math.sqrt(2 * cfg.nLayer) });
    this.resid_dropout = new Dropout(cfg.dropout);
  }
  forward(x: Tensor, seed: number): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const H = this.cfg.nHead;
    const qkv = this.c_attn.forward(x); // (B, T, 3C)
    const [q, k, v] = F.split(qkv, C, 2).map((t) => F.reshape(t, [B, T, H, C / H])) as [Tensor, Tensor, Tensor];
    const y = F.reshape(F.attention(q, k, v, { causal: true }), [B, T, C]);
    return this.resid_dropout.forward(this.c_proj.forward(y), seed);
  }
}

class MLP extends Module {
  c_fc: Linear;
  c_proj: Linear;
  dropout: Dropout;
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    const C = cfg.nEmbd;
    this.c_fc = new Linear(C, 4 * C, { bias: cfg.bias, rng });
    this.c_proj = new Linear(4 * C, C, { bias: cfg.bias, rng, std: 0.02 / Math.sqrt(2 * cfg.nLayer) });
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
  constructor(cfg: GPTConfig, rng: Rng) {
    super();
    this.ln_1 = new LayerNorm(cfg.nEmbd, cfg.layerNormEps, cfg.bias);
    this.attn = new CausalSelfAttention(cfg, rng);
    this.ln_2 = new LayerNorm(cfg.nEmbd, cfg.layerNormEps, cfg.bias);
    this.mlp = new MLP(cfg, rng);
  }
  forward(x: Tensor, seed: number): Tensor {
    const h = F.add(x, this.attn.forward(this.ln_1.forward(x), seed));
    return F.add(h, this.mlp.forward(this.ln_2.forward(h), seed + 1));
  }
}

export class GPT extends Module {
  wte: Embedding;
  wpe: Embedding;
  h: Block[];
  ln_f: LayerNorm;
  drop: Dropout;
  /** Dropout seed of the next forward pass (advanced every call, so masks differ step to step). */
  private dropoutSeed = 0;

  constructor(readonly config: GPTConfig, rng: Rng) {
    super();
    const cfg = config;
    if (cfg.nEmbd % cfg.nHead !== 0) throw new RangeError(`GPT: nEmbd ${cfg.nEmbd} must be a multiple of nHead ${cfg.nHead}`);
    this.wte = new Embedding(cfg.vocabSize, cfg.nEmbd, { rng });
    this.wpe = new Embedding(cfg.blockSize, cfg.nEmbd, { rng, std: 0.01 });
    this.h = Array.from({ length: cfg.nLayer }, () => new Block(cfg, rng));
    this.ln_f = new LayerNorm(cfg.nEmbd, cfg.layerNormEps, cfg.bias);
    this.drop = new Dropout(cfg.dropout);
  }

  /**
   * Logits (B, T, V) for token ids (B*T, row-major), and the mean cross-entropy when targets are given
   * (targets equal to -100 are ignored).
   */
  forward(ids: Int32Array, B: number, T: number, targets?: Int32Array): { logits: Tensor; loss: Tensor | null } {
    if (T > this.config.blockSize) throw new RangeError(`GPT: sequence length ${T} exceeds blockSize ${this.config.blockSize}`);
    if (ids.length !== B * T) throw new RangeError(`GPT: expected B*T = ${B * T} token ids, received ${ids.length}`);
    const pos = new Int32Array(B * T);
    for (let i = 0; i < B * T; i++) pos[i] = i % T;
    const seed = (this.dropoutSeed += 1000003);
    let x = F.add(this.wte.forward(ids, [B, T]), this.wpe.forward(pos, [B, T])); // (B, T, C)
    x = this.drop.forward(x, seed);
    this.h.forEach((block, i) => {
      x = block.forward(x, seed + 2 * (i + 1));
    });
    x = this.ln_f.forward(x);
    const logits = F.linear(x, this.wte.weight); // (B, T, V), tied head
    const loss = targets ? F.crossEntropy(logits, targets) : null;
    return { logits, loss };
  }
}
