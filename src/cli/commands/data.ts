/**
 * `llmforge data <prepare|inspect>`: turn text sources (files, directories, globs, .jsonl, .gz, or a weighted
 * mixture file) into cleaned, tokenized binary shards with a report, and look inside a prepared dataset.
 */
import { join } from 'node:path';
import { DEFAULT_FILTERS, type FilterOptions } from '../../data/filters.ts';
import { DEFAULT_MINHASH } from '../../data/minhash.ts';
import { TokenDataset } from '../../data/dataset.ts';
import { readMeta } from '../../data/meta.ts';
import { loadMixture } from '../../data/mixture.ts';
import { prepareData, type PrepareOptions, type ValSplit } from '../../data/prepare.ts';
import { formatDataReport } from '../../data/report.ts';
import type { SourceSpec } from '../../data/sources.ts';
import { loadTextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { UsageError, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';
import { DATA_EXPORT_LLMC_USAGE, runDataExportLlmc } from './data-export-llmc.ts';

function optNum(args: Parsed, name: string): number | undefined {
  return args.options[name] as number | undefined;
}

/** An integer option >= min (absent: undefined), refused with one line naming the flag otherwise. */
function count(args: Parsed, name: string, min: number, where = 'data prepare'): number | undefined {
  const v = optNum(args, name);
  if (v !== undefined && !(Number.isInteger(v) && v >= min))
    throw new UsageError(
      `${where}: --${name} expects ${min === 0 ? 'a non-negative' : 'a positive'} integer, received ${v}`,
    );
  return v;
}

function valFraction(args: Parsed): number | undefined {
  const v = optNum(args, 'val-fraction');
  if (v !== undefined && !(v >= 0 && v < 1))
    throw new UsageError(`data prepare: --val-fraction expects a number in [0, 1), received ${v}`);
  return v;
}

function ratio(args: Parsed, name: string, fallback: number): number {
  const v = optNum(args, name) ?? fallback;
  if (!(v >= 0 && v <= 1)) throw new UsageError(`data prepare: --${name} expects a number in [0, 1], received ${v}`);
  return v;
}

/** The chosen split, or undefined: prepareData's default (whole documents, the tail when none would be held out). */
function valSplit(args: Parsed, fromMix: ValSplit | undefined): ValSplit | undefined {
  const v = (args.options['val-split'] as string | undefined) ?? fromMix;
  if (v === undefined) return undefined;
  if (v !== 'document' && v !== 'tail')
    throw new UsageError(`data prepare: --val-split expects document or tail, received "${v}"`);
  return v;
}

function prepareOptions(args: Parsed): PrepareOptions {
  const o = args.options;
  const out = o.out as string | undefined;
  if (!out) throw new UsageError('data prepare: --out <dir> is required');
  const inputs = [...((o.input as string | undefined) ?? '').split(','), ...args.positionals.slice(1)].filter(
    (p) => p !== '',
  );
  const mixPath = o.mix as string | undefined;
  if (mixPath !== undefined && inputs.length > 0)
    throw new UsageError('data prepare: give either --mix FILE or --input paths, not both');
  let sources: SourceSpec[];
  let mix: ReturnType<typeof loadMixture> | undefined;
  if (mixPath !== undefined) {
    mix = loadMixture(mixPath);
    sources = mix.sources;
  } else {
    if (inputs.length === 0)
      throw new UsageError('data prepare: give --input <path[,path...]> (files, directories or globs) or --mix FILE');
    sources = inputs.map((path) => ({
      name: path,
      path,
      field: o['input-field'] as string,
      paragraphs: o.paragraphs === true,
    }));
  }
  const trainTok = optNum(args, 'train-tokenizer');
  const tokenizer = o.tokenizer as string | undefined;
  if (trainTok === undefined && tokenizer === undefined)
    throw new UsageError('data prepare: choose --tokenizer <dir>|gpt2|char or --train-tokenizer N');
  if (trainTok !== undefined && tokenizer !== undefined)
    throw new UsageError('data prepare: give either --tokenizer or --train-tokenizer, not both');
  const filters: FilterOptions | false = o['no-filters']
    ? false
    : {
        minWords: count(args, 'min-words', 0) ?? DEFAULT_FILTERS.minWords,
        maxChars: count(args, 'max-chars', 1) ?? DEFAULT_FILTERS.maxChars,
        maxSymbolRatio: ratio(args, 'max-symbol-ratio', DEFAULT_FILTERS.maxSymbolRatio),
        maxDigitRatio: ratio(args, 'max-digit-ratio', DEFAULT_FILTERS.maxDigitRatio),
        maxRepeatedLines: ratio(args, 'max-repeated-lines', DEFAULT_FILTERS.maxRepeatedLines),
        maxRepeatedNgrams: ratio(args, 'max-repeated-ngrams', DEFAULT_FILTERS.maxRepeatedNgrams),
        ngram: DEFAULT_FILTERS.ngram,
      };
  const opts: PrepareOptions = {
    sources,
    out,
    valFraction: valFraction(args) ?? mix?.valFraction ?? 0.05,
    seed: optNum(args, 'seed') ?? mix?.seed ?? 1,
    shardTokens: count(args, 'shard-tokens', 1) as number,
    progress: !o.quiet,
    clean: {
      normalize: !o['no-normalize'],
      dedup: !o['no-dedup'],
      nearDedup: !o['no-near-dedup'],
      minhash: { ...DEFAULT_MINHASH, threshold: ratio(args, 'near-dup-threshold', DEFAULT_MINHASH.threshold) },
      filters,
      pii: o.pii === true,
    },
  };
  const split = valSplit(args, mix?.valSplit);
  if (split !== undefined) opts.valSplit = split;
  const trainTokens = count(args, 'train-tokens', 1) ?? mix?.trainTokens;
  if (trainTokens !== undefined) opts.trainTokens = trainTokens;
  if (trainTok !== undefined) opts.trainTokenizer = trainTok;
  if (tokenizer !== undefined) opts.tokenizer = tokenizer;
  return opts;
}

function inspect(dir: string, count: number): void {
  const meta = readMeta(dir);
  const lines = [
    `${dir}: ${meta.format} v${meta.version}, tokenizer in ${join(dir, meta.tokenizer)}`,
    formatDataReport(meta),
  ];
  const tok = loadTextTokenizer(join(dir, meta.tokenizer));
  for (const split of ['train', 'val'] as const) {
    if (meta.splits[split].tokens === 0) continue;
    const ds = TokenDataset.open(dir, split);
    try {
      ds.checkAllIds();
      const ids = new Int32Array(Math.min(count, ds.numTokens));
      ds.read(0, ids);
      lines.push(
        `first ${ids.length} ${split} tokens: ${Array.from(ids).join(' ')}`,
        `decoded: ${JSON.stringify(tok.decode(Array.from(ids)))}`,
      );
    } finally {
      ds.close();
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export const dataCommand: Command = {
  spec: {
    name: 'data',
    summary: 'Prepare text into cleaned, tokenized training shards; inspect a prepared dataset',
    usage: [
      'llmforge data prepare (--input <path[,path...]> | --mix mix.json) (--tokenizer <dir>|gpt2|char | --train-tokenizer N) --out <dir>',
      '       llmforge data inspect <dir> [--tokens N]',
      `       ${DATA_EXPORT_LLMC_USAGE}`,
    ].join('\n'),
    options: {
      input: {
        type: 'string',
        help: 'prepare: comma-separated .txt/.md/.jsonl files (.gz allowed), directories or globs (*, **, ?); more paths may follow as arguments',
        arg: 'PATHS',
      },
      'input-field': {
        type: 'string',
        help: 'prepare: the .jsonl field holding the text',
        default: 'text',
        arg: 'NAME',
      },
      paragraphs: {
        type: 'boolean',
        help: 'prepare: split .txt/.md files into documents at blank lines (default: one document per file)',
      },
      mix: {
        type: 'string',
        help: 'prepare: mixture file {"sources":[{"name","path","field","weight","paragraphs"}],"val_fraction","val_split","seed","train_tokens"}',
        arg: 'FILE',
      },
      tokenizer: {
        type: 'string',
        help: 'prepare: tokenizer directory, gpt2, or char (built from the cleaned text)',
        arg: 'DIR',
      },
      'train-tokenizer': {
        type: 'number',
        help: 'prepare: train a byte-level BPE of this vocabulary size on the cleaned training text',
        arg: 'N',
      },
      out: { type: 'string', help: 'prepare: output directory (shards, meta.json, tokenizer/)', arg: 'DIR' },
      'val-fraction': {
        type: 'number',
        help: 'prepare: fraction of documents held out for validation (default: mixture file, else 0.05)',
        arg: 'F',
      },
      'val-split': {
        type: 'string',
        help: 'prepare: document (whole documents, by seeded hash) or tail (the last fraction of every document, e.g. one big text file) (default: mixture file, else document, or tail when no whole document would be held out)',
        arg: 'MODE',
      },
      seed: {
        type: 'number',
        help: 'prepare: seed of the split, sampling and order (default: mixture file, else 1)',
        arg: 'N',
      },
      'train-tokens': {
        type: 'number',
        count: true,
        help: 'prepare: training tokens to write (default: all available, reweighted by the mixture)',
        arg: 'N',
      },
      'shard-tokens': {
        type: 'number',
        count: true,
        help: 'prepare: tokens per shard file (100M: K, M, B suffixes)',
        default: 100_000_000,
        arg: 'N',
      },
      'no-normalize': { type: 'boolean', help: 'prepare: skip Unicode NFC and whitespace normalisation' },
      'no-dedup': { type: 'boolean', help: 'prepare: keep exact duplicates' },
      'no-near-dedup': { type: 'boolean', help: 'prepare: keep near duplicates (MinHash/LSH)' },
      'near-dup-threshold': {
        type: 'number',
        help: `prepare: Jaccard similarity at which a document is a near duplicate (default ${DEFAULT_MINHASH.threshold})`,
        arg: 'F',
      },
      'no-filters': { type: 'boolean', help: 'prepare: no quality filters' },
      'min-words': {
        type: 'number',
        help: `prepare: drop documents with fewer words (default ${DEFAULT_FILTERS.minWords})`,
        arg: 'N',
      },
      'max-chars': {
        type: 'number',
        help: `prepare: drop documents with more characters (default ${DEFAULT_FILTERS.maxChars})`,
        arg: 'N',
      },
      'max-symbol-ratio': {
        type: 'number',
        help: `prepare: drop documents whose symbol share of non-space characters is higher (default ${DEFAULT_FILTERS.maxSymbolRatio})`,
        arg: 'F',
      },
      'max-digit-ratio': {
        type: 'number',
        help: `prepare: drop documents whose digit share is higher (default ${DEFAULT_FILTERS.maxDigitRatio})`,
        arg: 'F',
      },
      'max-repeated-lines': {
        type: 'number',
        help: `prepare: drop documents whose fraction of repeated lines is higher (default ${DEFAULT_FILTERS.maxRepeatedLines})`,
        arg: 'F',
      },
      'max-repeated-ngrams': {
        type: 'number',
        help: `prepare: drop documents whose fraction of words in repeated ${DEFAULT_FILTERS.ngram}-grams is higher (default ${DEFAULT_FILTERS.maxRepeatedNgrams})`,
        arg: 'F',
      },
      pii: {
        type: 'boolean',
        help: 'prepare: replace e-mails, phone numbers and IP addresses with <EMAIL>, <PHONE>, <IP_ADDRESS>',
      },
      quiet: { type: 'boolean', help: 'prepare: no progress lines' },
      tokens: { type: 'number', help: 'inspect: how many tokens of each split to decode', default: 32, arg: 'N' },
    },
    details: [
      'Examples:',
      '  llmforge data prepare --input ../shared/data/tinyshakespeare/input.txt --paragraphs --train-tokenizer 2048 --out runs/data/shakespeare',
      '  llmforge data prepare --input "corpus/**/*.jsonl.gz" --input-field content --tokenizer gpt2 --pii --out runs/data/web',
      '  llmforge data prepare --mix mix.json --tokenizer runs/tok --out runs/data/mix',
      '  llmforge data inspect runs/data/shakespeare',
    ].join('\n'),
  },
  async run(args) {
    const op = args.positionals[0];
    switch (op) {
      case 'prepare': {
        const report = await prepareData(prepareOptions(args));
        process.stdout.write(
          `${formatDataReport(report.meta)}\nwrote ${report.out} in ${report.seconds.toFixed(2)} s\n`,
        );
        return;
      }
      case 'inspect': {
        const dir = args.positionals[1];
        if (dir === undefined)
          throw new UsageError('data inspect: give the dataset directory, e.g. `llmforge data inspect runs/data/x`');
        inspect(dir, count(args, 'tokens', 0, 'data inspect') as number);
        return;
      }
      case 'export-llmc':
        runDataExportLlmc(args);
        return;
      default:
        throw new UsageError(`data: unknown subcommand "${op ?? ''}"; expected prepare, inspect or export-llmc`);
    }
  },
};
