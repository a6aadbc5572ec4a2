/**
 * Exporting an llmforge model (and its byte-level BPE tokenizer) as a GGUF file that llama.cpp loads: the
 * llama.cpp architecture metadata for gpt2 or llama, the tokenizer as `tokenizer.ggml.*` (model "gpt2": tokens in
 * GPT-2's byte-to-unicode form, token types, merges, bos/eos ids, the pre-tokenizer name), the exact llmforge
 * config under `llmforge.config` (so importing back is lossless), and the tensors under llama.cpp's names and
 * layouts (gguf-names.ts). Types: f32 everywhere; f16 or q8_0 for 2-D weights with 1-D norms and biases kept in
 * F32, as llama.cpp's converter does (a q8_0 weight whose rows are not a multiple of 32 falls back to F16). A tied
 * head is written once, as token_embd, and llama.cpp falls back to it; GPT-2 without biases gets zero biases,
 * which llama.cpp's gpt2 graph requires. A Llama head size other than C / H is written as attention.key_length and
 * value_length, linear RoPE scaling as rope.scaling.type/factor, and llama3 RoPE scaling as llama.cpp's own
 * converter writes it: a `rope_freqs.weight` tensor of D/2 factors that each base frequency is divided by.
 */
import { headSize } from '../../models/config.ts';
import type { LanguageModel, ModelConfig } from '../../models/model.ts';
import { ropeInverseFrequencies } from '../../models/rope-scaling.ts';
import type { TextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { Progress } from '../../util/progress.ts';
import { FILE_TYPE, GgmlType, GgufValueType, Q8_0_BLOCK, type GgmlTypeName, type GgufKv } from './gguf-format.ts';
import { ggufName, permuteRotary, rotaryHeads } from './gguf-names.ts';
import { writeGguf, type GgufTensorToWrite } from './gguf-writer.ts';
import { UserError } from '../../util/user-error.ts';

export type GgufExportType = 'f32' | 'f16' | 'q8_0';

export class GgufExportError extends UserError {}

export interface GgufExportOptions {
  /** Weight type of 2-D tensors (default f32). */
  type?: GgufExportType;
  /**
   * The tokenizer written into the file. Without a byte-level BPE tokenizer the file gets tokenizer model "none":
   * llama.cpp loads it, but anything that tokenizes (node-llama-cpp does at load) aborts, so the CLI refuses.
   */
  tokenizer?: TextTokenizer | null;
  /** general.name (default "llmforge-<arch>"). */
  name?: string;
  /** A progress line on stderr while the tensors are written (default false). */
  progress?: boolean;
}

const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_UNUSED = 5;

/** llama.cpp's name for each of our pre-tokenizers (tokenizer.ggml.pre). */
const PRE: Readonly<Record<string, string>> = { gpt2: 'gpt-2', cl100k: 'llama-bpe' };

const u32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value });
const f32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.FLOAT32, value });
const str = (key: string, value: string): GgufKv => ({ key, type: GgufValueType.STRING, value });

