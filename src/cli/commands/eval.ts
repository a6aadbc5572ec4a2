/**
 * `llmforge eval <ppl>`: measures a model. `ppl` tokenizes each given text with the model's own tokenizer and
 * scores it by sliding windows (every token once, with up to --context tokens of left context, windows every
 * --stride tokens), printing tokens scored, mean NLL, perplexity and bits per byte per text, or one JSON array.
 */
import { textPerplexity, type TextPerplexityResult } from '../../eval/perplexity.ts';
import { readEvalText } from '../../eval/text-input.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { Progress } from '../../util/progress.ts';
import { optionValues, UsageError, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';

export interface PplRow extends TextPerplexityResult {
  /** The text's source (path or toy-world:N). */
  text: string;
}

function intOption(args: Parsed, name: string): number | undefined {
  const v = args.options[name];
  if (v === undefined) return undefined;
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new UsageError(`eval ppl: --${name} must be a positive integer, received ${String(v)}`);
  return v;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

async function ppl(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.model !== 'string') throw new UsageError('eval ppl: --model <model dir | run dir | hf://owner/name> is required');
  const specs = [...optionValues(args, 'text').flatMap((t) => t.split(',')), ...args.positionals.slice(1)].filter((s) => s !== '');
  if (specs.length === 0) throw new UsageError('eval ppl: give the text to score: --text <file>[,<file>...] (or files after `ppl`; toy-world[:N] for a toy-world sample)');
  const texts = specs.map((s) => readEvalText(s, '--text'));
  const context = intOption(args, 'context');
  const stride = intOption(args, 'stride');
  const { model, tokenizer, modelDir } = loadModelDir(o.model);
  const block = model.config.blockSize;
  if (context !== undefined && context > block) throw new UsageError(`eval ppl: --context ${context} exceeds the model's context length ${block} (blockSize in ${modelDir}/config.json)`);
  const json = o.json === true;
  const quiet = o.quiet === true;
  const ctx = context ?? block;
  if (!json) process.stdout.write(`model ${modelDir} (${model.config.arch}, ${fmt(model.numParameters())} parameters, vocabulary ${model.config.vocabSize}); context ${ctx}, stride ${stride ?? ctx}\n`);
  const rows: PplRow[] = [];
  for (const t of texts) {
    let progress: Progress | null = null;
    const r = textPerplexity(model, tokenizer, t.text, {
      context: ctx, ...(stride !== undefined ? { stride } : {}), label: t.source,
      onProgress: (done, total) => (progress ??= new Progress({ label: `ppl ${t.label}`, total, unit: 'windows', silent: quiet })).update(done),
    });
    (progress as Progress | null)?.finish(r.windows);
    rows.push({ text: t.source, ...r });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ model: modelDir, rows }, null, 2)}\n`);
    return;
  }
  const width = Math.max(4, ...rows.map((r) => r.text.length));
  process.stdout.write(`${'text'.padEnd(width)}  ${'tokens'.padStart(10)}  ${'mean NLL'.padStart(8)}  ${'ppl'.padStart(9)}  ${'bits/byte'.padStart(9)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.text.padEnd(width)}  ${fmt(r.scored).padStart(10)}  ${r.meanNll.toFixed(4).padStart(8)}  ${r.ppl.toFixed(2).padStart(9)}  ${r.bitsPerByte.toFixed(3).padStart(9)}\n`);
  }
}

export const evalCommand: Command = {
  spec: {
    name: 'eval',
    summary: 'Measure a model (ppl: perplexity and bits per byte on texts, by sliding windows)',
    usage: 'llmforge eval ppl --model <dir|hf://owner/name> --text <file>[,<file>...] [--context N] [--stride S] [--json]',
    options: {
      model: { type: 'string', help: 'Model directory, training run directory or hf://owner/name', arg: 'DIR' },
      text: { type: 'string', help: 'Texts to score, comma-separated: text files, .jsonl ("text" fields), toy-world[:N]', arg: 'FILES', repeatable: true },
      context: { type: 'number', help: "Tokens per window (default: the model's context length)", arg: 'N' },
      stride: { type: 'number', help: 'Tokens between window starts, 1..context; smaller: more context per token, slower (default: context)', arg: 'S' },
      json: { type: 'boolean', help: 'Print one JSON object {model, rows} instead of the table' },
      quiet: { type: 'boolean', help: 'No progress line' },
    },
    details: [
      'Each token after the first is scored once, by the window that first reaches it (Hugging Face\'s method for',
      'fixed-length models). Tokens are those of the model\'s own tokenizer, so perplexities of models with different',
      'tokenizers are not comparable; bits per byte are.',
      '',
      'Examples:',
      '  llmforge eval ppl --model runs/demo/pretrain --text toy-world',
      '  llmforge eval ppl --model runs/demo/pretrain --text ../shared/data/llms-from-scratch/the-verdict.txt --stride 32 --json',
    ].join('\n'),
  },
  async run(args) {
    const sub = args.positionals[0];
    switch (sub) {
      case 'ppl':
        return ppl(args);
      default:
        throw new UsageError(`eval: expected a subcommand (ppl), received ${sub === undefined ? 'none' : `"${sub}"`}`);
    }
  },
};
