/**
 * `llmforge generate --model <dir> "prompt"`: continues a prompt with a KV-cached model, streaming the text to
 * stdout as tokens arrive (the prompt first, then the continuation); timing (prefill, decode tokens/s) and notes go
 * to stderr, so stdout holds only text. Sampling: temperature (0 = greedy), top-k, top-p, repetition penalty, a
 * seed, a stop string, and the tokenizer's end-of-text token.
 */
import { generateTokens, type GenerateOptions } from '../../generate/generate.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { parseDecodePrecision } from '../../models/decoder.ts';
import { promptIds } from '../../generate/predict.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { UsageError } from '../args.ts';
import { checkSamplingFlags } from '../sampling-flags.ts';
import type { Command } from '../command.ts';

/** Interprets \n, \t, \r and \\ in a stop string typed on the command line. */
export function unescapeArg(s: string): string {
  return s.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
}

export const generateCommand: Command = {
  spec: {
    name: 'generate',
    summary: 'Continue a prompt with a model (KV cache, sampling), streaming the text',
    usage:
      'llmforge generate --model <dir> "prompt" [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--stop S] [--seed N] [--decode-precision fp32|bf16]',
    options: {
      model: {
        type: 'string',
        help: "Model directory (saveModel output with its tokenizer) or a training run's --out directory",
        arg: 'DIR',
      },
      'max-tokens': { type: 'number', help: 'Most new tokens', default: 128, arg: 'N' },
      temperature: { type: 'number', help: 'Sampling temperature; 0 = greedy', default: 0.8, arg: 'T' },
      'top-k': { type: 'number', help: 'Sample among the K most likely tokens (0 = all)', default: 0, arg: 'K' },
      'top-p': {
        type: 'number',
        help: 'Nucleus sampling: smallest set with cumulative probability >= P (1 = off)',
        default: 1,
        arg: 'P',
      },
      'repetition-penalty': {
        type: 'number',
        help: 'CTRL repetition penalty on tokens already seen (1 = off)',
        default: 1,
        arg: 'R',
      },
      stop: {
        type: 'string',
        help: 'Stop when the text contains S (not printed); \\n and \\t are interpreted',
        arg: 'S',
      },
      seed: { type: 'number', help: 'Sampling seed', default: 0, arg: 'N' },
      'decode-precision': {
        type: 'string',
        help: 'Weights of decode steps: fp32 (default, or LLMFORGE_DECODE) or bf16 (faster; greedy may differ at near-ties)',
        arg: 'P',
      },
    },
    details: [
      "Generation also stops at the tokenizer's end-of-text token. When the context fills, the model continues",
      'from the last half of its context. An empty prompt starts from the end-of-text token.',
      'Example:',
      '  llmforge generate --model runs/demo "Once upon a time" --max-tokens 60 --temperature 0.7 --top-k 40',
    ].join('\n'),
  },
  run(args) {
    const dir = args.options.model as string | undefined;
    if (dir === undefined)
      throw new UsageError('generate: --model <dir> is required (a saved model or a training run directory)');
    if (args.positionals.length !== 1) {
      throw new UsageError(
        `generate: expected exactly one prompt argument (quote it), received ${args.positionals.length}`,
      );
    }
    const prompt = args.positionals[0]!;
    checkSamplingFlags('generate', args.options, 'non-negative'); // before anything is printed
    const maxTokens = args.options['max-tokens'] as number;
    const topK = args.options['top-k'] as number;
    const seed = args.options.seed as number;

    const precisionArg = args.options['decode-precision'] as string | undefined;
    const decodePrecision =
      precisionArg === undefined ? undefined : parseDecodePrecision(precisionArg, 'generate: --decode-precision');

    const { model, tokenizer } = loadModelDir(dir);
    const eos = eosId(tokenizer);
    const stop = args.options.stop as string | undefined;
    // stdout ends without a newline (one is added at the end); a note on stderr first breaks the terminal line.
    let outMid = prompt.length > 0 && !prompt.endsWith('\n');
    let lineMid = false;
    let promptShown = false;
    const showPrompt = (): void => {
      if (promptShown) return;
      process.stdout.write(prompt);
      promptShown = true;
      lineMid = outMid;
    };
    const opts: GenerateOptions = {
      maxNewTokens: maxTokens,
      temperature: args.options.temperature as number,
      topK,
      topP: args.options['top-p'] as number,
      repetitionPenalty: args.options['repetition-penalty'] as number,
      seed,
      tokenizer,
      onText: (text) => {
        showPrompt();
        process.stdout.write(text);
        outMid = lineMid = !text.endsWith('\n');
      },
      onNote: (message) => {
        process.stderr.write(`${lineMid ? '\n' : ''}note: ${message}\n`);
        lineMid = false;
      },
      ...(eos !== undefined ? { eosId: eos } : {}),
      ...(decodePrecision !== undefined ? { decodePrecision } : {}),
      ...(stop !== undefined ? { stop: [unescapeArg(stop)] } : {}),
    };
    const ids = promptIds(tokenizer, prompt);
    const it = generateTokens(model, ids, opts);
    let r = it.next();
    while (!r.done) r = it.next();
    showPrompt(); // the prompt goes out with the first text, or here: never before the generator's checks pass
    const s = r.value;
    if (outMid) process.stdout.write('\n');
    const decodeRate = s.ids.length > 1 ? ((s.ids.length - 1) / (s.decodeMs / 1000)).toFixed(1) : 'n/a';
    process.stderr.write(
      `[${s.ids.length} new tokens, stop: ${s.stopReason}; prompt ${s.promptTokens} tokens prefilled in ${s.prefillMs.toFixed(0)} ms; ` +
        `decode ${decodeRate} tokens/s (${s.decodePath === 'forward' ? 'fp32 forward' : s.decodePath})]\n`,
    );
  },
};
