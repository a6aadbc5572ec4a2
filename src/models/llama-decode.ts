/**
 * The Llama `TokenDecoder` (see decoder.ts): one decoded token is its embedding row, then one native call per
 * block (native/src/decode.h: RMSNorm, q/k/v GEMVs, RoPE on q and k, KV-cache append, grouped-query attention over
 * the cache, o_proj, residual, RMSNorm, gate/up GEMVs, SiLU(gate) * up, down, residual) and one for the final
 * RMSNorm and the head (untied, or the embedding when tied), over preallocated buffers. The head size and the
 * RoPE angles are the model's: D from the config (`headSize`, which may differ from C / H), cos/sin from the model's
 * own rotation tables (RoPE scaling included) at the position, so the kernels compute neither. When it exists (the native backend, a plain float32 model: see
 * decode-weights.ts) and in which precision: with 'bf16', the matrix weights and the head are converted once,
 * when the decoder is created.
 */
import type { DecodeKernels, DecodeWeightArray } from '../backend/index.ts';
import { RMSNorm } from '../nn/layers.ts';
import { headSize } from './config.ts';
import { prepareDecode } from './decode-weights.ts';
import type { DecodePrecision, TokenDecoder } from './decoder.ts';
import { KVBuffers } from './kv-cache.ts';
import type { Llama } from './llama.ts';
import type { KVCache } from './model.ts';

interface LayerArrays {
  ln1W: Float32Array;
  qW: DecodeWeightArray;
  qB: Float32Array | null;
  kW: DecodeWeightArray;
  kB: Float32Array | null;
  vW: DecodeWeightArray;
  vB: Float32Array | null;
  oW: DecodeWeightArray;
  oB: Float32Array | null;
  ln2W: Float32Array;
  gateW: DecodeWeightArray;
  gateB: Float32Array | null;
  upW: DecodeWeightArray;
  upB: Float32Array | null;
  downW: DecodeWeightArray;
  downB: Float32Array | null;
}

export class LlamaDecoder implements TokenDecoder {
  private readonly x: Float32Array;
  private readonly logits: Float32Array;

  private constructor(
    readonly precision: DecodePrecision,
    private readonly model: Llama,
    private readonly kernels: DecodeKernels,
    private readonly layers: LayerArrays[],
    private readonly head: DecodeWeightArray,
    private readonly embed: Float32Array,
    private readonly normW: Float32Array,
    /** Head size (q_proj has nHead * D rows). */
    private readonly D: number,
    /** Of every RMSNorm (the kernels take one). */
    private readonly eps: number,
  ) {
    this.x = new Float32Array(model.config.nEmbd);
    this.logits = new Float32Array(model.config.vocabSize);
  }

  /** A decoder for `model`, or null when the fast path does not apply (see the file comment). */
  static create(model: Llama, precision: DecodePrecision): LlamaDecoder | null {
    const { layers: blocks, norm } = model.model;
    const norms = [norm, ...blocks.flatMap((b) => [b.input_layernorm, b.post_attention_layernorm])];
    const linears: unknown[] = [
      ...(model.lm_head ? [model.lm_head] : []),
      ...blocks.flatMap((b) => [
        b.self_attn.q_proj,
        b.self_attn.k_proj,
        b.self_attn.v_proj,
        b.self_attn.o_proj,
        b.mlp.gate_proj,
        b.mlp.up_proj,
        b.mlp.down_proj,
      ]),
    ];
    const prep = prepareDecode(model, precision, linears, norms, RMSNorm);
    if (!prep || !norms.every((n) => n.eps === norm.eps)) return null;
    const { kernels, matrix, vector: vec } = prep;
    const layers = blocks.map(
      ({ self_attn: a, mlp, input_layernorm, post_attention_layernorm }): LayerArrays => ({
        ln1W: vec(input_layernorm.weight),
        qW: matrix(a.q_proj.weight),
        qB: vec(a.q_proj.bias),
        kW: matrix(a.k_proj.weight),
        kB: vec(a.k_proj.bias),
        vW: matrix(a.v_proj.weight),
        vB: vec(a.v_proj.bias),
        oW: matrix(a.o_proj.weight),
        oB: vec(a.o_proj.bias),
        ln2W: vec(post_attention_layernorm.weight),
        gateW: matrix(mlp.gate_proj.weight),
        gateB: vec(mlp.gate_proj.bias),
        upW: matrix(mlp.up_proj.weight),
        upB: vec(mlp.up_proj.bias),
        downW: matrix(mlp.down_proj.weight),
        downB: vec(mlp.down_proj.bias),
      }),
    );
    const embed = vec(model.model.embed_tokens.weight);
    const head = model.lm_head
      ? matrix(model.lm_head.weight)
      : precision === 'fp32'
        ? embed
        : matrix(model.model.embed_tokens.weight);
    return new LlamaDecoder(
      precision,
      model,
      kernels,
      layers,
      head,
      embed,
      vec(norm.weight),
      headSize(model.config),
      norm.eps,
    );
  }

  step(id: number, cache: KVCache): Float32Array {
    const cfg = this.model.config;
    const { nEmbd: C, nHead: H, nKvHead: Hkv, mlpHidden: F, vocabSize: V } = cfg;
    const kv = KVBuffers.check(cache, cfg, 1, 1);
    if (!(Number.isInteger(id) && id >= 0 && id < V))
      throw new RangeError(`LlamaDecoder.step: token ${id} is not an id in [0, ${V})`);
    const pos = kv.length;
    if (pos >= cfg.blockSize)
      throw new RangeError(`LlamaDecoder.step: position ${pos} exceeds the context length blockSize ${cfg.blockSize}`);
    const x = this.x; // (C): the token's embedding row
    x.set(this.embed.subarray(id * C, (id + 1) * C));
    const rope = this.model.ropeFor(pos, 1); // cos, sin (1, D/2): float32 on the native backend
    const cos = rope.cos as Float32Array;
    const sin = rope.sin as Float32Array;
    const k = this.kernels;
    this.layers.forEach((l, layer) => {
      const [kc, vc] = kv.layerStorage(layer) as [Float32Array, Float32Array];
      k.llamaDecodeBlock(
        x,
        l.ln1W,
        l.qW,
        l.qB,
        l.kW,
        l.kB,
        l.vW,
        l.vB,
        l.oW,
        l.oB,
        l.ln2W,
        l.gateW,
        l.gateB,
        l.upW,
        l.upB,
        l.downW,
        l.downB,
        kc,
        vc,
        cos,
        sin,
        pos,
        C,
        H,
        Hkv,
        this.D,
        F,
        this.eps,
      );
    });
    k.llamaDecodeHead(x, this.normW, this.eps, this.head, this.logits, V, C);
    kv.advance(1);
    return this.logits;
  }
}
