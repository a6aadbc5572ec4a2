/**
 * `llmforge import --format gguf|llmc <file> --out <dir>`: turns a file another tool wrote into an llmforge model
 * directory (config.json + model.safetensors + tokenizer) that generate, predict, train --init and export open.
 * gguf: a gpt2 or llama GGUF file (F32, F16 or Q8_0 tensors, dequantized), tokenizer included. llmc: an llm.c
 * GPT-2 checkpoint (fp32 or bf16); llm.c keeps its tokenizer elsewhere, so --tokenizer names one (a directory, or
 * gpt2 for OpenAI's GPT-2 tokenizer, which llm.c's own GPT-2 checkpoints use).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gpt2TokenizerPath } from '../../data/prepare.ts';
import { importGguf } from '../../export/gguf/import-gguf.ts';
import { readLlmcCheckpoint } from '../../export/llmc/llmc-checkpoint.ts';
import type { LanguageModel } from '../../models/model.ts';
import { saveModel } from '../../models/model-io.ts';
import { loadTextTokenizer, saveTextTokenizer, type TextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const importCommand: Command = {
  spec: {
    name: 'import',
    summary: 'Turn a GGUF file or an llm.c GPT-2 checkpoint into an llmforge model directory',
    usage: 'llmforge import --format gguf|llmc <file> --out <dir> [--tokenizer <dir>|gpt2]',
    options: {
      format: { type: 'string', help: 'Input format: gguf (llama.cpp) or llmc (llm.c GPT-2 .bin)', arg: 'FORMAT' },
      out: { type: 'string', help: 'Output model directory (created; must be empty or new)', arg: 'DIR' },
      tokenizer: {
        type: 'string',
        help: 'Tokenizer or model directory, or gpt2 (required for llmc; replaces the GGUF one)',
        arg: 'DIR',
      },
    },
    details: [
      'Examples:',
      '  llmforge import --format llmc gpt2_124M.bin --tokenizer gpt2 --out runs/gpt2-from-llmc',
      '  llmforge import --format gguf runs/demo.gguf --out runs/demo-back',
    ].join('\n'),
  },
  run(args) {
    const format = args.options.format as string | undefined;
    const out = args.options.out as string | undefined;
    const tokSpec = args.options.tokenizer as string | undefined;
    const file = args.positionals[0];
    if (format !== 'gguf' && format !== 'llmc')
      throw new UsageError(
        `import: --format must be gguf or llmc, received ${format === undefined ? 'nothing' : `"${format}"`}`,
      );
    if (file === undefined)
      throw new UsageError(`import: give the ${format === 'gguf' ? '.gguf' : 'llm.c .bin'} file to import`);
    if (args.positionals.length > 1) throw new UsageError(`import: unexpected argument "${args.positionals[1]}"`);
    if (out === undefined) throw new UsageError('import: --out <dir> is required');
    if (existsSync(out) && readdirSync(out).length > 0)
      throw new UsageError(`import: --out ${out} exists and is not empty; choose a new directory`);
    if (resolve(out) === resolve(file)) throw new UsageError('import: --out must differ from the input file');
    if (!existsSync(file)) throw new UsageError(`import: ${file}: no such file`);
    if (!statSync(file).isFile()) throw new UsageError(`import: ${file} is not a file (a directory?)`);

    let model: LanguageModel;
    let tokenizer: TextTokenizer | null = null;
    if (format === 'gguf') {
      const imported = importGguf(file);
      model = imported.model;
      tokenizer = imported.tokenizer;
    } else {
      if (tokSpec === undefined)
        throw new UsageError(
          "import: llm.c checkpoints carry no tokenizer; pass --tokenizer <dir> (or --tokenizer gpt2 for llm.c's GPT-2 checkpoints)",
        );
      model = readLlmcCheckpoint(file);
    }
    if (tokSpec !== undefined) {
      // a model or checkpoint directory keeps its tokenizer in tokenizer/
      const sub = join(tokSpec, 'tokenizer');
      const dir =
        tokSpec === 'gpt2' ? gpt2TokenizerPath() : existsSync(sub) && statSync(sub).isDirectory() ? sub : tokSpec;
      tokenizer = loadTextTokenizer(dir);
    }
    if (tokenizer === null)
      throw new UsageError(`import: ${file} has no tokenizer llmforge can read; pass --tokenizer <dir>`);
    if (tokenizer.vocabSize > model.config.vocabSize) {
      throw new UsageError(
        `import: the tokenizer has ${tokenizer.vocabSize} ids but the model in ${file} only ${model.config.vocabSize}; they do not belong together`,
      );
    }
    mkdirSync(out, { recursive: true });
    saveModel(out, model, { importedFrom: { format, file } });
    saveTextTokenizer(out, tokenizer);
    const c = model.config;
    process.stdout.write(
      `imported ${c.arch} (${c.nLayer} layers, width ${c.nEmbd}, vocabulary ${c.vocabSize}, ${model.numParameters().toLocaleString('en-US')} parameters) from ${file}\n` +
        `wrote ${out} (config.json, model.safetensors, tokenizer)\n`,
    );
  },
};
