/**
 * Stage `model`: creates a model with random weights from a preset (plus config overrides), sized to a
 * tokenizer's vocabulary, and saves it with the tokenizer. It is the "before training" model the demo predicts
 * with, and the starting point the `pretrain` stage trains.
 */
import { join } from 'node:path';
import { createModel } from '../../models/create.ts';
import { saveModel } from '../../models/model-io.ts';
import type { ModelConfig } from '../../models/model.ts';
import { resolveModelConfig } from '../../models/presets.ts';
import { Rng } from '../../tensor/random.ts';
import { loadTextTokenizer, saveTextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { defineStage } from '../registry.ts';

export const modelStage = defineStage({
  type: 'model',
  summary: 'Create a model with random weights from a preset, sized to a tokenizer',
  params: {
    tokenizer: { type: 'string', help: 'an earlier tokenizer stage, or a tokenizer directory' },
    preset: { type: 'string', help: 'model preset (char-tiny, toy, gpt-mini, gpt2-124m, llama-mini)', default: 'toy' },
    config: { type: 'object', help: 'model config overrides (nLayer, nHead, nEmbd, blockSize, dropout, ...)', default: {} },
    seed: { type: 'integer', help: 'initialization seed', default: 0 },
  },
  refs: { tokenizer: 'tokenizer' },
  outputs: (ctx) => ({ model: ctx.dir, config: join(ctx.dir, 'config.json') }),
  run(ctx, p) {
    const tokenizer = loadTextTokenizer(ctx.input(p.tokenizer, 'tokenizer'));
    const cfg = resolveModelConfig(p.preset, { vocabSize: tokenizer.vocabSize, ...(p.config as Partial<ModelConfig>) });
    const model = createModel(cfg, new Rng(p.seed));
    saveModel(ctx.dir, model, { preset: p.preset });
    saveTextTokenizer(ctx.dir, tokenizer);
    ctx.log(`${model.numParameters().toLocaleString('en-US')} parameters: ${cfg.arch}, ${cfg.nLayer} layers, ${cfg.nHead} heads, ${cfg.nEmbd} dims, context ${cfg.blockSize}, vocabulary ${cfg.vocabSize}`);
  },
});
