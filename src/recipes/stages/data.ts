/**
 * Stage `data`: prepares a corpus for training with `prepareData` (cleaning, train/validation split, tokenization
 * into shards with meta.json and the tokenizer) into the stage directory. The toy world repeats its facts on
 * purpose, so recipes over it turn deduplication off through the `clean` mapping.
 */
import { join } from 'node:path';
import { prepareData, type PrepareOptions } from '../../data/prepare.ts';
import type { CleanConfig } from '../../data/clean.ts';
import { defineStage } from '../registry.ts';

export const dataStage = defineStage({
  type: 'data',
  summary: 'Clean, split and tokenize a corpus into training shards (prepareData)',
  params: {
    corpus: { type: 'string', help: 'an earlier corpus stage, or a file, directory or glob' },
    tokenizer: { type: 'string', help: 'an earlier tokenizer stage, or a tokenizer directory' },
    field: { type: 'string', help: 'the text field of .jsonl corpora', default: 'text' },
    valFraction: { type: 'number', help: 'fraction of documents held out for validation', default: 0.05, min: 0 },
    seed: { type: 'integer', help: 'seed of the split and the document order', default: 1 },
    trainTokens: { type: 'integer', help: 'training tokens to write (0: all)', default: 0, min: 0 },
    clean: { type: 'object', help: 'cleaning options (normalize, dedup, nearDedup, filters, pii)', default: {} },
  },
  refs: { corpus: 'corpus', tokenizer: 'tokenizer' },
  outputs: (ctx) => ({ data: ctx.dir, meta: join(ctx.dir, 'meta.json') }),
  async run(ctx, p) {
    const opts: PrepareOptions = {
      sources: [{ name: p.corpus, path: ctx.input(p.corpus, 'corpus'), field: p.field }],
      out: ctx.dir,
      tokenizer: ctx.input(p.tokenizer, 'tokenizer'),
      valFraction: p.valFraction,
      seed: p.seed,
      clean: p.clean as CleanConfig,
      progress: !ctx.quiet,
    };
    if (p.trainTokens > 0) opts.trainTokens = p.trainTokens;
    const { meta, seconds } = await prepareData(opts);
    const c = meta.cleaning;
    const dropped = Object.entries(c.dropped).map(([k, n]) => `${k} ${n}`).join(', ');
    ctx.log(`${c.kept}/${c.documents} documents kept${dropped ? ` (dropped: ${dropped})` : ''}`);
    ctx.log(`train ${meta.splits.train.tokens.toLocaleString('en-US')} tokens, val ${meta.splits.val.tokens.toLocaleString('en-US')} tokens, vocabulary ${meta.vocabSize} (${meta.dtype}), in ${seconds.toFixed(1)} s`);
  },
});
