/**
 * `llmforge export --model <dir> --format hf|gguf|llmc --out <path>`: writes a model (an llmforge model or run
 * directory, a Hugging Face directory, or hf://owner/name) in another tool's format.
 * hf: a Hugging Face directory that `transformers` loads with `from_pretrained`: config.json, model.safetensors
 * (F32, or F16/BF16 with --dtype), generation_config.json and the tokenizer files (copied when the source has
 * Hugging Face ones, else written from the tokenizer; a character-level tokenizer has no Hugging Face form).
 * gguf: one .gguf file for llama.cpp (--type f32, f16 or q8_0) with the tokenizer inside.
 * llmc: an llm.c GPT-2 checkpoint .bin (--dtype f32 or bf16) and, for a BPE tokenizer, llm.c's tokenizer file
 * beside it (<name>_tokenizer.bin).
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { exportGguf, type GgufExportType } from '../../export/gguf/export-gguf.ts';
import { loadModelDir, type LoadedModel } from '../../generate/model-dir.ts';
import type { WeightDtype } from '../../io/dtypes.ts';
import { writeLlmcCheckpoint } from '../../export/llmc/llmc-checkpoint.ts';
import { writeLlmcTokenizer } from '../../export/llmc/llmc-tokenizer.ts';
import { exportHfModel } from '../../models/hf/export-hf.ts';
import type { HfConfigInfo } from '../../models/hf/hf-config.ts';
import { readGenerationConfig } from '../../models/hf/load-hf.ts';
import { readModelConfig } from '../../models/model-io.ts';
import { eosId, saveTextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

/** Tokenizer files a Hugging Face directory may hold, copied as they are. */
const HF_TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
];

const DTYPES: Record<string, WeightDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };
const GGUF_TYPES: readonly GgufExportType[] = ['f32', 'f16', 'q8_0'];
const FORMATS = ['hf', 'gguf', 'llmc'];

function exportHf(loaded: LoadedModel, out: string, dtypeOpt: string | undefined): string[] {
  const dtype = DTYPES[dtypeOpt ?? 'f32'];
  if (dtype === undefined)
    throw new UsageError(`export: --dtype must be f32, f16 or bf16 for --format hf, received "${String(dtypeOpt)}"`);
  mkdirSync(out, { recursive: true });
  const hf = readModelConfig(loaded.modelDir).extra.huggingface as HfConfigInfo | undefined;
  const eos = hf?.eosTokenId ?? eosId(loaded.tokenizer);
  const bos = hf?.bosTokenId ?? (typeof eos === 'number' ? eos : undefined);
  const written = exportHfModel(loaded.model, out, {
    dtype,
    ids: { bosTokenId: bos, eosTokenId: eos },
    generationConfig: readGenerationConfig(loaded.modelDir),
  });
  const dir = loaded.tokenizerDir;
  const hfTokenizer =
    existsSync(join(dir, 'tokenizer.json')) ||
    (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt')));
  if (hfTokenizer) {
    for (const f of HF_TOKENIZER_FILES) {
      if (existsSync(join(dir, f))) {
        copyFileSync(join(dir, f), join(out, f));
        written.push(f);
      }
    }
  } else if (loaded.tokenizer instanceof Tokenizer) {
    saveTextTokenizer(out, loaded.tokenizer);
    written.push('tokenizer.json', 'tokenizer_config.json');
  } else {
    process.stderr.write(
      'note: the character-level tokenizer has no Hugging Face form; only the weights and configs were exported\n',
    );
  }
  return written.map((f) => join(out, f));
}

function checkFileOut(out: string, what: string): void {
  if (existsSync(out) && statSync(out).isDirectory())
    throw new UsageError(
      `export: --out ${out} is a directory; --format ${what} writes one file (e.g. --out ${join(out, what === 'gguf' ? 'model.gguf' : 'model.bin')})`,
    );
}

function exportGgufFile(loaded: LoadedModel, out: string, typeOpt: string | undefined): string[] {
  const type = (typeOpt ?? 'f32') as GgufExportType;
  if (!GGUF_TYPES.includes(type)) throw new UsageError(`export: --type must be f32, f16 or q8_0, received "${type}"`);
  checkFileOut(out, 'gguf');
  if (!(loaded.tokenizer instanceof Tokenizer)) {
    throw new UsageError(
      `export: the model in ${loaded.modelDir} uses a character-level tokenizer, which has no llama.cpp form; --format gguf needs a byte-level BPE tokenizer (llmforge tokenizer train)`,
    );
  }
  exportGguf(loaded.model, out, { type, tokenizer: loaded.tokenizer, progress: true });
  return [out];
}

function exportLlmc(loaded: LoadedModel, out: string, dtypeOpt: string | undefined): string[] {
  const dtype = dtypeOpt ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'bf16')
    throw new UsageError(`export: --dtype must be f32 or bf16 for --format llmc, received "${dtype}"`);
  checkFileOut(out, 'llmc');
  writeLlmcCheckpoint(loaded.model, out, dtype);
  const written = [out];
  if (loaded.tokenizer instanceof Tokenizer) {
    const tokPath = join(dirname(out), `${out.replace(/^.*[\\/]/, '').replace(/\.bin$/, '')}_tokenizer.bin`);
    writeLlmcTokenizer(tokPath, loaded.tokenizer, loaded.model.config.vocabSize);
    written.push(tokPath);
  } else {
    process.stderr.write('note: the character-level tokenizer has no llm.c form; only the checkpoint was written\n');
  }
  return written;
}

