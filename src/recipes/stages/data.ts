/**
 * Stage `data`: prepares a corpus, or a weighted mixture of corpora, for training with `prepareData` (cleaning,
 * train/validation split, tokenization into shards with meta.json and the tokenizer) into the stage directory. The
 * tokenizer is an earlier tokenizer stage or directory, or one trained here on the cleaned training text of the
 * mixture (`trainTokenizer: <vocabulary size>`), which later stages reach as this stage's `tokenizer` output. The
 * toy world repeats its facts on purpose, so recipes over it turn deduplication off through the `clean` mapping.
 */
import { join } from 'node:path';
import { prepareData, type PrepareOptions } from '../../data/prepare.ts';
import type { CleanConfig } from '../../data/clean.ts';
import type { SourceSpec } from '../../data/sources.ts';
import { describeValue, RecipeError } from '../schema.ts';
import { defineStage, type StageContext } from '../registry.ts';

/** One entry of the `sources` mapping, as written in the recipe. */
interface SourceEntry {
  corpus: string;
  field?: string;
  paragraphs?: boolean;
  weight?: number;
}

const ENTRY_KEYS: Record<keyof SourceEntry, string> = {
  corpus: 'an earlier corpus stage, or a file, directory or glob',
  field: 'the text field of .jsonl files',
  paragraphs: 'true: one document per blank-line separated paragraph of .txt files',
  weight: "the source's share of the training tokens, relative to the others",
};

/** Checks the `sources` mapping (name -> entry) and returns its entries; errors name the source and field. */
export function checkSources(raw: Record<string, unknown>): [string, SourceEntry][] {
  return Object.entries(raw).map(([name, v]) => {
    const at = `sources.${name}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new RecipeError(
        `${at}: expected a mapping {corpus, weight, field, paragraphs}, received ${describeValue(v)}`,
      );
    const e = v as Record<string, unknown>;
    for (const k of Object.keys(e))
      if (!(k in ENTRY_KEYS))
        throw new RecipeError(`${at}.${k}: unknown key; valid keys: ${Object.keys(ENTRY_KEYS).join(', ')}`);
    if (typeof e.corpus !== 'string' || e.corpus === '')
      throw new RecipeError(`${at}.corpus: expected ${ENTRY_KEYS.corpus}, received ${describeValue(e.corpus)}`);
    if (e.field !== undefined && typeof e.field !== 'string')
      throw new RecipeError(`${at}.field: expected a string, received ${describeValue(e.field)}`);
    if (e.paragraphs !== undefined && typeof e.paragraphs !== 'boolean')
      throw new RecipeError(`${at}.paragraphs: expected true or false, received ${describeValue(e.paragraphs)}`);
    if (e.weight !== undefined && (typeof e.weight !== 'number' || !Number.isFinite(e.weight) || e.weight <= 0)) {
      throw new RecipeError(`${at}.weight: expected a number > 0, received ${describeValue(e.weight)}`);
    }
    return [name, e as unknown as SourceEntry];
  });
}

function sourceSpecs(
  ctx: StageContext,
  p: { corpus: string; field: string; sources: Record<string, unknown> },
): SourceSpec[] {
  if (p.corpus !== '') return [{ name: p.corpus, path: ctx.input(p.corpus, 'corpus'), field: p.field }];
  return checkSources(p.sources).map(([name, e]) => {
    const spec: SourceSpec = { name, path: ctx.input(e.corpus, 'corpus'), field: e.field ?? p.field };
    if (e.paragraphs !== undefined) spec.paragraphs = e.paragraphs;
    if (e.weight !== undefined) spec.weight = e.weight;
    return spec;
  });
}

export const dataStage = defineStage({
  type: 'data',
  summary: 'Clean, split and tokenize a corpus or a weighted mixture into training shards (prepareData)',
  params: {
    corpus: {
      type: 'string',
      help: 'an earlier corpus stage, or a file, directory or glob (or use sources)',
      default: '',
    },
    sources: {
      type: 'object',
      help: 'a mixture instead of corpus: name -> {corpus: stage or path, weight, field, paragraphs}',
      default: {},
    },
    tokenizer: {
      type: 'string',
      help: 'an earlier tokenizer stage, or a tokenizer directory (or use trainTokenizer)',
      default: '',
    },
    trainTokenizer: {
      type: 'integer',
      help: 'train a byte-level BPE of this vocabulary size on the cleaned training text (0: use tokenizer)',
      default: 0,
      min: 0,
    },
    field: { type: 'string', help: 'the text field of .jsonl corpora', default: 'text' },
    valFraction: { type: 'number', help: 'fraction of documents held out for validation', default: 0.05, min: 0 },
    seed: { type: 'integer', help: 'seed of the split and the document order', default: 1 },
    trainTokens: { type: 'integer', help: 'training tokens to write (0: all)', default: 0, min: 0 },
    clean: { type: 'object', help: 'cleaning options (normalize, dedup, nearDedup, filters, pii)', default: {} },
  },
  refs: { corpus: 'corpus', tokenizer: 'tokenizer' },
  nestedRefs: (p) =>
    Object.entries(p.sources).flatMap(([name, e]) => {
      const corpus = (e as { corpus?: unknown } | null)?.corpus;
      return typeof corpus === 'string' ? [[['sources', name, 'corpus'], corpus] as [(string | number)[], string]] : [];
    }),
  check(p) {
    const mixed = Object.keys(p.sources).length > 0;
    if ((p.corpus !== '') === mixed)
      throw new RecipeError('give either corpus (one source) or sources (a mixture), not both and not neither');
    if (mixed) checkSources(p.sources);
    if ((p.tokenizer !== '') === p.trainTokenizer > 0)
      throw new RecipeError(
        'give either tokenizer (a stage or directory) or trainTokenizer (a vocabulary size), not both and not neither',
      );
    if (p.trainTokenizer > 0 && p.trainTokenizer < 257)
      throw new RecipeError(`trainTokenizer: expected a vocabulary size of at least 257, received ${p.trainTokenizer}`);
  },
  outputs: (ctx) => ({ data: ctx.dir, meta: join(ctx.dir, 'meta.json'), tokenizer: join(ctx.dir, 'tokenizer') }),
  async run(ctx, p) {
    const opts: PrepareOptions = {
      sources: sourceSpecs(ctx, p),
      out: ctx.dir,
      valFraction: p.valFraction,
      seed: p.seed,
      clean: p.clean as CleanConfig,
      progress: !ctx.quiet,
    };
    if (p.trainTokenizer > 0) opts.trainTokenizer = p.trainTokenizer;
    else opts.tokenizer = ctx.input(p.tokenizer, 'tokenizer');
    if (p.trainTokens > 0) opts.trainTokens = p.trainTokens;
    const { meta, seconds } = await prepareData(opts);
    const c = meta.cleaning;
    const dropped = Object.entries(c.dropped)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    ctx.log(`${c.kept}/${c.documents} documents kept${dropped ? ` (dropped: ${dropped})` : ''}`);
    if (opts.sources.length > 1) {
      ctx.log(
        `mixture: ${meta.sources.map((s) => `${s.name} ${(s.share * 100).toFixed(1)}% of training tokens`).join(', ')}`,
      );
    }
    ctx.log(
      `train ${meta.splits.train.tokens.toLocaleString('en-US')} tokens, val ${meta.splits.val.tokens.toLocaleString('en-US')} tokens, vocabulary ${meta.vocabSize} (${meta.dtype}), in ${seconds.toFixed(1)} s`,
    );
  },
});
