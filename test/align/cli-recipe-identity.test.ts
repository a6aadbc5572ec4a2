/**
 * One run path per alignment job: `llmforge reward train`, `llmforge dpo` and `llmforge ppo` and a one-stage recipe
 * of the `reward`, `dpo` and `ppo` stage with the same settings (on tiny-align.ts's synthetic pairs, BPE base and
 * random reward model) write bit-identical weights (every .safetensors file: models, adapters, value heads,
 * optimizer moments) and identical metrics.jsonl and eval.json. The settings lean on the options the stages gained
 * when both front ends came to share one options object: LoRA in the reward and PPO stages, top-k/top-p, the value
 * clip range and the KL horizon in the PPO stage.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parseRecipe } from '../../src/recipes/recipe.ts';
import { runRecipe } from '../../src/recipes/runner.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyAlignSetup } from '../helpers/tiny-align.ts';

registerBuiltinStages();

function cli(...args: string[]): void {
  const r = spawnSync(process.execPath, ['bin/llmforge.js', ...args, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

async function recipe(out: string, stage: string): Promise<string> {
  await runRecipe(parseRecipe(`out: ${out}\nseed: 1\nstages:\n  - ${stage}\n`, 'r.yaml'), {
    log: () => {},
    quiet: true,
  });
  return join(out, 'run');
}

/** Paths below `dir` of the files to compare: weights, metrics and evaluation reports. */
function compared(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.safetensors$|(^|\/)(metrics\.jsonl|eval\.json|samples\.jsonl)$/.test(f))
    .sort();
}

function assertSameRun(a: string, b: string, expected: string[]): void {
  const files = compared(a);
  for (const f of expected) assert.ok(files.includes(f), `${f} missing from ${a}`);
  assert.deepEqual(compared(b), files);
  for (const f of files)
    assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} differs between ${relative(a, b)} runs`);
}

test('reward train (LoRA) and a reward stage with the same settings write identical checkpoints', async () => {
  const dir = tempDir('align-identity-reward');
  const s = tinyAlignSetup(dir);
  const viaCli = join(dir, 'cli');
  cli(
    'reward',
    'train',
    '--model',
    s.base,
    '--data',
    s.data,
    '--out',
    viaCli,
    '--train',
    'lora',
    '--lora-r',
    '4',
    '--lora-alpha',
    '8',
    '--epochs',
    '2',
    '--batch-size',
    '4',
    '--val-frac',
    '0.25',
    '--eval-every',
    '2',
    '--lr',
    '0.003',
    '--max-length',
    '48',
    '--seed',
    '5',
    '--precision',
    'fp32',
  );
  const viaRecipe = await recipe(
    join(dir, 'recipe'),
    `{name: run, type: reward, model: ${s.base}, data: ${s.data}, train: lora, loraR: 4, loraAlpha: 8, epochs: 2, batchSize: 4, valFrac: 0.25, evalEvery: 2, lr: 0.003, maxLength: 48, seed: 5, precision: fp32}`,
  );
  assertSameRun(viaCli, viaRecipe, [
    'checkpoints/best/model.safetensors',
    'checkpoints/latest/adapter/adapter_model.safetensors',
    'checkpoints/latest/optimizer.safetensors',
    'adapter/adapter_model.safetensors',
    'metrics.jsonl',
    'eval.json',
  ]);
});

test('dpo and a dpo stage with the same settings write identical models and checkpoints', async () => {
  const dir = tempDir('align-identity-dpo');
  const s = tinyAlignSetup(dir);
  const viaCli = join(dir, 'cli');
  cli(
    'dpo',
    '--model',
    s.base,
    '--data',
    s.data,
    '--out',
    viaCli,
    '--steps',
    '6',
    '--batch-size',
    '3',
    '--eval-every',
    '3',
    '--val-frac',
    '0.25',
    '--lr',
    '0.001',
    '--beta',
    '0.2',
    '--label-smoothing',
    '0.1',
    '--max-length',
    '40',
    '--seed',
    '5',
    '--precision',
    'fp32',
  );
  const viaRecipe = await recipe(
    join(dir, 'recipe'),
    `{name: run, type: dpo, model: ${s.base}, data: ${s.data}, steps: 6, batchSize: 3, evalEvery: 3, valFrac: 0.25, lr: 0.001, beta: 0.2, labelSmoothing: 0.1, maxLength: 40, seed: 5, precision: fp32}`,
  );
  assertSameRun(viaCli, viaRecipe, [
    'model/model.safetensors',
    'checkpoints/latest/model.safetensors',
    'checkpoints/latest/optimizer.safetensors',
    'metrics.jsonl',
    'eval.json',
  ]);
});

test('ppo (LoRA, top-k/top-p, value clip, adaptive KL) and a ppo stage with the same settings write identical weights', async () => {
  const dir = tempDir('align-identity-ppo');
  const s = tinyAlignSetup(dir);
  const viaCli = join(dir, 'cli');
  cli(
    'ppo',
    '--model',
    s.base,
    '--reward-model',
    s.rm,
    '--prompts',
    s.data,
    '--out',
    viaCli,
    '--train',
    'lora',
    '--lora-r',
    '4',
    '--lora-targets',
    'c_attn,c_fc',
    '--iterations',
    '2',
    '--batch-size',
    '4',
    '--mini-batch-size',
    '2',
    '--ppo-epochs',
    '2',
    '--max-new-tokens',
    '6',
    '--val-prompts',
    '4',
    '--top-k',
    '20',
    '--top-p',
    '0.9',
    '--clip-range-value',
    '0.3',
    '--kl-horizon',
    '500',
    '--target-kl',
    '1',
    '--sample-every',
    '1',
    '--save-every',
    '1',
    '--lr',
    '0.001',
    '--seed',
    '5',
    '--precision',
    'fp32',
  );
  const viaRecipe = await recipe(
    join(dir, 'recipe'),
    `{name: run, type: ppo, model: ${s.base}, reward: ${s.rm}, data: ${s.data}, train: lora, loraR: 4, loraTargets: [c_attn, c_fc], iterations: 2, batchSize: 4, miniBatchSize: 2, ppoEpochs: 2, maxNewTokens: 6, valPrompts: 4, topK: 20, topP: 0.9, clipRangeValue: 0.3, klHorizon: 500, targetKl: 1, sampleEvery: 1, saveEvery: 1, lr: 0.001, seed: 5, precision: fp32}`,
  );
  assertSameRun(viaCli, viaRecipe, [
    'model/model.safetensors',
    'model/value-head.safetensors',
    'adapter/adapter_model.safetensors',
    'checkpoints/latest/value-head.safetensors',
    'checkpoints/latest/optimizer.safetensors',
    'metrics.jsonl',
    'samples.jsonl',
    'eval.json',
  ]);
  assert.ok(existsSync(join(viaCli, 'checkpoints', 'latest', 'adapter')));
});
