/**
 * `llmforge tokenizer <train|encode|decode|show>`: train a byte-level BPE tokenizer on files, encode and decode
 * text, and show how a text splits into tokens (alternating colours in a terminal, brackets otherwise).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../../tokenizer/load.ts';
import { saveTokenizer } from '../../tokenizer/hf-json.ts';
import { isPretokenizerName } from '../../tokenizer/pretokenize.ts';
import { SpecialTokenError, type Tokenizer } from '../../tokenizer/tokenizer.ts';
import { WordCounter, trainBpe } from '../../tokenizer/train-bpe.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

function readInput(op: string, args: { options: Record<string, unknown>; positionals: string[] }): string {
  const input = args.options.input as string | undefined;
  const text = args.positionals.slice(1).join(' ');
  if (input !== undefined && text !== '')
    throw new UsageError(`tokenizer ${op}: give either --input FILE or text, not both`);
  if (input !== undefined) {
    try {
      return readFileSync(input, 'utf8');
    } catch (e) {
      throw new UsageError(
        `tokenizer ${op}: cannot read --input ${input} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  }
  if (text === '') throw new UsageError(`tokenizer ${op}: give the text as an argument or --input FILE`);
  return text;
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function encodeForCli(tok: Tokenizer, text: string, special: 'allow' | 'reject'): number[] {
  try {
    return tok.encode(text, { special });
  } catch (e) {
    if (e instanceof SpecialTokenError)
      throw new UsageError(`${e.message.split(';')[0]}; pass --allow-special to encode it as a special token`);
    throw e;
  }
}

function requireTokenizer(op: string, path: unknown) {
  if (typeof path !== 'string')
    throw new UsageError(`tokenizer ${op}: --tokenizer <dir or tokenizer.json> is required`);
  return loadTokenizer(path);
}

export const tokenizerCommand: Command = {
  spec: {
    name: 'tokenizer',
    summary: 'Train, use and inspect byte-level BPE tokenizers',
    usage: [
      'llmforge tokenizer train --input <files...> --vocab-size N --out <dir>',
      '       llmforge tokenizer encode --tokenizer <dir|file> (--input FILE | "text") [--json]',
      '       llmforge tokenizer decode --tokenizer <dir|file> (--input FILE | "ids...")',
      '       llmforge tokenizer show [--tokenizer <dir|file>] "text"',
    ].join('\n'),
    options: {
      input: { type: 'string', help: 'Input file (train: comma-separated files, .gz allowed)', arg: 'FILE' },
      tokenizer: {
        type: 'string',
        help: 'Tokenizer directory (tokenizer.json or encoder.json + vocab.bpe) or tokenizer.json file',
        arg: 'PATH',
      },
      'vocab-size': {
        type: 'number',
        help: 'train: vocabulary size including special tokens',
        default: 8192,
        arg: 'N',
      },
      'min-frequency': { type: 'number', help: 'train: smallest pair count worth merging', default: 2, arg: 'N' },
      special: { type: 'string', help: 'train: comma-separated special tokens', default: '<|endoftext|>', arg: 'LIST' },
      pretokenizer: {
        type: 'string',
        help: 'train: gpt2 or cl100k (GPT-4 style, digit runs capped at 3)',
        default: 'gpt2',
        arg: 'NAME',
      },
      out: { type: 'string', help: 'train: output directory (tokenizer.json)', arg: 'DIR' },
      json: { type: 'boolean', help: 'encode: print exactly one JSON array of ids' },
      'allow-special': { type: 'boolean', help: 'encode/show: encode special-token text as special tokens' },
    },
    details:
      'Examples:\n  llmforge tokenizer train --input ../shared/data/tinyshakespeare/input.txt --vocab-size 2048 --out runs/tok\n  llmforge tokenizer show --tokenizer runs/tok "The sun rises in the east."',
  },
  async run(args) {
    const op = args.positionals[0];
    const special = args.options['allow-special'] ? 'allow' : 'reject';
    switch (op) {
      case 'train': {
        const input = args.options.input as string | undefined;
        const out = args.options.out as string | undefined;
        if (!input) throw new UsageError('tokenizer train: --input <file[,file...]> is required');
        if (!out) throw new UsageError('tokenizer train: --out <dir> is required');
        const pre = args.options.pretokenizer as string;
        if (!isPretokenizerName(pre))
          throw new UsageError(`tokenizer train: --pretokenizer must be gpt2 or cl100k, received "${pre}"`);
        const specials = (args.options.special as string).split(',').filter((s) => s !== '');
        const vocabSize = args.options['vocab-size'] as number;
        const least = 256 + specials.length;
        if (!(Number.isInteger(vocabSize) && vocabSize >= least))
          throw new UsageError(
            `tokenizer train: --vocab-size must be an integer of at least ${least} (256 byte tokens + ${specials.length} special), received ${vocabSize}`,
          );
        const minFrequency = args.options['min-frequency'] as number;
        if (!(Number.isInteger(minFrequency) && minFrequency >= 1))
          throw new UsageError(`tokenizer train: --min-frequency must be a positive integer, received ${minFrequency}`);
        const files = [...input.split(','), ...args.positionals.slice(1)].filter((f) => f !== '');
        const t0 = performance.now();
        const counter = new WordCounter(pre);
        for (const f of files) {
          try {
            await counter.addFile(f);
          } catch (e) {
            throw new UsageError(
              `tokenizer train: cannot read ${f} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
            );
          }
        }
        const tCount = performance.now();
        const tok = trainBpe(counter.counts, {
          vocabSize,
          minFrequency,
          specialTokens: specials,
          pretokenizer: pre,
          progress: true,
        });
        saveTokenizer(out, tok);
        const path = join(out, 'tokenizer.json');
        const secs = (performance.now() - t0) / 1000;
        process.stdout.write(
          `trained ${tok.vocabSize} tokens (${tok.bpe.merges.length} merges) on ${(counter.bytes / 1e6).toFixed(2)} MB from ${files.length} file(s) ` +
            `in ${secs.toFixed(2)} s (counting ${((tCount - t0) / 1000).toFixed(2)} s, ${(counter.bytes / 1e6 / secs).toFixed(1)} MB/s overall)\nwrote ${path} and tokenizer_config.json\n`,
        );
        return;
      }
      case 'encode': {
        const tok = requireTokenizer('encode', args.options.tokenizer);
        const ids = encodeForCli(tok, readInput('encode', args), special);
        process.stdout.write(args.options.json ? `${JSON.stringify(ids)}\n` : `${ids.join(' ')}\n`);
        return;
      }
      case 'decode': {
        const tok = requireTokenizer('decode', args.options.tokenizer);
        const raw = readInput('decode', args).trim();
        let parts: unknown[];
        try {
          parts = raw.startsWith('[') ? (JSON.parse(raw) as unknown[]) : raw.split(/[\s,]+/);
        } catch (e) {
          throw new UsageError(`tokenizer decode: the ids are not a JSON array (${(e as Error).message})`);
        }
        if (!Array.isArray(parts)) throw new UsageError('tokenizer decode: the ids are not a JSON array');
        const ids = parts.map((p, i) => {
          const n = Number(p);
          if (!Number.isInteger(n) || n < 0)
            throw new UsageError(`tokenizer decode: item ${i} (${JSON.stringify(p)}) is not a token id`);
          if (n >= tok.vocabSize)
            throw new UsageError(
              `tokenizer decode: item ${i} (${n}) is not in the vocabulary (ids 0..${tok.vocabSize - 1})`,
            );
          return n;
        });
        process.stdout.write(`${tok.decode(ids)}\n`);
        return;
      }
      case 'show': {
        const path = (args.options.tokenizer as string | undefined) ?? '../shared/data/gpt2-tokenizer';
        const tok = loadTokenizer(path);
        const text = readInput('show', args);
        const ids = encodeForCli(tok, text, special);
        const tty = process.stdout.isTTY;
        const colours = ['\x1b[48;5;153m', '\x1b[48;5;223m', '\x1b[48;5;194m', '\x1b[48;5;225m'];
        const pieces = ids.map((id, i) => {
          // A token holding part of a multi-byte character is shown as its bytes, e.g. <e6 97>.
          const bytes = tok.decodeBytes([id]);
          const text = tok.tokenText(id);
          const partial = !isValidUtf8(bytes);
          const shown = partial ? `<${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')}>` : text;
          const t = shown.replace(/\n/g, '\\n').replace(/\t/g, '\\t');
          return tty ? `${colours[i % colours.length]}\x1b[30m${t}\x1b[0m` : `[${t}]`;
        });
        process.stdout.write(
          `${pieces.join('')}\n${ids.join(' ')}\n${ids.length} tokens, ${[...text].length} characters\n`,
        );
        return;
      }
      default:
        throw new UsageError(`tokenizer: unknown subcommand "${op ?? ''}"; expected train, encode, decode or show`);
    }
  },
};
