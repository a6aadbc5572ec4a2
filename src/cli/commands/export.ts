/**
 * `llmforge export --model <dir> --format hf --out <dir>`: writes a model (an llmforge model or run directory, a
 * Hugging Face directory, or hf://owner/name) as a Hugging Face directory that `transformers` loads with
 * `from_pretrained`: config.json, model.safetensors (F32, or F16/BF16 with --dtype), generation_config.json and the
 * tokenizer files (copied when the source has Hugging Face ones, else written from the tokenizer). A
 * character-level tokenizer has no Hugging Face form: the weights are exported and a note says so.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModelDir } from '../../generate/model-dir.ts';
import type { WeightDtype } from '../../io/dtypes.ts';
import { exportHfModel } from '../../models/hf/export-hf.ts';
import type { HfConfigInfo } from '../../models/hf/hf-config.ts';
import { readGenerationConfig } from '../../models/hf/load-hf.ts';
import { readModelConfig } from '../../models/model-io.ts';
import { eosId, saveTextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

/** Tokenizer files a Hugging Face directory may hold, copied as they are. */
const HF_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt', 'added_tokens.json'];

const DTYPES: Record<string, WeightDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

export const exportCommand: Command = {
  spec: {
    name: 'export',
    summary: 'Write a model in another format (hf: a Hugging Face directory for transformers)',
    usage: 'llmforge export --model <dir|hf://owner/name> --format hf --out <dir> [--dtype f32|f16|bf16]',
    options: {
      model: { type: 'string', help: 'Model directory, training run directory, Hugging Face directory or hf://owner/name', arg: 'DIR' },
      format: { type: 'string', help: 'Output format: hf', arg: 'FORMAT' },
      out: { type: 'string', help: 'Output directory (created)', arg: 'DIR' },
      dtype: { type: 'string', help: 'Stored weight type: f32, f16 or bf16', default: 'f32', arg: 'TYPE' },
    },
    details: [
      'The hf format writes config.json (GPT2LMHeadModel, LlamaForCausalLM or Qwen2ForCausalLM), model.safetensors',
      'with Hugging Face tensor names (GPT-2 Conv1D weights transposed, a tied head omitted), generation_config.json',
      'and the tokenizer files. Example:',
      '  llmforge export --model runs/demo --format hf --out runs/demo-hf',
      '  python3 -c "from transformers import AutoModelForCausalLM; AutoModelForCausalLM.from_pretrained(\'runs/demo-hf\')"',
    ].join('\n'),
  },
  run(args) {
    const model = args.options.model as string | undefined;
    const format = args.options.format as string | undefined;
    const out = args.options.out as string | undefined;
    if (model === undefined) throw new UsageError('export: --model <dir> is required');
    if (out === undefined) throw new UsageError('export: --out <dir> is required');
    if (format === undefined) throw new UsageError('export: --format is required (hf)');
    if (format !== 'hf') throw new UsageError(`export: --format ${format} is not supported (expected hf)`);
    if (args.positionals.length > 0) throw new UsageError(`export: unexpected argument "${args.positionals[0]}"`);
    const dtype = DTYPES[args.options.dtype as string];
    if (dtype === undefined) throw new UsageError(`export: --dtype must be f32, f16 or bf16, received "${String(args.options.dtype)}"`);

    const loaded = loadModelDir(model);
    if (resolve(loaded.modelDir) === resolve(out)) throw new UsageError(`export: --out ${out} is the source model's directory; choose another`);
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
    const hfTokenizer = existsSync(join(dir, 'tokenizer.json')) || (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt')));
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
      process.stderr.write('note: the character-level tokenizer has no Hugging Face form; only the weights and configs were exported\n');
    }
    const cfg = loaded.model.config;
    process.stdout.write(
      `exported ${cfg.arch} (${cfg.nLayer} layers, width ${cfg.nEmbd}, vocabulary ${cfg.vocabSize}, ${loaded.model.numParameters().toLocaleString('en-US')} parameters, ${dtype}) from ${loaded.modelDir}\n` +
        `wrote ${written.join(', ')} to ${out}\n`,
    );
  },
};
