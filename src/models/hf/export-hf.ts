/**
 * Exporting an llmforge model as a Hugging Face directory that `transformers` opens with `from_pretrained`:
 * config.json (GPT2LMHeadModel, LlamaForCausalLM or Qwen2ForCausalLM), model.safetensors with Hugging Face's
 * tensor names and layouts (GPT-2 Conv1D weights transposed back to (in, out) under `transformer.`; a tied head
 * omitted as Hugging Face saves it; zero biases where a bias-free GPT-2 must still have them) and `format: pt`
 * metadata, and generation_config.json. Tokenizer files are written by the caller (export-hf-dir.ts).
 */
import { join } from 'node:path';
import type { WeightDtype } from '../../io/dtypes.ts';
import { writeSafetensors, type TensorToWrite } from '../../io/safetensors-writer.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import type { LanguageModel } from '../model.ts';
import { modelConfigToHf, type HfSpecialIds } from './hf-config.ts';
import { HF_CONFIG_FILE, HF_GENERATION_CONFIG_FILE, HF_WEIGHTS_FILE } from './load-hf.ts';
import { exportPrefix, hfName, isTransposed, transpose2d } from './tensor-names.ts';

const TORCH_DTYPE: Record<WeightDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** GPT-2 weights whose bias Hugging Face always has (LayerNorms and Conv1D layers). */
const GPT2_BIASED = /^(ln_f|h\.\d+\.(ln_1|ln_2|attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj))\.weight$/;

/** The tensors of `model` under Hugging Face names, in Hugging Face layouts. */
export function hfTensors(model: LanguageModel, dtype: WeightDtype = 'F32'): TensorToWrite[] {
  const { arch } = model.config;
  const prefix = exportPrefix(arch);
  const out: TensorToWrite[] = [];
  const params = model.namedParameters();
  const names = new Set(params.map(([n]) => n));
  for (const [name, p] of params) {
    const hf = hfName(arch, name, prefix);
    if (isTransposed(arch, name)) {
      const [rows, cols] = p.shape as [number, number];
      const data = new Float32Array(p.size);
      transpose2d(p.data, rows, cols, data);
      out.push({ name: hf, shape: [cols, rows], data, dtype });
    } else {
      out.push({ name: hf, shape: [...p.shape], data: p.data, dtype });
    }
    const bias = name.replace(/\.weight$/, '.bias');
    if (arch === 'gpt2' && GPT2_BIASED.test(name) && !names.has(bias)) {
      out.push({ name: hfName(arch, bias, prefix), shape: [p.shape[0]!], data: new Float32Array(p.shape[0]!), dtype });
    }
  }
  return out;
}

export interface HfExportOptions {
  /** Stored weight dtype (default F32). */
  dtype?: WeightDtype;
  /** bos/eos ids for config.json and generation_config.json. */
  ids?: HfSpecialIds;
  /** A generation_config.json to write instead of one built from `ids` (e.g. the source model's). */
  generationConfig?: Record<string, unknown> | undefined;
}

/** Writes config.json, model.safetensors and generation_config.json for `model` into `dir`. */
export function exportHfModel(model: LanguageModel, dir: string, opts: HfExportOptions = {}): string[] {
  const dtype = opts.dtype ?? 'F32';
  const ids = opts.ids ?? {};
  writeSafetensors(join(dir, HF_WEIGHTS_FILE), hfTensors(model, dtype), { format: 'pt' });
  writeJsonAtomic(join(dir, HF_CONFIG_FILE), modelConfigToHf(model.config, ids, TORCH_DTYPE[dtype]));
  const generation = opts.generationConfig ?? {
    ...(ids.bosTokenId !== undefined ? { bos_token_id: ids.bosTokenId } : {}),
    ...(ids.eosTokenId !== undefined ? { eos_token_id: ids.eosTokenId } : {}),
  };
  writeJsonAtomic(join(dir, HF_GENERATION_CONFIG_FILE), generation);
  return [HF_CONFIG_FILE, HF_WEIGHTS_FILE, HF_GENERATION_CONFIG_FILE];
}
