/**
 * `llmforge eval <ppl|mc|facts|judge>`: measures a model. `ppl` tokenizes each given text with the model's own
 * tokenizer and scores it by sliding windows (every token once, with up to --context tokens of left context, windows
 * every --stride tokens), printing tokens scored, mean NLL, perplexity and bits per byte per text, or one JSON
 * array. `mc` (multiple-choice accuracy), `facts` (toy-world facts across checkpoints) and `judge` (reward-model
 * judged responses) live in eval-mc.ts, eval-facts.ts and eval-judge.ts.
 */
import { textPerplexity, type TextPerplexityResult } from '../../eval/perplexity.ts';
import { readEvalText } from '../../eval/text-input.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { Progress } from '../../util/progress.ts';
import { evalFacts } from './eval-facts.ts';
import { evalJudge } from './eval-judge.ts';
import { evalMc } from './eval-mc.ts';
import { optionValues, UsageError, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';

export interface PplRow extends TextPerplexityResult {
  /** The text's source (path or toy-world:N). */
  text: string;
}

function intOption(args: Parsed, name: string): number | undefined {
  const v = args.options[name];
  if (v === undefined) return undefined;
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1))
    throw new UsageError(`eval ppl: --${name} must be a positive integer, received ${String(v)}`);
  return v;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

