/**
 * Stage `predict`: a model's most probable next tokens after each listed prompt, printed as bars and saved to
 * predictions.json. Before training the guesses are flat; after, "The capital of France is" puts " Paris" on top.
 * Given a corpus stage's `facts`, it also scores every toy-world fact in trained and held-out phrasings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FactProbe } from '../../data/toy-world.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { predictNext } from '../../generate/predict.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { formatFactScores, scoreFacts } from '../../eval/fact-check.ts';
import { predictionBars } from './show.ts';

export const predictStage = defineStage({
  type: 'predict',
  summary: "Show a model's top next tokens for listed prompts, as bars",
  params: {
    model: { type: 'string', help: 'an earlier model or pretrain stage, or a model or run directory' },
    prompts: { type: 'string[]', help: 'texts to continue' },
    top: { type: 'integer', help: 'tokens shown per prompt', default: 5, min: 1 },
    facts: {
      type: 'string',
      help: 'an earlier corpus stage (or its facts.json) whose facts are scored ("": none)',
      default: '',
    },
  },
  refs: { model: 'model', facts: 'facts' },
  outputs: (ctx) => ({ predictions: join(ctx.dir, 'predictions.json') }),
  run(ctx, p) {
    const { model, tokenizer, modelDir } = loadModelDir(ctx.input(p.model, 'model'));
    ctx.log(`model ${modelDir}`);
    const results = p.prompts.map((prompt) => {
      const predictions = predictNext(model, tokenizer, prompt, p.top);
      ctx.log('');
      for (const line of predictionBars(prompt, predictions)) ctx.log(line);
      const V = model.config.vocabSize;
      if (predictions[0]!.prob < 0.05)
        ctx.log(`  (nearly flat: a uniform guess over ${V} tokens gives each ${(100 / V).toFixed(2)}%)`);
      return { prompt, predictions };
    });
    let facts = null;
    if (p.facts !== '') {
      const path = ctx.input(p.facts, 'facts');
      const probes = (JSON.parse(readFileSync(path, 'utf8')) as { probes: FactProbe[] }).probes;
      facts = scoreFacts(model, tokenizer, probes);
      ctx.log('');
      ctx.log(`toy-world facts answered (greedy next words, ${probes.length} prompts from ${path}):`);
      for (const line of formatFactScores(facts)) ctx.log(line);
    }
    writeJsonAtomic(join(ctx.dir, 'predictions.json'), { model: modelDir, results, ...(facts ? { facts } : {}) });
  },
});
