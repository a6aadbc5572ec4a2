/**
 * `llmforge predict --model <dir> "text"`: the model's most probable next tokens after a text, with probabilities
 * as bars (the picture of what pretraining learns). Tokens are shown readably: quoted so a leading space shows,
 * newlines and other control characters escaped, a token holding part of a UTF-8 character as its bytes in hex.
 * With --json, stdout is exactly one JSON array of {"id","token","prob"}, most probable first.
 */
import { loadModelDir } from '../../generate/model-dir.ts';
import { predictNext, promptIds } from '../../generate/predict.ts';
import type { TextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text with quotes, backslashes and control characters escaped (\n, \t, \r, \xNN). */
export function escapeText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the C0 control characters and DEL is the point
  return text.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
      default:
        return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
}

/** A token as the terminal shows it: "quoted text", or <e6 97> for bytes that are not whole UTF-8 characters. */
export function displayToken(tokenizer: TextTokenizer, id: number): string {
  if (id >= tokenizer.vocabSize) return `<id ${id}>`;
  if (tokenizer instanceof Tokenizer) {
    const bytes = tokenizer.decodeBytes([id]);
    try {
      return `"${escapeText(strictUtf8.decode(bytes))}"`;
    } catch {
      return `<${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')}>`;
    }
  }
  return `"${escapeText(tokenizer.decode([id]))}"`;
}

export const predictCommand: Command = {
  spec: {
    name: 'predict',
    summary: "Show a model's most probable next tokens after a text, with probabilities",
    usage: 'llmforge predict --model <dir> "text" [--top N] [--json]',
    options: {
      model: {
        type: 'string',
        help: "Model directory (saveModel output with its tokenizer) or a training run's --out directory",
        arg: 'DIR',
      },
      top: { type: 'number', help: 'How many tokens to show', default: 10, arg: 'N' },
      json: { type: 'boolean', help: 'Print exactly one JSON array [{"id","token","prob"}, ...], most probable first' },
    },
    details: [
      'Probabilities come from the full softmax over the vocabulary at the last position (float32).',
      'An empty text starts from the end-of-text token when the tokenizer has one.',
      'Example:',
      '  llmforge predict --model runs/demo "The capital of France is" --top 5',
    ].join('\n'),
  },
  run(args) {
    const dir = args.options.model as string | undefined;
    if (dir === undefined)
      throw new UsageError('predict: --model <dir> is required (a saved model or a training run directory)');
    if (args.positionals.length !== 1) {
      throw new UsageError(
        `predict: expected exactly one text argument (quote it), received ${args.positionals.length}`,
      );
    }
    const text = args.positionals[0]!;
    const top = args.options.top as number;
    if (!Number.isInteger(top) || top < 1)
      throw new UsageError(`predict: --top must be a positive integer, received ${top}`);
    const { model, tokenizer } = loadModelDir(dir);
    const ids = promptIds(tokenizer, text);
    if (ids.length > model.config.blockSize) {
      process.stderr.write(
        `note: the text has ${ids.length} tokens; only the last ${model.config.blockSize} (the model's context) are used\n`,
      );
    }
    const preds = predictNext(model, tokenizer, text, Math.min(top, model.config.vocabSize));
    if (args.options.json === true) {
      process.stdout.write(`${JSON.stringify(preds.map(({ id, token, prob }) => ({ id, token, prob })))}\n`);
      return;
    }
    const shown = preds.map((p) => displayToken(tokenizer, p.id));
    const width = Math.max(...shown.map((s) => s.length));
    process.stdout.write(
      `"${escapeText(text)}" -> next token (${ids.length} prompt tokens, vocabulary ${model.config.vocabSize})\n`,
    );
    preds.forEach((p, i) => {
      const bar = '█'.repeat(Math.round(p.prob * 40)).padEnd(40);
      process.stdout.write(
        `  ${shown[i]!.padEnd(width)}  ${bar} ${(p.prob * 100).toFixed(1).padStart(5)}%  (id ${p.id})\n`,
      );
    });
  },
};