async function ppl(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.model !== 'string')
    throw new UsageError('eval ppl: --model <model dir | run dir | hf://owner/name> is required');
  const specs = [...optionValues(args, 'text').flatMap((t) => t.split(',')), ...args.positionals.slice(1)].filter(
    (s) => s !== '',
  );
  if (specs.length === 0)
    throw new UsageError(
      'eval ppl: give the text to score: --text <file>[,<file>...] (or files after `ppl`; toy-world[:N] for a toy-world sample)',
    );
  const texts = specs.map((s) => readEvalText(s, '--text'));
  const context = intOption(args, 'context');
  const stride = intOption(args, 'stride');
  const { model, tokenizer, modelDir } = loadModelDir(o.model);
  const block = model.config.blockSize;
  if (context !== undefined && context > block)
    throw new UsageError(
      `eval ppl: --context ${context} exceeds the model's context length ${block} (blockSize in ${modelDir}/config.json)`,
    );
  const json = o.json === true;
  const quiet = o.quiet === true;
  const ctx = context ?? block;
  if (!json)
    process.stdout.write(
      `model ${modelDir} (${model.config.arch}, ${fmt(model.numParameters())} parameters, vocabulary ${model.config.vocabSize}); context ${ctx}, stride ${stride ?? ctx}\n`,
    );
  const rows: PplRow[] = [];
  for (const t of texts) {
    let progress: Progress | null = null;
    const r = textPerplexity(model, tokenizer, t.text, {
      context: ctx,
      ...(stride !== undefined ? { stride } : {}),
      label: t.source,
      onProgress: (done, total) => {
        progress ??= new Progress({ label: `ppl ${t.label}`, total, unit: 'windows', silent: quiet });
        progress.update(done);
      },
    });
    (progress as Progress | null)?.finish(r.windows);
    rows.push({ text: t.source, ...r });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ model: modelDir, rows }, null, 2)}\n`);
    return;
  }
  const width = Math.max(4, ...rows.map((r) => r.text.length));
  process.stdout.write(
    `${'text'.padEnd(width)}  ${'tokens'.padStart(10)}  ${'mean NLL'.padStart(8)}  ${'ppl'.padStart(9)}  ${'bits/byte'.padStart(9)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.text.padEnd(width)}  ${fmt(r.scored).padStart(10)}  ${r.meanNll.toFixed(4).padStart(8)}  ${r.ppl.toFixed(2).padStart(9)}  ${r.bitsPerByte.toFixed(3).padStart(9)}\n`,
    );
  }
}

export const evalCommand: Command = {
  spec: {
    name: 'eval',
    summary:
      'Measure a model (ppl: perplexity; mc: multiple-choice accuracy; facts: toy-world facts by checkpoint; judge: reward-model scores)',
    usage: [
      'llmforge eval ppl --model <dir|hf://owner/name> --text <file>[,<file>...] [--context N] [--stride S] [--json]',
      '       llmforge eval mc --model <dir> --data <items.jsonl|toy-world> [--output <jsonl>] [--batch-size N] [--json]',
      '       llmforge eval facts --model <dir>[,<dir>...] [--checkpoints] [--facts <facts.json>] [--json]',
      '       llmforge eval judge --reward-model <dir> --responses <a.jsonl> [--against <b.jsonl>] [--output <jsonl>]',
    ].join('\n'),
    options: {
      model: { type: 'string', help: 'Model directory, training run directory or hf://owner/name', arg: 'DIR' },
      text: {
        type: 'string',
        help: 'ppl: texts to score, comma-separated: text files, .jsonl ("text" fields), toy-world[:N]',
        arg: 'FILES',
        repeatable: true,
      },
      context: { type: 'number', help: "ppl: tokens per window (default: the model's context length)", arg: 'N' },
      stride: {
        type: 'number',
        help: 'ppl: tokens between window starts, 1..context; smaller: more context per token, slower (default: context)',
        arg: 'S',
      },
      data: {
        type: 'string',
        help: 'mc: items JSONL {"question"|"context", "choices", "answer": index or text, "category"?}, or toy-world',
        arg: 'FILE',
      },
      output: {
        type: 'string',
        help: 'mc: per-item predictions JSONL; judge: per-response rewards JSONL',
        arg: 'FILE',
      },
      'batch-size': {
        type: 'number',
        help: 'mc: sequences per forward pass (default: by memory); judge: rows per reward forward (default 8)',
        arg: 'N',
      },
      checkpoints: {
        type: 'boolean',
        help: "facts: score every checkpoint under each run's checkpoints/ (latest, best, copies), by step",
      },
      facts: {
        type: 'string',
        help: "facts: a corpus stage's facts.json to take the probes from (default: the toy world's)",
        arg: 'FILE',
      },
      'reward-model': {
        type: 'string',
        help: 'judge: reward model directory (the --out of `llmforge reward train`)',
        arg: 'DIR',
      },
      responses: {
        type: 'string',
        help: 'judge: responses JSONL {"prompt", "response", "reference"?} (A)',
        arg: 'FILE',
      },
      against: {
        type: 'string',
        help: "judge: a second responses JSONL on the same prompts (B): A's win rate over B",
        arg: 'FILE',
      },
      json: { type: 'boolean', help: 'Print one JSON object instead of the table (ppl, mc, facts)' },
      quiet: { type: 'boolean', help: 'No progress line' },
    },
    details: [
      "ppl: each token after the first is scored once, by the window that first reaches it (Hugging Face's method for",
      "fixed-length models). Tokens are those of the model's own tokenizer, so perplexities of models with different",
      'tokenizers are not comparable; bits per byte are.',
      '',
      'Examples:',
      '  llmforge eval ppl --model runs/demo/pretrain --text toy-world',
      '  llmforge eval ppl --model runs/demo/pretrain --text ../shared/data/llms-from-scratch/the-verdict.txt --stride 32 --json',
      '  llmforge eval mc --model runs/demo/pretrain --data toy-world --output /tmp/mc.jsonl',
      '  llmforge eval facts --model runs/demo/pretrain --checkpoints',
      '  llmforge eval judge --reward-model runs/reward --responses runs/assistant/sft/responses.jsonl',
    ].join('\n'),
  },
  async run(args) {
    const sub = args.positionals[0];
    switch (sub) {
      case 'ppl':
        return ppl(args);
      case 'mc':
        return evalMc(args);
      case 'facts':
        return evalFacts(args);
      case 'judge':
        return evalJudge(args);
      default:
        throw new UsageError(
          `eval: expected a subcommand (ppl, mc, facts, judge), received ${sub === undefined ? 'none' : `"${sub}"`}`,
        );
    }
  },
};