/** The `tokenizer.ggml.*` metadata for `tok`, padded with unused tokens to the model's vocabulary size V. */
export function ggufTokenizerMetadata(tok: TextTokenizer | null | undefined, V: number): GgufKv[] {
  if (!(tok instanceof Tokenizer)) return [str('tokenizer.ggml.model', 'none')];
  if (tok.vocabSize > V)
    throw new GgufExportError(`export gguf: the tokenizer has ${tok.vocabSize} ids but the model's vocabulary is ${V}`);
  const tokens: string[] = [];
  const types: number[] = [];
  const specialById = new Map([...tok.specialTokens].map(([text, id]) => [id, text]));
  for (let id = 0; id < V; id++) {
    const special = specialById.get(id);
    const normal = tok.bpe.idToToken[id];
    if (special !== undefined) {
      tokens.push(special);
      types.push(TOKEN_CONTROL);
    } else if (normal !== undefined && normal !== '') {
      tokens.push(normal);
      types.push(TOKEN_NORMAL);
    } else {
      tokens.push(`[PAD${id}]`);
      types.push(TOKEN_UNUSED);
    }
  }
  const kvs: GgufKv[] = [
    str('tokenizer.ggml.model', 'gpt2'),
    str('tokenizer.ggml.pre', PRE[tok.pretokenizer] ?? 'default'),
    { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: tokens },
    { key: 'tokenizer.ggml.token_type', type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: types },
    {
      key: 'tokenizer.ggml.merges',
      type: GgufValueType.ARRAY,
      itemType: GgufValueType.STRING,
      value: tok.bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
    { key: 'tokenizer.ggml.add_bos_token', type: GgufValueType.BOOL, value: false },
  ];
  const eos = eosId(tok);
  if (eos !== undefined) kvs.push(u32('tokenizer.ggml.bos_token_id', eos), u32('tokenizer.ggml.eos_token_id', eos));
  return kvs;
}

/** The architecture metadata llama.cpp reads for `model` (general.* and <arch>.*). */
export function ggufModelMetadata(model: LanguageModel, type: GgufExportType, name?: string): GgufKv[] {
  const c = model.config;
  const a = c.arch;
  const kvs: GgufKv[] = [
    str('general.architecture', a),
    str('general.name', name ?? `llmforge-${a}`),
    u32('general.file_type', FILE_TYPE[typeName(type)]),
    u32('general.quantization_version', 2),
    u32(`${a}.context_length`, c.blockSize),
    u32(`${a}.embedding_length`, c.nEmbd),
    u32(`${a}.block_count`, c.nLayer),
    u32(`${a}.feed_forward_length`, c.mlpHidden),
    u32(`${a}.attention.head_count`, c.nHead),
    u32(`${a}.attention.head_count_kv`, c.nKvHead),
    u32(`${a}.vocab_size`, c.vocabSize),
  ];
  if (a === 'gpt2') {
    kvs.push(f32('gpt2.attention.layer_norm_epsilon', c.normEps));
  } else {
    kvs.push(
      f32('llama.attention.layer_norm_rms_epsilon', c.normEps),
      f32('llama.rope.freq_base', c.ropeTheta),
      u32('llama.rope.dimension_count', headSize(c)),
    );
    if (c.headDim !== undefined)
      kvs.push(u32('llama.attention.key_length', c.headDim), u32('llama.attention.value_length', c.headDim));
    if (c.ropeScaling?.type === 'linear')
      kvs.push(str('llama.rope.scaling.type', 'linear'), f32('llama.rope.scaling.factor', c.ropeScaling.factor));
  }
  kvs.push(str('llmforge.config', JSON.stringify(c)));
  return kvs;
}

function typeName(type: GgufExportType): GgmlTypeName {
  return type === 'f32' ? 'F32' : type === 'f16' ? 'F16' : 'Q8_0';
}

/** The ggml type a tensor with these dims gets under `type`. */
function tensorType(type: GgufExportType, dims: readonly number[]): GgmlType {
  if (type === 'f32' || dims.length < 2) return GgmlType.F32;
  if (type === 'q8_0' && dims[0]! % Q8_0_BLOCK === 0) return GgmlType.Q8_0;
  return GgmlType.F16;
}

/** The tensor name llama.cpp reads per-frequency RoPE divisors from (Llama 3.1 style scaling). */
export const ROPE_FREQS = 'rope_freqs.weight';

/** For llama3 RoPE scaling, the D/2 factors llama.cpp divides each base frequency by (base / scaled); else null. */
export function ropeFreqFactors(c: ModelConfig): Float32Array | null {
  if (c.ropeScaling?.type !== 'llama3') return null;
  const base = ropeInverseFrequencies(headSize(c), c.ropeTheta);
  const scaled = ropeInverseFrequencies(headSize(c), c.ropeTheta, c.ropeScaling);
  return Float32Array.from(base, (f, i) => f / scaled[i]!);
}

/** The tensors of `model` under llama.cpp names and layouts, typed for `type`. */
export function ggufTensors(model: LanguageModel, type: GgufExportType = 'f32'): GgufTensorToWrite[] {
  const c = model.config;
  if (c.arch === 'llama' && c.bias)
    throw new GgufExportError(
      'export gguf: a llama model with biases on every linear layer (bias=true) has no llama.cpp form; only qkvBias is supported',
    );
  const out: GgufTensorToWrite[] = [];
  const params = model.namedParameters();
  const names = new Set(params.map(([n]) => n));
  for (const [name, p] of params) {
    const gg = ggufName(c.arch, name);
    if (gg === undefined) throw new GgufExportError(`export gguf: parameter "${name}" has no llama.cpp tensor name`);
    const dims = [...p.shape].reverse();
    const heads = rotaryHeads(c.arch, name, c.nHead, c.nKvHead);
    const data = heads === undefined ? p.data : permuteRotary(p.data, heads, p.shape.length === 2 ? p.shape[1]! : 1);
    out.push({ name: gg, dims, type: tensorType(type, dims), data });
    // llama.cpp's gpt2 graph adds a bias to every norm and linear layer: a bias-free GPT-2 gets zeros.
    const bias = name.replace(/\.weight$/, '.bias');
    if (c.arch === 'gpt2' && name.endsWith('.weight') && /^(h\.|ln_f)/.test(name) && !names.has(bias)) {
      out.push({
        name: ggufName(c.arch, bias)!,
        dims: [p.shape[0]!],
        type: GgmlType.F32,
        data: new Float32Array(p.shape[0]!),
      });
    }
  }
  const factors = ropeFreqFactors(c);
  if (factors) out.push({ name: ROPE_FREQS, dims: [factors.length], type: GgmlType.F32, data: factors });
  return out;
}

/** Writes `model` (with `opts.tokenizer`) to `path` as GGUF; returns the number of tensors written. */
export function exportGguf(model: LanguageModel, path: string, opts: GgufExportOptions = {}): { tensors: number } {
  const type = opts.type ?? 'f32';
  const tensors = ggufTensors(model, type);
  const metadata = [
    ...ggufModelMetadata(model, type, opts.name),
    ...ggufTokenizerMetadata(opts.tokenizer, model.config.vocabSize),
  ];
  const progress = new Progress({
    label: 'export gguf',
    total: tensors.length,
    unit: 'tensors',
    silent: !(opts.progress ?? false),
  });
  writeGguf(path, metadata, tensors, (done) => progress.update(done));
  progress.finish(tensors.length);
  return { tensors: tensors.length };
}
