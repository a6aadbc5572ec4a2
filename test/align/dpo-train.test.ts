/**
 * DPO training on a synthetic preference: every chosen reply ends with the marker word " ok", the rejected reply
 * is the same without it. A tiny random GPT-2 trained with DPO raises reward accuracy and margin on held-out
 * prompts (other words) as well as on training pairs, and the frozen reference stays bit-identical. The LoRA variant
 * changes only the adapters (the reference is the base with adapters off). IPO and conservative DPO train too. A
 * run interrupted after a checkpoint and resumed ends bit-identical to one run straight.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  DEFAULT_DPO_CONFIG,
  frozenCopy,
  trainDpo,
  type DpoConfig,
  type DpoStepInfo,
} from '../../src/align/dpo-train.ts';
import type { PreferencePair } from '../../src/finetune/preference-data.ts';
import { attachLora } from '../../src/finetune/lora-finetune.ts';
import { chatmlTemplate } from '../../src/chat/templates.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { withLoraDisabled } from '../../src/nn/lora.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const tok = new CharTokenizer([
  ...new Set([...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?#\'"<>|_-\n()']),
]);
const EOS = tok.vocabSize;
const cfg = completeModelConfig({
  arch: 'gpt2',
  vocabSize: EOS + 1,
  blockSize: 64,
  nLayer: 1,
  nHead: 2,
  nEmbd: 32,
  dropout: 0.1,
});

const WORDS = [
  'cat',
  'dog',
  'sun',
  'sky',
  'red',
  'tea',
  'pen',
  'box',
  'cup',
  'map',
  'hat',
  'egg',
  'car',
  'bus',
  'owl',
  'fox',
  'ink',
  'jam',
  'key',
  'log',
  'net',
  'oak',
  'pig',
  'rat',
];
function pair(w: string): PreferencePair {
  const user = { role: 'user' as const, content: `say ${w}` };
  return {
    chosen: { kind: 'chat', messages: [user, { role: 'assistant', content: `${w} ok` }] },
    rejected: { kind: 'chat', messages: [user, { role: 'assistant', content: w }] },
  };
}
const train = WORDS.slice(0, 18).map(pair);
const valid = WORDS.slice(18).map(pair);
const config: DpoConfig = {
  ...DEFAULT_DPO_CONFIG,
  steps: 30,
  batchSize: 6,
  lr: 3e-3,
  minLr: 3e-4,
  warmup: 3,
  evalEvery: 10,
  seed: 3,
};

function snapshot(m: LanguageModel): Map<string, number[]> {
  return new Map(m.namedParameters().map(([n, p]) => [n, [...p.data]]));
}

test('dpo: a tiny model learns the marker preference, held-out too; the reference stays bit-identical', async () => {
  const model = createModel(cfg, new Rng(1));
  const reference = frozenCopy(model);
  const before = snapshot(reference);
  const steps: DpoStepInfo[] = [];
  const r = await trainDpo(
    { model, reference, tokenizer: tok, template: chatmlTemplate, eosId: EOS, train, valid },
    config,
    (i) => steps.push(i),
  );
  assert.equal(r.initial.valid!.accuracy, 0); // policy = reference: every reward is 0, no pair is ahead yet
  assert.ok(Math.abs(r.initial.valid!.loss - Math.log(2)) < 1e-6);
  const end = r.final!;
  assert.ok(
    end.valid!.accuracy === 1 && end.train!.accuracy === 1,
    `accuracy ${end.train!.accuracy} train, ${end.valid!.accuracy} held-out`,
  );
  assert.ok(
    end.valid!.margin > 0.5 && end.valid!.loss < 0.5,
    `held-out margin ${end.valid!.margin}, loss ${end.valid!.loss}`,
  );
  assert.ok(steps.filter((s) => s.valid).length === 3);
  assert.deepEqual(snapshot(reference), before);
});

test('dpo: IPO and conservative DPO (label smoothing) also separate the held-out pairs', async () => {
  for (const extra of [{ loss: 'ipo' as const }, { labelSmoothing: 0.2 }]) {
    const model = createModel(cfg, new Rng(1));
    const r = await trainDpo(
      { model, reference: frozenCopy(model), tokenizer: tok, template: chatmlTemplate, eosId: EOS, train, valid },
      { ...config, ...extra },
    );
    assert.ok(
      r.final!.valid!.accuracy === 1 && r.final!.valid!.margin > 0.2,
      `${JSON.stringify(extra)}: ${JSON.stringify(r.final!.valid)}`,
    );
  }
});

test('dpo --train lora: only the adapters change, the base is the reference (adapters off)', async () => {
  const model = createModel(cfg, new Rng(1));
  const { targets } = attachLora(model, { r: 4, alpha: 8, dropout: 0, targets: null }, 5);
  const before = snapshot(model);
  const r = await trainDpo(
    {
      model,
      tokenizer: tok,
      template: chatmlTemplate,
      eosId: EOS,
      train,
      valid,
      lora: { settings: { r: 4, alpha: 8, dropout: 0, targets: null }, targets, baseModel: 'test' },
    },
    { ...config, lr: 1e-2 },
  );
  assert.ok(r.final!.valid!.accuracy === 1, JSON.stringify(r.final!.valid));
  for (const [name, values] of snapshot(model)) {
    const changed = values.some((v, i) => v !== before.get(name)![i]);
    if (!/lora_[AB]$/.test(name)) assert.equal(changed, false, `${name} is base and must not change`);
  }
  assert.ok(
    [...snapshot(model)].some(([n, v]) => n.endsWith('lora_B') && v.some((x) => x !== 0)),
    'B left zero',
  );
  const ids = Int32Array.from(tok.encode('say cat ok'));
  const plain = createModel(cfg, new Rng(1)).eval();
  model.eval();
  const off = withLoraDisabled(model, () => noGrad(() => model.forward(ids, 1, ids.length).logits));
  const on = noGrad(() => model.forward(ids, 1, ids.length).logits);
  const base = noGrad(() => plain.forward(ids, 1, ids.length).logits);
  assert.deepEqual([...off.data], [...base.data]); // adapters off: exactly the starting model
  assert.notDeepEqual([...on.data], [...base.data]);
});

test('dpo resume: interrupted after the step-10 checkpoint and resumed, it ends bit-identical to one run straight', async () => {
  const dirA = tempDir('dpo-a');
  const dirB = tempDir('dpo-b');
  const run = (model: LanguageModel, out: string, resume = false) => ({
    model,
    reference: frozenCopy(createModel(cfg, new Rng(1))),
    tokenizer: tok,
    template: chatmlTemplate,
    eosId: EOS,
    train,
    valid,
    out,
    resume,
  });
  const c = { ...config, steps: 16, evalEvery: 5 };
  const a = createModel(cfg, new Rng(1));
  await trainDpo(run(a, dirA), c);
  await assert.rejects(
    () =>
      trainDpo(run(createModel(cfg, new Rng(1)), dirB), c, (i) => {
        if (i.step === 12) throw new Error('interrupted');
      }),
    /interrupted/,
  );
  const notes: string[] = [];
  const b = createModel(cfg, new Rng(99)); // the weights must come from the checkpoint
  await trainDpo(run(b, dirB, true), c, undefined, (n) => notes.push(n));
  assert.match(notes.join('\n'), /resumed from .* at step 10/);
  assert.deepEqual(snapshot(b), snapshot(a));
  const lines = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
  assert.equal(lines(dirB), lines(dirA));
  assert.equal(readFileSync(join(dirB, 'eval.json'), 'utf8'), readFileSync(join(dirA, 'eval.json'), 'utf8'));
  await assert.rejects(
    () => trainDpo(run(createModel(cfg, new Rng(1)), dirB, true), { ...c, beta: 0.5 }),
    /the run used --loss sigmoid --beta 0.1 .* this one asks for --loss sigmoid --beta 0.5/,
  );
});
