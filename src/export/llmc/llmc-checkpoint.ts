/**
 * llm.c GPT-2 checkpoints (`gpt2_124M.bin` and what `train_gpt2` writes): the 1024-byte header (magic 20240326,
 * version 3 for fp32 or 5 for bf16, maxT, V, L, NH, C, padded vocabulary Vp), then the 16 parameter tensors in
 * llm.c's order, each layer's tensors stacked along a leading L dimension: wte (Vp, C), wpe (maxT, C), ln1w/ln1b
 * (L, C), qkvw (L, 3C, C), qkvb (L, 3C), attprojw (L, C, C), attprojb (L, C), ln2w/ln2b (L, C), fcw (L, 4C, C),
 * fcb (L, 4C), fcprojw (L, C, 4C), fcprojb (L, C), lnfw/lnfb (C). Weights are (out, in) like ours; the rows of wte
 * beyond V are zero padding. llm.c's GPT-2 has a tied head, biases, a 4C MLP and LayerNorm eps 1e-5, so only such
 * models (or bias-free ones, written with zero biases) are exported; reading gives an llmforge GPT model, built
 * without random init and filled slot by slot. The header and byte layout live in io/llmc/llmc-format.ts.
 */
import { closeSync } from 'node:fs';
import { decodeInto, encodeInto } from '../../io/dtypes.ts';
import {
  headerBytes,
  LLMC_HEADER_BYTES,
  LLMC_MODEL_MAGIC,
  LLMC_MODEL_VERSION_BF16,
  LLMC_MODEL_VERSION_FP32,
  LlmcFormatError,
  newHeader,
  openWithHeader,
  readExact,
} from '../../io/llmc/llmc-format.ts';
import { completeModelConfig, ModelConfigError } from '../../models/config.ts';
import type { LanguageModel, ModelConfig } from '../../models/model.ts';
import { ModelFill } from '../../models/model-fill.ts';
import { writeAll, writeFileAtomicWith } from '../../util/atomic.ts';
import { UserError } from '../../util/user-error.ts';

export type LlmcDtype = 'f32' | 'bf16';

/** llm.c pads the vocabulary to a multiple of 128 for its kernels. */
export function paddedVocab(V: number): number {
  return Math.ceil(V / 128) * 128;
}

/** One llm.c tensor: the llmforge parameter it holds (`{l}` standing for the layer) and whether it stacks layers. */
interface Slot {
  param: string;
  perLayer: boolean;
}

const SLOTS: readonly Slot[] = [
  { param: 'wte.weight', perLayer: false },
  { param: 'wpe.weight', perLayer: false },
  { param: 'h.{l}.ln_1.weight', perLayer: true },
  { param: 'h.{l}.ln_1.bias', perLayer: true },
  { param: 'h.{l}.attn.c_attn.weight', perLayer: true },
  { param: 'h.{l}.attn.c_attn.bias', perLayer: true },
  { param: 'h.{l}.attn.c_proj.weight', perLayer: true },
  { param: 'h.{l}.attn.c_proj.bias', perLayer: true },
  { param: 'h.{l}.ln_2.weight', perLayer: true },
  { param: 'h.{l}.ln_2.bias', perLayer: true },
  { param: 'h.{l}.mlp.c_fc.weight', perLayer: true },
  { param: 'h.{l}.mlp.c_fc.bias', perLayer: true },
  { param: 'h.{l}.mlp.c_proj.weight', perLayer: true },
  { param: 'h.{l}.mlp.c_proj.bias', perLayer: true },
  { param: 'ln_f.weight', perLayer: false },
  { param: 'ln_f.bias', perLayer: false },
];

/** Element counts of the 16 tensors for a config (llm.c's fill_in_parameter_sizes). */
function slotSizes(c: ModelConfig, Vp: number): number[] {
  const { nEmbd: C, nLayer: L, blockSize: maxT } = c;
  return [
    Vp * C,
    maxT * C,
    L * C,
    L * C,
    L * 3 * C * C,
    L * 3 * C,
    L * C * C,
    L * C,
    L * C,
    L * C,
    L * 4 * C * C,
    L * 4 * C,
    L * C * 4 * C,
    L * C,
    C,
    C,
  ];
}

/** Why `cfg` has no llm.c form, or null when it has one. */
export function llmcIncompatibility(cfg: ModelConfig): string | null {
  if (cfg.arch !== 'gpt2') return `llm.c checkpoints hold GPT-2 models; this model is arch ${cfg.arch}`;
  if (!cfg.tieEmbeddings) return 'llm.c ties the output head to the token embedding; this model has a separate lm_head';
  if (cfg.mlpHidden !== 4 * cfg.nEmbd)
    return `llm.c's MLP is 4 x nEmbd = ${4 * cfg.nEmbd} wide; this model has mlpHidden ${cfg.mlpHidden}`;
  if (cfg.normEps !== 1e-5) return `llm.c's LayerNorm epsilon is 1e-5; this model has normEps ${cfg.normEps}`;
  return null;
}

export class LlmcExportError extends UserError {}

