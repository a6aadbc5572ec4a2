/**
 * Stage `model`: creates a model with random weights from a preset (plus config overrides), sized to a
 * tokenizer's vocabulary, and saves it with the tokenizer. It is the "before training" model the demo predicts
 * with, and the starting point the `pretrain` stage trains.
 */
import { join } from 'node:path';
import { CONFIG_FIELDS, ModelConfigError } from '../../models/config.ts';
import { createModel } from '../../models/create.ts';
import { saveModel } from '../../models/model-io.ts';
import type { ModelConfig } from '../../models/model.ts';
import { resolveModelConfig } from '../../models/presets.ts';
import { Rng } from '../../tensor/random.ts';
import { loadTextTokenizer, saveTextTokenizer } from '../../tokenizer/text-tokenizer.ts';
import { defineStage } from '../registry.ts';

/** A preset with overrides; unknown override keys are an error (the preset merge would drop them). */
export function modelConfigFor(preset: string, overrides: Record<string, unknown>, vocabSize: number): ModelConfig {
  for (const key of Object.keys(overrides)) {
    if (!(key in CONFIG_FIELDS))
      throw new ModelConfigError(
        `config: unknown model field "${key}" (known: ${Object.keys(CONFIG_FIELDS).join(', ')})`,
      );
  }
  return resolveModelConfig(preset, { vocabSize, ...(overrides as Partial<ModelConfig>) });
}

export const modelStage = defineStage({
  type: 'model',
  summary: 'Create a model with random weights from a preset, sized to a tokenizer',
  params: {
    tokenizer: { type: 'string', help: 'an earlier tokenizer stage, or a tokenizer directory' },
    preset: { type: 'string', help: 'model preset (char-tiny, toy, gpt-mini, gpt2-124m, llama-mini)', default: 'toy' },
    config: {
      type: 'object',
      help: 'model config overrides (nLayer, nHead, nEmbd, blockSize, dropout, ...)',
      default: {},
    },
    seed: { type: 'integer', help: 'initialization seed', default: 0 },
  },
  refs: { tokenizer: 'tokenizer' },
  check(p) {
    modelConfigFor(p.preset, p.config, 256);
  },
  outputs: (ctx) => ({ model: ctx.dir, config: join(ctx.dir, 'config.json') }),
  run(ctx, p) {
    const tokenizer = loadTextTokenizer(ctx.input(p.tokenizer, 'tokenizer'));
    const cfg = modelConfigFor(p.preset, p.config, tokenizer.vocabSize);
    const model = createModel(cfg, new Rng(p.seed));
    saveModel(ctx.dir, model, { preset: p.preset });
    saveTextTokenizer(ctx.dir, tokenizer);
    ctx.log(
      `${model.numParameters().toLocaleString('en-US')} parameters: ${cfg.arch}, ${cfg.nLayer} layers, ${cfg.nHead} heads, ${cfg.nEmbd} dims, context ${cfg.blockSize}, vocabulary ${cfg.vocabSize}`,
    );
  },
});
