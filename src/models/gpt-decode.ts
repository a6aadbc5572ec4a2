/**
 * The GPT-2 `TokenDecoder` (see decoder.ts): one decoded token is the sum of its token and position embedding
 * rows, then one native call per block (native/src/decode.h: ln_1, qkv GEMV, KV-cache append, cached attention,
 * c_proj, residual, ln_2, c_fc, GELU, c_proj, residual) and one for ln_f and the head, over preallocated buffers.
 * When it exists (the native backend, a plain float32 model: see decode-weights.ts) and in which precision: with
 * 'bf16', the matrix weights and the head are converted once, when the decoder is created.
 */
import type { DecodeKernels, DecodeWeightArray } from '../backend/index.ts';
import { LayerNorm } from '../nn/layers.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { prepareDecode } from './decode-weights.ts';
import type { DecodePrecision, TokenDecoder } from './decoder.ts';
import type { GPT } from './gpt.ts';
import { KVBuffers } from './kv-cache.ts';
import type { KVCache } from './model.ts';

interface BlockArrays {
  ln1W: Float32Array;
  ln1B: Float32Array | null;
  attnW: DecodeWeightArray;
  attnB: Float32Array | null;
  attnProjW: DecodeWeightArray;
  attnProjB: Float32Array | null;
  ln2W: Float32Array;
  ln2B: Float32Array | null;
  fcW: DecodeWeightArray;
  fcB: Float32Array | null;
  mlpProjW: DecodeWeightArray;
  mlpProjB: Float32Array | null;
}

function f32(t: Tensor): Float32Array | null {
  return t.data instanceof Float32Array ? t.data : null;
}

export class GptDecoder implements TokenDecoder {
  private readonly x: Float32Array;
  private readonly logits: Float32Array;

  private constructor(
    readonly precision: DecodePrecision,
    private readonly model: GPT,
    private readonly kernels: DecodeKernels,
    private readonly blocks: BlockArrays[],
    private readonly head: DecodeWeightArray,
    private readonly wte: Float32Array,
    private readonly wpe: Float32Array,
    private readonly lnF: LayerNorm,
  ) {
    this.x = new Float32Array(model.config.nEmbd);
    this.logits = new Float32Array(model.config.vocabSize);
  }

  /** A decoder for `model`, or null when the fast path does not apply (see the file comment). */
  static create(model: GPT, precision: DecodePrecision): GptDecoder | null {
    const norms: unknown[] = [model.ln_f, ...model.h.flatMap((b) => [b.ln_1, b.ln_2])];
    const linears: unknown[] = [
      ...(model.lm_head ? [model.lm_head] : []),
      ...model.h.flatMap((b) => [b.attn.c_attn, b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj]),
    ];
    const prep = prepareDecode(model, precision, linears, norms, LayerNorm);
    if (!prep) return null;
    const { kernels, matrix, vector: vec } = prep;
    const blocks = model.h.map(
      (b): BlockArrays => ({
        ln1W: vec(b.ln_1.weight),
        ln1B: vec(b.ln_1.bias),
        attnW: matrix(b.attn.c_attn.weight),
        attnB: vec(b.attn.c_attn.bias),
        attnProjW: matrix(b.attn.c_proj.weight),
        attnProjB: vec(b.attn.c_proj.bias),
        ln2W: vec(b.ln_2.weight),
        ln2B: vec(b.ln_2.bias),
        fcW: matrix(b.mlp.c_fc.weight),
        fcB: vec(b.mlp.c_fc.bias),
        mlpProjW: matrix(b.mlp.c_proj.weight),
        mlpProjB: vec(b.mlp.c_proj.bias),
      }),
    );
    const head = matrix(model.lm_head ? model.lm_head.weight : model.wte.weight);
    return new GptDecoder(
      precision,
      model,
      kernels,
      blocks,
      head,
      vec(model.wte.weight),
      vec(model.wpe.weight),
      model.ln_f,
    );
  }

  step(id: number, cache: KVCache): Float32Array {
    const { nEmbd: C, nHead: H, mlpHidden: F, vocabSize: V } = this.model.config;
    const kv = KVBuffers.check(cache, this.model.config, 1, 1);
    if (!(Number.isInteger(id) && id >= 0 && id < V))
      throw new RangeError(`GptDecoder.step: token ${id} is not an id in [0, ${V})`);
    const pos = kv.length;
    if (pos >= this.model.config.blockSize)
      throw new RangeError(
        `GptDecoder.step: position ${pos} exceeds the context length blockSize ${this.model.config.blockSize}`,
      );
    const x = this.x; // (C): token embedding + position embedding
    for (let c = 0, t = id * C, p = pos * C; c < C; c++) x[c] = this.wte[t + c]! + this.wpe[p + c]!;
    const k = this.kernels;
    this.blocks.forEach((b, layer) => {
      const [kc, vc] = kv.layerStorage(layer) as [Float32Array, Float32Array];
      const eps = this.model.h[layer]!.ln_1.eps;
      k.gptDecodeBlock(
        x,
        b.ln1W,
        b.ln1B,
        b.attnW,
        b.attnB,
        b.attnProjW,
        b.attnProjB,
        b.ln2W,
        b.ln2B,
        b.fcW,
        b.fcB,
        b.mlpProjW,
        b.mlpProjB,
        kc,
        vc,
        pos,
        C,
        H,
        F,
        eps,
      );
    });
    k.gptDecodeHead(
      x,
      f32(this.lnF.weight)!,
      this.lnF.bias ? f32(this.lnF.bias) : null,
      this.lnF.eps,
      this.head,
      this.logits,
      V,
      C,
    );
    kv.advance(1);
    return this.logits;
  }
}
