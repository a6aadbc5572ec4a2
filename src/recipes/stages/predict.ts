/**
 * Stage `predict`: a model's most probable next tokens after each listed prompt, printed as bars and saved to
 * predictions.json. Before training the guesses are flat; after, "The capital of France is" puts " Paris" on top.
 */
import { join } from 'node:path';
import { loadModelDir } from '../../generate/model-dir.ts';
import { predictNext } from '../../generate/predict.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { predictionBars } from './show.ts';

export const predictStage = defineStage({
  type: 'predict',
  summary: 'Show a model\'s top next tokens for listed prompts, as bars',
  params: {
    model: { type: 'string', help: 'an earlier model or pretrain stage, or a model or run directory' },
    prompts: { type: 'string[]', help: 'texts to continue' },
    top: { type: 'integer', help: 'tokens shown per prompt', default: 5, min: 1 },
  },
  refs: { model: 'model' },
  outputs: (ctx) => ({ predictions: join(ctx.dir, 'predictions.json') }),
  run(ctx, p) {
    const { model, tokenizer, modelDir } = loadModelDir(ctx.input(p.model, 'model'));
    ctx.log(`model ${modelDir}`);
    const results = p.prompts.map((prompt) => {
      const predictions = predictNext(model, tokenizer, prompt, p.top);
      ctx.log('');
      for (const line of predictionBars(prompt, predictions)) ctx.log(line);
      return { prompt, predictions };
    });
    writeJsonAtomic(join(ctx.dir, 'predictions.json'), { model: modelDir, results });
  },
});
