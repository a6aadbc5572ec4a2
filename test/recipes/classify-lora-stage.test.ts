/**
 * The `classify` recipe stage with `train: lora` on a tiny random char-level base: the stage logs the LoRA line
 * with the recipe's rank and targets, writes the adapter (PEFT layout) and a merged best checkpoint that loads as a
 * plain model, and bad LoRA parameters are one error naming the stage and field when the recipe is checked.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { parseRecipe } from '../../src/recipes/recipe.ts';
import { runRecipe } from '../../src/recipes/runner.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';

registerBuiltinStages();

test('classify stage, train: lora: adapter + merged checkpoint, LoRA line; bad LoRA fields fail at check time', async () => {
  const lines = syntheticSms(120, 5).map((l) => l.slice(0, 40));
  const dir = tempDir('classify-lora-stage');
  const data = join(dir, 'sms.tsv');
  writeFileSync(data, lines.join('\n'));
  const tok = new CharTokenizer(['\u0000', ...[...new Set([...lines.join('')])].filter((c) => c !== '\u0000').sort()]);
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTextTokenizer(base, tok);
  const out = join(dir, 'run');
  const recipe = (extra = ''): string => `out: ${out}
stages:
  - {name: clf, type: classify, model: ${base}, data: ${data}, train: lora, loraR: 2, loraAlpha: 4, loraDropout: 0, loraTargets: [c_attn], epochs: 1, maxLength: 32${extra}}
`;
  const logged: string[] = [];
  await runRecipe(parseRecipe(recipe(), 'r.yaml'), { log: (l) => logged.push(l), quiet: true });
  const text = logged.join('\n');
  // c_attn of one layer: r (16 + 48) = 128 adapter values, plus the head 16 * 2 + 2
  assert.match(
    text,
    /training lora \(r 2, alpha 4, dropout 0 on 1 linears: c_attn; \+ head\): trainable 162 of [\d,]+ parameters/,
  );
  for (const f of [
    'adapter/adapter_config.json',
    'adapter/adapter_model.safetensors',
    'checkpoints/best/model.safetensors',
    'report.json',
  ])
    assert.ok(existsSync(join(out, 'clf', f)), f);
  const cfg = JSON.parse(readFileSync(join(out, 'clf', 'adapter', 'adapter_config.json'), 'utf8')) as {
    r: number;
    lora_alpha: number;
    target_modules: string[];
  };
  assert.deepEqual([cfg.r, cfg.lora_alpha, cfg.target_modules], [2, 4, ['c_attn']]);
  // The merged best checkpoint is a plain model (no LoRA tensors) of the base's shape.
  assert.equal(loadModelDir(join(out, 'clf', 'checkpoints', 'best')).model.config.nEmbd, 16);

  assert.throws(
    () => parseRecipe(recipe().replace('loraDropout: 0', 'loraDropout: 1'), 'r.yaml'),
    /classify stage "clf": loraDropout must be in \[0, 1\), received 1/,
  );
  assert.throws(
    () => parseRecipe(recipe().replace('loraR: 2', 'loraR: 0'), 'r.yaml'),
    /loraR.*expected an integer >= 1, received 0/,
  );
  assert.throws(
    () => parseRecipe(recipe().replace('[c_attn]', '["c-attn"]'), 'r.yaml'),
    /loraTargets must be module names such as c_attn or q_proj, received "c-attn"/,
  );
  assert.throws(
    () => parseRecipe(recipe().replace('train: lora', 'train: adapters'), 'r.yaml'),
    /train must be one of all, last-k, head, lora, received "adapters"/,
  );
});
