/**
 * Stage `sample`: continues each listed prompt with a model (KV-cached generation, seeded sampling, ending at the
 * end-of-text token or `maxTokens`), prints the continuations and saves them to samples.json.
 */
import { join } from 'node:path';
import { generate } from '../../generate/generate.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { promptIds } from '../../generate/predict.ts';
import { resolveSampling } from '../../generate/sampling.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';

export const sampleStage = defineStage({
  type: 'sample',
  summary: 'Generate continuations of listed prompts',
  params: {
    model: { type: 'string', help: 'an earlier model or pretrain stage, or a model or run directory' },
    prompts: { type: 'string[]', help: 'texts to continue' },
    maxTokens: { type: 'integer', help: 'most tokens per continuation', default: 48, min: 1 },
    temperature: { type: 'number', help: 'sampling temperature (0: greedy)', default: 0.8, min: 0 },
    topK: { type: 'integer', help: 'keep the k most likely tokens (0: all)', default: 0, min: 0 },
    topP: { type: 'number', help: 'nucleus sampling threshold (1: off)', default: 1 },
    seed: { type: 'integer', help: 'sampling seed', default: 0 },
  },
  refs: { model: 'model' },
  check(p) {
    resolveSampling({ temperature: p.temperature, topK: p.topK, topP: p.topP });
  },
  outputs: (ctx) => ({ samples: join(ctx.dir, 'samples.json') }),
  run(ctx, p) {
    const { model, tokenizer, modelDir } = loadModelDir(ctx.input(p.model, 'model'));
    const eos = eosId(tokenizer);
    ctx.log(`model ${modelDir}, temperature ${p.temperature}, seed ${p.seed}`);
    const samples = p.prompts.map((prompt, i) => {
      const r = generate(model, promptIds(tokenizer, prompt), {
        maxNewTokens: p.maxTokens,
        temperature: p.temperature,
        topK: p.topK,
        topP: p.topP,
        seed: p.seed + i,
        tokenizer,
        ...(eos !== undefined ? { eosId: eos } : {}),
      });
      ctx.log(`${JSON.stringify(prompt)} -> ${JSON.stringify(prompt + r.text)}`);
      return { prompt, text: r.text, stopReason: r.stopReason };
    });
    writeJsonAtomic(join(ctx.dir, 'samples.json'), { model: modelDir, samples });
  },
});