export const exportCommand: Command = {
  spec: {
    name: 'export',
    summary: 'Write a model in another format (hf: Hugging Face directory; gguf: llama.cpp; llmc: llm.c checkpoint)',
    usage:
      'llmforge export --model <dir|hf://owner/name> --format hf|gguf|llmc --out <path> [--dtype f32|f16|bf16] [--type f32|f16|q8_0]',
    options: {
      model: {
        type: 'string',
        help: 'Model directory, training run directory, Hugging Face directory or hf://owner/name',
        arg: 'DIR',
      },
      format: { type: 'string', help: 'Output format: hf, gguf or llmc', arg: 'FORMAT' },
      out: {
        type: 'string',
        help: 'Output: a directory (hf) or a file (gguf: model.gguf, llmc: model.bin)',
        arg: 'PATH',
      },
      dtype: {
        type: 'string',
        help: 'Stored weight type: f32, f16 or bf16 (hf); f32 or bf16 (llmc). Default f32',
        arg: 'TYPE',
      },
      type: {
        type: 'string',
        help: 'GGUF weight type of 2-D tensors: f32, f16 or q8_0 (norms and biases stay f32). Default f32',
        arg: 'TYPE',
      },
    },
    details: [
      'The hf format writes config.json (GPT2LMHeadModel, LlamaForCausalLM or Qwen2ForCausalLM), model.safetensors',
      'with Hugging Face tensor names (GPT-2 Conv1D weights transposed, a tied head omitted), generation_config.json',
      'and the tokenizer files. The gguf format writes one file that llama.cpp (and tools built on it) loads, with',
      'llama.cpp tensor names, gpt2 or llama metadata and the BPE tokenizer. The llmc format writes a GPT-2',
      'checkpoint for karpathy/llm.c (tied head, 4C MLP, LayerNorm eps 1e-5) and <name>_tokenizer.bin. Examples:',
      '  llmforge export --model runs/demo --format hf --out runs/demo-hf',
      '  llmforge export --model runs/demo --format gguf --type q8_0 --out runs/demo.gguf',
      '  llmforge export --model runs/demo --format llmc --out runs/demo.bin',
    ].join('\n'),
  },
  run(args) {
    const model = args.options.model as string | undefined;
    const format = args.options.format as string | undefined;
    const out = args.options.out as string | undefined;
    if (model === undefined) throw new UsageError('export: --model <dir> is required');
    if (out === undefined) throw new UsageError('export: --out <path> is required');
    if (format === undefined) throw new UsageError(`export: --format is required (${FORMATS.join(', ')})`);
    if (!FORMATS.includes(format))
      throw new UsageError(`export: --format ${format} is not supported (expected ${FORMATS.join(', ')})`);
    if (args.positionals.length > 0) throw new UsageError(`export: unexpected argument "${args.positionals[0]}"`);
    const dtype = args.options.dtype as string | undefined;
    const type = args.options.type as string | undefined;
    if (type !== undefined && format !== 'gguf')
      throw new UsageError(`export: --type applies to --format gguf; use --dtype for --format ${format}`);
    if (dtype !== undefined && format === 'gguf')
      throw new UsageError('export: --format gguf takes --type f32|f16|q8_0, not --dtype');

    const loaded = loadModelDir(model);
    if (resolve(loaded.modelDir) === resolve(out))
      throw new UsageError(`export: --out ${out} is the source model's directory; choose another`);
    const written =
      format === 'hf'
        ? exportHf(loaded, out, dtype)
        : format === 'gguf'
          ? exportGgufFile(loaded, out, type)
          : exportLlmc(loaded, out, dtype);
    const cfg = loaded.model.config;
    const stored = format === 'gguf' ? (type ?? 'f32') : (dtype ?? 'f32');
    process.stdout.write(
      `exported ${cfg.arch} (${cfg.nLayer} layers, width ${cfg.nEmbd}, vocabulary ${cfg.vocabSize}, ${loaded.model.numParameters().toLocaleString('en-US')} parameters, ${format} ${stored}) from ${loaded.modelDir}\n` +
        `wrote ${written.join(', ')}\n`,
    );
  },
};
