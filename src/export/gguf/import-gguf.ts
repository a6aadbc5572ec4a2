/**
 * Reading a GGUF file back into an llmforge model and tokenizer: the config comes from `llmforge.config` when our
 * exporter wrote it, else from llama.cpp's gpt2/llama metadata (head and bias layout inferred from the tensors
 * present); each parameter of a model built without random init is read under its llama.cpp name, dequantized to
 * float32, un-permuted for llama query/key rows, and checked for shape. Zero biases the exporter added for
 * llama.cpp's gpt2 graph are accepted and dropped; any other tensor the model has no place for is an error. The
 * `tokenizer.ggml.*` arrays of a "gpt2" tokenizer become a byte-level BPE `Tokenizer` (control tokens as special
 * tokens). From llama.cpp metadata, attention.key_length gives a head size other than C / H and rope.scaling.type
 * "linear" the linear RoPE scaling; other scaling types, a partial rotary dimension and a `rope_freqs.weight` tensor
 * (llama3 scaling, whose parameters only `llmforge.config` records) are errors naming the key or tensor. With our
 * config, `rope_freqs.weight` must hold the factors the config implies. A config describing more parameters than
 * the tensor infos list (`block_count` 1e7), or arrays too large to allocate (`context_length` 2^31), is refused
 * before the model is built, naming the key.
 */
