/**
 * LoRA supervised fine-tuning with a tiny GPT on a few chat records: the loss falls, only the adapters change (the
 * base stays bit-identical), `<out>/model` is a plain merged model that loads with the ordinary loader and gives
 * the logits of base + `<out>/adapter`, and a run interrupted after a checkpoint and resumed has the same losses and
 * adapter as one run straight (LoRA dropout on, so the per-step masks matter); resuming in the other mode is an error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachLora, DEFAULT_LORA, type LoraSettings } from '../../src/finetune/lora-finetune.ts';
import { loadLoraAdapter, readLoraConfig } from '../../src/finetune/lora-io.ts';
import type { SftRecord } from '../../src/chat/records.ts';
import { DEFAULT_SFT_CONFIG, trainSft, type SftRun } from '../../src/finetune/sft-train.ts';
import { chatmlTemplate } from '../../src/chat/templates.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import type { LanguageModel } from '../../src/models/model.ts';
import { loraLayers } from '../../src/nn/lora.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const CHARS = [...new Set([...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?#\'"<>|_-\n()'])];
const tok = new CharTokenizer(CHARS);
const EOS = tok.vocabSize;
const records: SftRecord[] = [
  ['hi', 'hello'],
  ['bye', 'see you'],
  ['one', 'two'],
  ['sky', 'blue'],
  ['sun', 'hot'],
].map(([q, a]) => ({
  kind: 'chat',
  messages: [
    { role: 'user', content: q! },
    { role: 'assistant', content: a! },
  ],
}));
const cfg = completeModelConfig({
  arch: 'gpt2',
  vocabSize: EOS + 1,
  blockSize: 64,
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  dropout: 0.1,
});
const settings: LoraSettings = { ...DEFAULT_LORA, r: 4, alpha: 8, dropout: 0.1 };

/** A fresh base (always the same weights) wrapped with adapters whose A is drawn from `seed`. */
function loraRun(out: string, seed: number, resume = false): SftRun & { model: LanguageModel } {
  const model = createModel(cfg, new Rng(5));
  const { targets } = attachLora(model, settings, seed);
  return {
    model,
    tokenizer: tok,
    template: chatmlTemplate,
    eosId: EOS,
    train: records,
    valid: records.slice(0, 2),
    out,
    resume,
    lora: { settings, targets, baseModel: 'tiny-base' },
  };
}

const losses = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { loss: number }).loss);

test('sft --train lora: loss falls, base bit-identical, <out>/model = base + <out>/adapter', async () => {
  const out = tempDir('lora-sft');
  const run = loraRun(out, 11);
  await trainSft(run, {
    ...DEFAULT_SFT_CONFIG,
    steps: 30,
    batchSize: 5,
    lr: 2e-2,
    minLr: 2e-3,
    warmup: 2,
    evalEvery: 10,
  });
  const l = losses(out);
  assert.equal(l.length, 30);
  assert.ok(
    l.slice(-3).reduce((a, b) => a + b) < l.slice(0, 3).reduce((a, b) => a + b) - 0.3,
    `loss ${l[0]} -> ${l.at(-1)}`,
  );

  const pristine = new Map(createModel(cfg, new Rng(5)).namedParameters());
  for (const [name, p] of run.model.namedParameters()) {
    if (/\.lora_[AB]$/.test(name)) continue;
    assert.deepEqual(p.data, pristine.get(name)!.data, `${name} changed`);
  }
  assert.ok(
    loraLayers(run.model).every(([, layer]) => layer.lora_B.data.some((v) => v !== 0)),
    'every B trained',
  );

  const config = readLoraConfig(join(out, 'adapter'));
  assert.deepEqual(
    [config.r, config.lora_alpha, config.target_modules, config.base_model_name_or_path],
    [4, 8, ['c_attn', 'c_proj', 'c_fc'], 'tiny-base'],
  );
  const { model: merged } = loadModelDir(join(out, 'model'));
  assert.equal(loraLayers(merged).length, 0);
  const viaAdapter = createModel(cfg, new Rng(5));
  loadLoraAdapter(join(out, 'adapter'), viaAdapter);
  const ids = Int32Array.from(tok.encode('<|im_start|>user\nsky'));
  const a = noGrad(() => merged.eval().forward(ids, 1, ids.length).logits.data.slice());
  const b = noGrad(() => viaAdapter.eval().forward(ids, 1, ids.length).logits.data.slice());
  a.forEach((v, i) => {
    assert.ok(Math.abs(v - b[i]!) < 1e-5, `logit ${i}: merged ${v} vs base + adapter ${b[i]}`);
  });
});

test('sft --train lora: interrupted after a checkpoint and resumed equals one run straight', async () => {
  const c = { ...DEFAULT_SFT_CONFIG, steps: 6, batchSize: 2, lr: 1e-2, warmup: 1, evalEvery: 3 };
  const dirA = tempDir('lora-sft-a');
  const dirB = tempDir('lora-sft-b');
  const a = loraRun(dirA, 11);
  await trainSft(a, c);
  const stop = (info: { step: number }): void => {
    if (info.step === 5) throw new Error('interrupted'); // after the step-3 checkpoint, one step short of the next
  };
  await assert.rejects(trainSft(loraRun(dirB, 11), c, stop), /interrupted/);
  const b = loraRun(dirB, 99, true); // other A init: the adapter must come from the checkpoint
  const notes: string[] = [];
  await trainSft(b, c, undefined, (n) => notes.push(n));
  assert.match(notes.join('\n'), /resumed from .* at step 3/);
  assert.deepEqual(losses(dirB), losses(dirA));
  const pa = new Map(a.model.namedParameters());
  for (const [name, p] of b.model.namedParameters()) assert.deepEqual(p.data, pa.get(name)!.data, name);
  for (const f of [
    'adapter/adapter_model.safetensors',
    'model/model.safetensors',
    'checkpoints/latest/optimizer.safetensors',
  ]) {
    assert.ok(readFileSync(join(dirB, f)).equals(readFileSync(join(dirA, f))), `${f} differs`);
  }
  // Resuming the finished run trains nothing and reports the last loss.
  const again = await trainSft(loraRun(dirB, 99, true), c);
  assert.equal(again.finalLoss, losses(dirA).at(-1));
  assert.deepEqual(losses(dirB), losses(dirA));
  // The checkpoint holds the adapter and optimizer state of A and B only, not the base.
  assert.throws(() => readFileSync(join(dirA, 'checkpoints', 'latest', 'model.safetensors')), /ENOENT/);
  const full = { ...loraRun(dirA, 11, true), model: createModel(cfg, new Rng(5)) };
  delete full.lora;
  await assert.rejects(
    trainSft(full, c),
    (e: Error) => e instanceof UserError && /trained with --train lora, this one asks for all/.test(e.message),
  );
});