/** Writes `model` as an llm.c checkpoint at `path` (fp32 version 3, or bf16 version 5). */
export function writeLlmcCheckpoint(model: LanguageModel, path: string, dtype: LlmcDtype = 'f32'): void {
  const c = model.config;
  const why = llmcIncompatibility(c);
  if (why !== null) throw new LlmcExportError(`export llmc: ${why}`);
  const Vp = paddedVocab(c.vocabSize);
  const h = newHeader(LLMC_MODEL_MAGIC, dtype === 'f32' ? LLMC_MODEL_VERSION_FP32 : LLMC_MODEL_VERSION_BF16);
  h.set([c.blockSize, c.vocabSize, c.nLayer, c.nHead, c.nEmbd, Vp], 2);
  const params = new Map(model.namedParameters());
  const width = dtype === 'f32' ? 4 : 2;
  writeFileAtomicWith(path, (fd) => {
    const put = (data: ArrayLike<number>): void => {
      const bytes = Buffer.alloc(data.length * width);
      encodeInto(dtype === 'f32' ? 'F32' : 'BF16', data, 0, data.length, bytes);
      writeAll(fd, bytes);
    };
    writeAll(fd, headerBytes(h));
    for (const slot of SLOTS) {
      const layers = slot.perLayer ? c.nLayer : 1;
      for (let l = 0; l < layers; l++) {
        const name = slot.param.replace('{l}', String(l));
        const p = params.get(name);
        const weightName = name.replace(/\.bias$/, '.weight');
        // A bias-free GPT-2 is written with zero biases (llm.c always adds them).
        const data = p ? p.data : new Float32Array(params.get(weightName)!.shape[0]!);
        put(data);
      }
      if (slot.param === 'wte.weight') put(new Float32Array((Vp - c.vocabSize) * c.nEmbd)); // padding rows
    }
  });
}

/** The model config of an llm.c checkpoint header. */
function headerConfig(path: string, h: Int32Array): ModelConfig {
  const [maxT, V, L, NH, C, Vp] = [h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!];
  if (!(Vp >= V))
    throw new LlmcFormatError(
      `${path}: padded vocabulary ${Vp} (header[7]) is smaller than the vocabulary ${V} (header[3])`,
    );
  try {
    return completeModelConfig(
      { arch: 'gpt2', vocabSize: V, blockSize: maxT, nLayer: L, nHead: NH, nEmbd: C },
      `${path} header (maxT ${maxT}, V ${V}, L ${L}, NH ${NH}, C ${C})`,
    );
  } catch (e) {
    if (e instanceof ModelConfigError) throw new LlmcFormatError(e.message);
    throw e;
  }
}

/** Reads an llm.c GPT-2 checkpoint (fp32 or bf16) into an llmforge GPT model. */
export function readLlmcCheckpoint(path: string): LanguageModel {
  const { fd, header, size } = openWithHeader(
    path,
    LLMC_MODEL_MAGIC,
    [LLMC_MODEL_VERSION_FP32, LLMC_MODEL_VERSION_BF16],
    'an llm.c GPT-2 checkpoint',
    'expected a model .bin written by llm.c (e.g. gpt2_124M.bin), not a token shard or optimizer state',
  );
  try {
    const bf16 = header[1] === LLMC_MODEL_VERSION_BF16;
    const width = bf16 ? 2 : 4;
    const config = headerConfig(path, header);
    const Vp = header[7]!;
    const sizes = slotSizes(config, Vp);
    const expected = LLMC_HEADER_BYTES + sizes.reduce((a, b) => a + b, 0) * width;
    if (size !== expected) {
      throw new LlmcFormatError(
        `${path}: ${size} bytes, but the header (maxT ${config.blockSize}, V ${config.vocabSize}, Vp ${Vp}, L ${config.nLayer}, C ${config.nEmbd}, ${bf16 ? 'bf16' : 'fp32'}) implies ${expected}; the file is truncated or not an llm.c checkpoint`,
      );
    }
    const fill = new ModelFill(config); // no random init: the 16 tensors cover every parameter, which finish() checks
    let pos = LLMC_HEADER_BYTES;
    const take = (dst: Float32Array | Float64Array): void => {
      const raw = readExact(fd, dst.length * width, pos, path);
      const out = dst instanceof Float32Array ? dst : new Float32Array(dst.length);
      decodeInto(bf16 ? 'BF16' : 'F32', raw, dst.length, out, 0);
      if (out !== dst) dst.set(out);
      pos += dst.length * width;
    };
    for (const slot of SLOTS) {
      const layers = slot.perLayer ? config.nLayer : 1;
      for (let l = 0; l < layers; l++) {
        const name = slot.param.replace('{l}', String(l));
        const p = fill.take(name);
        if (!p)
          throw new LlmcFormatError(
            `${path}: llm.c tensor ${name} has no parameter in the GPT-2 model its header describes`,
          );
        take(p.data);
      }
      if (slot.param === 'wte.weight') pos += (Vp - config.vocabSize) * config.nEmbd * width;
    }
    return fill.finish(
      (name) =>
        new LlmcFormatError(`${path}: parameter ${name} of the GPT-2 model its header describes has no llm.c tensor`),
    );
  } finally {
    closeSync(fd);
  }
}