import { checkModelConfig, completeModelConfig, headSize, ModelConfigError } from '../../models/config.ts';
import type { Arch, LanguageModel, ModelConfig } from '../../models/model.ts';
import { ModelFill } from '../../models/model-fill.ts';
import { checkConfigFitsWeights, checkModelAllocatable, type SizeField } from '../../models/model-size.ts';
import { ByteLevelBpe } from '../../tokenizer/bpe.ts';
import { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { ROPE_FREQS, ropeFreqFactors } from './export-gguf.ts';
import { GgufFormatError, GgufReader } from './gguf-reader.ts';
import { ggufName, permuteRotary, rotaryHeads } from './gguf-names.ts';

export interface ImportedGguf {
  model: LanguageModel;
  /** The byte-level BPE tokenizer stored in the file, or null when it has none. */
  tokenizer: Tokenizer | null;
}

function num(file: GgufReader, key: string): number {
  const v = file.get(key);
  if (typeof v !== 'number')
    throw new GgufFormatError(`${file.path}: metadata "${key}" is ${JSON.stringify(v)}, expected a number`);
  return v;
}

/** A FLOAT32 metadata value as the decimal it was written from (1e-5 stored as float32 reads 9.9999997e-6). */
function f32num(file: GgufReader, key: string): number {
  return Number(num(file, key).toPrecision(7));
}

/** The model config a GGUF file describes. */
export function ggufModelConfig(file: GgufReader): ModelConfig {
  const ours = file.metadata.get('llmforge.config');
  if (typeof ours === 'string') {
    let doc: unknown;
    try {
      doc = JSON.parse(ours);
    } catch (e) {
      throw new GgufFormatError(`${file.path}: metadata "llmforge.config" is not valid JSON (${(e as Error).message})`);
    }
    return checkModelConfig(doc, `${file.path} "llmforge.config"`);
  }
  const arch = file.get('general.architecture');
  if (arch !== 'gpt2' && arch !== 'llama')
    throw new GgufFormatError(
      `${file.path}: general.architecture is ${JSON.stringify(arch)}; llmforge imports gpt2 and llama`,
    );
  const a = arch as Arch;
  const embd = file.tensors.get('token_embd.weight');
  if (!embd) throw new GgufFormatError(`${file.path}: tensor "token_embd.weight" is missing`);
  const partial: Partial<ModelConfig> = {
    arch: a,
    vocabSize: embd.dims[1]!,
    blockSize: num(file, `${a}.context_length`),
    nLayer: num(file, `${a}.block_count`),
    nHead: num(file, `${a}.attention.head_count`),
    nKvHead: file.metadata.has(`${a}.attention.head_count_kv`)
      ? num(file, `${a}.attention.head_count_kv`)
      : num(file, `${a}.attention.head_count`),
    nEmbd: num(file, `${a}.embedding_length`),
    mlpHidden: num(file, `${a}.feed_forward_length`),
    tieEmbeddings: !file.tensors.has('output.weight'),
  };
  if (a === 'gpt2') {
    partial.normEps = f32num(file, 'gpt2.attention.layer_norm_epsilon');
  } else {
    partial.normEps = f32num(file, 'llama.attention.layer_norm_rms_epsilon');
    if (file.metadata.has('llama.rope.freq_base')) partial.ropeTheta = f32num(file, 'llama.rope.freq_base');
    partial.bias = file.tensors.has('blk.0.attn_output.bias');
    if (!partial.bias && file.tensors.has('blk.0.attn_q.bias')) partial.qkvBias = true;
    readLlamaHeadAndRope(file, partial);
  }
  try {
    return completeModelConfig(partial, `${file.path} metadata`);
  } catch (e) {
    if (e instanceof ModelConfigError) throw new GgufFormatError(e.message);
    throw e;
  }
}

/** Head size and RoPE scaling from llama.cpp's llama metadata, refusing what llmforge cannot reproduce. */
function readLlamaHeadAndRope(file: GgufReader, partial: Partial<ModelConfig>): void {
  const has = (key: string): boolean => file.metadata.has(key);
  if (has('llama.attention.key_length')) {
    const k = num(file, 'llama.attention.key_length');
    const v = has('llama.attention.value_length') ? num(file, 'llama.attention.value_length') : k;
    if (v !== k)
      throw new GgufFormatError(
        `${file.path}: llama.attention.value_length ${v} differs from key_length ${k}; llmforge needs one head size`,
      );
    if (k !== partial.nEmbd! / partial.nHead!) partial.headDim = k;
  }
  const D = headSize(partial as ModelConfig);
  if (has('llama.rope.dimension_count') && num(file, 'llama.rope.dimension_count') !== D) {
    throw new GgufFormatError(
      `${file.path}: llama.rope.dimension_count ${num(file, 'llama.rope.dimension_count')} is not the head size ${D} (partial rotary embeddings are not supported)`,
    );
  }
  const kind = has('llama.rope.scaling.type') ? file.get('llama.rope.scaling.type') : 'none';
  if (kind === 'linear') {
    partial.ropeScaling = { type: 'linear', factor: f32num(file, 'llama.rope.scaling.factor') };
  } else if (kind !== 'none') {
    throw new GgufFormatError(
      `${file.path}: llama.rope.scaling.type ${JSON.stringify(kind)} is not supported (llmforge implements "linear"; "llama3" only from files it wrote)`,
    );
  }
  if (file.tensors.has(ROPE_FREQS)) {
    throw new GgufFormatError(
      `${file.path}: tensor "${ROPE_FREQS}" (per-frequency RoPE factors, Llama 3.1 style scaling) is only supported in GGUF files llmforge wrote, whose llmforge.config names the scaling`,
    );
  }
}

/** The tokenizer stored in a GGUF file, or null when it has none ("none" or no tokenizer.ggml.model). */
export function ggufTokenizer(file: GgufReader): Tokenizer | null {
  const kind = file.metadata.get('tokenizer.ggml.model');
  if (kind === undefined || kind === 'none' || kind === 'no_vocab') return null;
  if (kind !== 'gpt2')
    throw new GgufFormatError(
      `${file.path}: tokenizer.ggml.model is ${JSON.stringify(kind)}; llmforge reads byte-level BPE ("gpt2") tokenizers`,
    );
  const tokens = file.get('tokenizer.ggml.tokens');
  const types = file.metadata.get('tokenizer.ggml.token_type');
  const merges = file.get('tokenizer.ggml.merges');
  if (!Array.isArray(tokens) || !Array.isArray(merges))
    throw new GgufFormatError(
      `${file.path}: tokenizer.ggml.tokens and tokenizer.ggml.merges must be arrays of strings`,
    );
  const vocab = new Map<string, number>();
  const specials = new Map<string, number>();
  tokens.forEach((t, id) => {
    const type = Array.isArray(types) ? types[id] : 1;
    if (type === 5) return; // unused padding
    if (type === 3 || type === 4) specials.set(String(t), id);
    else vocab.set(String(t), id);
  });
  const pairs = merges.map((m, i) => {
    const s = String(m);
    const space = s.indexOf(' ', 1);
    if (space < 0)
      throw new GgufFormatError(
        `${file.path}: tokenizer.ggml.merges[${i}] is ${JSON.stringify(s)}, expected "left right"`,
      );
    return [s.slice(0, space), s.slice(space + 1)] as [string, string];
  });
  const pre = file.metadata.get('tokenizer.ggml.pre');
  return new Tokenizer(new ByteLevelBpe(vocab, pairs, file.path), {
    pretokenizer: pre === 'llama-bpe' ? 'cl100k' : 'gpt2',
    specialTokens: specials,
  });
}

const GGUF_KEYS: Record<SizeField, string> = {
  nLayer: 'block_count',
  vocabSize: 'vocab_size',
  blockSize: 'context_length',
  nEmbd: 'embedding_length',
  mlpHidden: 'feed_forward_length',
  headDim: 'attention.key_length',
  nHead: 'attention.head_count',
  nKvHead: 'attention.head_count_kv',
};

/**
 * Refuses, before anything is allocated, a config that describes more parameters than the file's tensor infos
 * hold or arrays too large to allocate, naming the metadata key (or the llmforge.config field).
 */
function checkSizes(file: GgufReader, config: ModelConfig): void {
  const ours = typeof file.metadata.get('llmforge.config') === 'string';
  const source = ours ? `${file.path} "llmforge.config"` : `${file.path} metadata`;
  const name = (f: SizeField): string =>
    ours ? f : f === 'vocabSize' ? 'token_embd.weight rows' : `${config.arch}.${GGUF_KEYS[f]}`;
  let stored = 0;
  for (const t of file.tensors.values()) stored += t.dims.reduce((a, b) => a * b, 1);
  checkConfigFitsWeights(config, stored, source, 'its tensors', name);
  checkModelAllocatable(config, source, name);
}

/** Loads the model and tokenizer in the GGUF file at `path`. */
export function importGguf(path: string): ImportedGguf {
  const file = GgufReader.open(path);
  try {
    const config = ggufModelConfig(file);
    checkSizes(file, config);
    const fill = new ModelFill(config); // no random init: every parameter is read from the file
    const missing = (name: string): GgufFormatError =>
      new GgufFormatError(`${path}: tensor "${ggufName(config.arch, name)!}" (parameter ${name}) is missing`);
    const used = new Set<string>();
    for (const [name, p] of fill.parameters) {
      const gg = ggufName(config.arch, name)!;
      const info = file.tensors.get(gg);
      if (!info) throw missing(name);
      const want = [...p.shape].reverse();
      if (info.dims.length !== want.length || info.dims.some((d, i) => d !== want[i])) {
        throw new GgufFormatError(
          `${path}: tensor "${gg}" has dims [${info.dims.join(', ')}], expected [${want.join(', ')}] for ${name}`,
        );
      }
      used.add(gg);
      let data = file.read(gg);
      const heads = rotaryHeads(config.arch, name, config.nHead, config.nKvHead);
      if (heads !== undefined) data = permuteRotary(data, heads, p.shape.length === 2 ? p.shape[1]! : 1, true);
      fill.take(name);
      p.data.set(data);
    }
    const factors = ropeFreqFactors(config);
    if (factors) {
      const stored = file.tensors.has(ROPE_FREQS) ? file.read(ROPE_FREQS) : null;
      if (
        !stored ||
        stored.length !== factors.length ||
        stored.some((f, i) => Math.abs(f - factors[i]!) > 1e-6 * factors[i]!)
      ) {
        throw new GgufFormatError(
          `${path}: tensor "${ROPE_FREQS}" is ${stored ? 'not' : 'missing, expected'} the ${factors.length} llama3 RoPE factors llmforge.config implies`,
        );
      }
      used.add(ROPE_FREQS);
    }
    for (const gg of file.tensors.keys()) {
      if (used.has(gg)) continue;
      const zeroBias = gg.endsWith('.bias') && file.read(gg).every((v) => v === 0);
      if (!zeroBias)
        throw new GgufFormatError(
          `${path}: unexpected tensor "${gg}" (not a parameter of the ${config.arch} model the metadata describes)`,
        );
    }
    return { model: fill.finish(missing), tokenizer: ggufTokenizer(file) };
  } finally {
    file.close();
  }
}
