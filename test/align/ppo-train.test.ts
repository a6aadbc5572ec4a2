/**
 * PPO end to end on a synthetic task: a tiny random GPT-2 answers "say <word>" prompts and a scripted reward
 * function (behind the same RewardScorer interface as the reward model) pays for each "x" in the response. The mean
 * reward rises, a larger KL coefficient keeps the policy closer to the reference, the adaptive controller moves the
 * coefficient, and the frozen reference stays bit-identical. With LoRA only the adapters change (the reference is
 * the base with adapters off). A run stopped at a checkpoint and resumed ends bit-identical to one run straight
 * (policy, value head, metrics), and its model directory opens as a language model.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { frozenCopy } from '../../src/align/dpo-train.ts';
import type { RewardScorer } from '../../src/align/ppo-rollout.ts';
import {
  DEFAULT_PPO_CONFIG,
  promptOrder,
  trainPpo,
  type PpoConfig,
  type PpoIterationInfo,
  type PpoRun,
} from '../../src/align/ppo-train.ts';
import { attachLora } from '../../src/finetune/lora-finetune.ts';
import type { SftRecord } from '../../src/chat/records.ts';
import { chatmlTemplate } from '../../src/chat/templates.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const tok = new CharTokenizer([...new Set([...'abcdefghijklmnopqrstuvwxyz .:<>|_\n'])]);
const EOS = tok.vocabSize;
const cfg = completeModelConfig({
  arch: 'gpt2',
  vocabSize: EOS + 1,
  blockSize: 64,
  nLayer: 1,
  nHead: 2,
  nEmbd: 32,
  dropout: 0,
});
const prompts: SftRecord[] = ['cat', 'dog', 'sun', 'sky', 'red', 'tea', 'pen', 'box'].map((w) => ({
  kind: 'alpaca',
  instruction: `say ${w}`,
  input: '',
  output: '',
}));
const marker: RewardScorer = { score: (rs) => rs.map((r) => [...r.text].filter((ch) => ch === 'x').length / 4) };
const config: PpoConfig = {
  ...DEFAULT_PPO_CONFIG,
  iterations: 30,
  batchSize: 8,
  miniBatchSize: 4,
  ppoEpochs: 4,
  lr: 3e-3,
  maxNewTokens: 8,
  klCoef: 0.05,
  seed: 1,
};

function snapshot(m: LanguageModel): Map<string, number[]> {
  return new Map(m.namedParameters().map(([n, p]) => [n, [...p.data]]));
}
const meanOf = (xs: PpoIterationInfo[], key: 'reward' | 'kl'): number => xs.reduce((s, x) => s + x[key], 0) / xs.length;

async function run(
  extra: Partial<PpoRun> = {},
  c: PpoConfig = config,
): Promise<{ infos: PpoIterationInfo[]; model: LanguageModel; reference: LanguageModel }> {
  const model = createModel(cfg, new Rng(1));
  const reference = frozenCopy(model);
  const infos: PpoIterationInfo[] = [];
  await trainPpo(
    { model, reference, tokenizer: tok, template: chatmlTemplate, eosId: EOS, prompts, scorer: marker, ...extra },
    c,
    (i) => infos.push(i),
  );
  return { infos, model, reference };
}

test('ppo: the mean reward for the marker rises; the reference stays bit-identical; a larger KL coefficient holds the policy closer', async () => {
  const model = createModel(cfg, new Rng(1));
  const reference = frozenCopy(model);
  const before = snapshot(reference);
  const infos: PpoIterationInfo[] = [];
  await trainPpo(
    { model, reference, tokenizer: tok, template: chatmlTemplate, eosId: EOS, prompts, scorer: marker },
    config,
    (i) => infos.push(i),
  );
  const early = meanOf(infos.slice(0, 5), 'reward');
  const late = meanOf(infos.slice(-5), 'reward');
  assert.ok(late > 1 && late > 5 * early, `mean reward ${early} in the first 5 iterations, ${late} in the last 5`);
  assert.deepEqual(snapshot(reference), before);
  assert.ok(
    infos.every(
      (i) => Number.isFinite(i.policyLoss) && Number.isFinite(i.valueLoss) && i.clipFrac >= 0 && i.clipFrac <= 1,
    ),
  );
  assert.ok(infos[0]!.kl === 0, 'the first batch is sampled from the starting policy: no KL yet');
  assert.ok(infos.at(-1)!.entropy < infos[0]!.entropy, 'entropy falls as the policy concentrates on the marker');

  const tight = (await run({}, { ...config, klCoef: 1 })).infos;
  const loose = meanOf(infos.slice(-5), 'kl');
  const held = meanOf(tight.slice(-5), 'kl');
  assert.ok(held < loose / 2, `KL at the end: ${held} with klCoef 1, ${loose} with 0.05`);

  const adaptive = (await run({}, { ...config, iterations: 10, targetKl: 0.5, klHorizon: 100 })).infos;
  assert.ok(adaptive.at(-1)!.klCoef !== config.klCoef, 'the adaptive controller moved the coefficient');
});

test('ppo --train lora: only the adapters change; the reference is the base with adapters off', async () => {
  const model = createModel(cfg, new Rng(1));
  const settings = { r: 4, alpha: 8, dropout: 0, targets: null };
  const { targets } = attachLora(model, settings, 5);
  const before = snapshot(model);
  const infos: PpoIterationInfo[] = [];
  await trainPpo(
    {
      model,
      tokenizer: tok,
      template: chatmlTemplate,
      eosId: EOS,
      prompts,
      scorer: marker,
      lora: { settings, targets, baseModel: 'test' },
    },
    { ...config, iterations: 12, lr: 1e-2 },
    (i) => infos.push(i),
  );
  for (const [name, values] of snapshot(model)) {
    const changed = values.some((v, i) => v !== before.get(name)![i]);
    if (!/lora_[AB]$/.test(name)) assert.equal(changed, false, `${name} is base and must not change`);
  }
  assert.ok(
    [...snapshot(model)].some(([n, v]) => n.endsWith('lora_B') && v.some((x) => x !== 0)),
    'B left zero',
  );
  assert.ok(infos.at(-1)!.kl !== 0, 'the adapters moved the policy away from the reference');
});

test('ppo: prompts are taken in seeded passes, each prompt once per pass', async () => {
  const pass = [0, 1, 2].flatMap((k) => promptOrder(9, 3, 7, k));
  assert.deepEqual(
    [...pass].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.deepEqual(promptOrder(9, 3, 7, 1), promptOrder(9, 3, 7, 1));
});

test('ppo: a run resumed from its checkpoint ends bit-identical to one run straight; the model opens', async () => {
  const c: PpoConfig = { ...config, iterations: 6, saveEvery: 3, targetKl: 0.5, klHorizon: 100 };
  const straightDir = tempDir('ppo-straight');
  const straight = (await run({ out: straightDir }, c)).model;
  const resumedDir = tempDir('ppo-resumed');
  await run({ out: resumedDir }, { ...c, iterations: 3 });
  const resumed = (await run({ out: resumedDir, resume: true }, c)).model; // starts from a fresh model: the checkpoint restores it
  assert.deepEqual(snapshot(resumed), snapshot(straight));
  const read = (d: string, f: string): string => readFileSync(join(d, f), 'utf8');
  assert.equal(
    read(resumedDir, 'metrics.jsonl').replace(/"time":[^,}]*,?/g, ''),
    read(straightDir, 'metrics.jsonl').replace(/"time":[^,}]*,?/g, ''),
  );
  assert.deepEqual(
    readFileSync(join(resumedDir, 'model', 'value-head.safetensors')),
    readFileSync(join(straightDir, 'model', 'value-head.safetensors')),
  );
  assert.equal(read(resumedDir, 'samples.jsonl'), read(straightDir, 'samples.jsonl'));
  const loaded = loadModelDir(join(straightDir, 'model'));
  assert.equal(loaded.model.config.vocabSize, cfg.vocabSize);
});
