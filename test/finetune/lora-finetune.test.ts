/**
 * LoRA classification fine-tuning on a tiny synthetic SMS sample (test/helpers/tiny-sms.ts) with a small random
 * char-level GPT: the training loss
 * falls, only adapters and head change (every base weight bit-identical), the merged best checkpoint loads with the
 * normal classifier loader and gives the logits of base + adapter, the adapter directory round-trips through
 * lora-io, a run stopped mid-epoch and resumed ends with the same metrics and files as one run straight, and the
 * option checks are one-line user errors. Also mergedLoraCopy never perturbs the training model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainClassifier, type ClassifyTrainOptions } from '../../src/finetune/classify-train.ts';
import { HEAD_FILE, loadClassifier, loadHeadInto, SequenceClassifier } from '../../src/finetune/classifier.ts';
import { padBatch } from '../../src/finetune/classify-data.ts';
import { DEFAULT_LORA, mergedLoraCopy, parseLoraSettings, attachLora } from '../../src/finetune/lora-finetune.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, loadLoraAdapter, readLoraConfig } from '../../src/finetune/lora-io.ts';
import { createModel } from '../../src/models/create.ts';
import { loadModel, saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { loraLayers } from '../../src/nn/lora.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';
import { UserError } from '../../src/util/user-error.ts';

/** 300 messages (80 spam among 1,200 synthetic lines, ham to fill), cut to 100 characters, and a random 2-layer base. */
function setup(): { dir: string; data: string; base: string } {
  const lines = syntheticSms(1200, 2);
  const spam = lines.filter((l) => l.startsWith('spam\t')).slice(0, 80);
  const ham = lines.filter((l) => l.startsWith('ham\t')).slice(0, 300 - spam.length);
  const chosen = [...ham, ...spam].map((l) => l.slice(0, 100));
  const dir = tempDir('lora-clf');
  const data = join(dir, 'sms.tsv');
  writeFileSync(data, chosen.join('\n'));
  const chars = [...new Set([...chosen.join('')])].sort();
  const base = join(dir, 'base');
  const cfg = resolveModelConfig({
    arch: 'gpt2',
    vocabSize: chars.length + 1,
    blockSize: 40,
    nLayer: 2,
    nHead: 2,
    nEmbd: 32,
    dropout: 0,
  });
  saveModel(base, createModel(cfg, new Rng(5)));
  saveTextTokenizer(base, new CharTokenizer(['\u0000', ...chars.filter((c) => c !== '\u0000')]));
  return { dir, data, base };
}

const opts = (data: string, base: string, out: string): ClassifyTrainOptions => ({
  data,
  base,
  out,
  mode: 'lora',
  lastK: 1,
  pooling: 'mean',
  maxLength: 40,
  balance: 'weights',
  valFrac: 0.1,
  testFrac: 0.2,
  epochs: 3,
  batchSize: 16,
  lr: 1e-2,
  weightDecay: 0,
  seed: 7,
  resume: false,
  quiet: true,
  log: () => {},
  lora: { ...DEFAULT_LORA, r: 4, alpha: 8, dropout: 0.1 },
});

const records = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('classify --train lora: loss falls, only adapters and head change, merged checkpoint = base + adapter, adapter round-trips', async () => {
  const { dir, data, base } = setup();
  const out = join(dir, 'run');
  const lines: string[] = [];
  const r = await trainClassifier({ ...opts(data, base, out), log: (l) => lines.push(l) });
  // the trainable line: adapters r (in + out) on c_attn, attn.c_proj, c_fc, mlp.c_proj of 2 layers, plus the head 32*2+2
  const C = 32;
  const adapters = 2 * 4 * (C + 3 * C + (C + C) + (C + 4 * C) + (4 * C + C));
  assert.equal(r.trainable, adapters + C * 2 + 2);
  assert.match(
    lines.join('\n'),
    new RegExp(
      `training lora \\(r 4, alpha 8, dropout 0.1 on 8 linears: c_attn, c_proj, c_fc; \\+ head\\): trainable ${r.trainable.toLocaleString('en-US')} of ${r.total.toLocaleString('en-US')} parameters \\(\\d+\\.\\d\\d%\\)`,
    ),
  );

  const epochs = records(out).filter((x) => 'val_accuracy' in x);
  assert.equal(epochs.length, 3);
  assert.ok(
    (epochs[2]!.train_loss as number) < (epochs[0]!.train_loss as number) - 0.02,
    `train loss ${epochs.map((e) => e.train_loss).join(' -> ')}`,
  );
  assert.equal(typeof records(out).at(-1)!.test_accuracy, 'number');

  // Base weights bit-identical to the file they came from; every adapter B moved off zero; the head trained.
  const pristine = new Map(loadModel(base).namedParameters());
  let adaptersSeen = 0;
  for (const [name, p] of r.classifier.base.namedParameters()) {
    if (/\.lora_[AB]$/.test(name)) {
      adaptersSeen++;
      assert.equal(p.requiresGrad, true, name);
      if (name.endsWith('lora_B'))
        assert.ok(
          p.data.some((v) => v !== 0),
          `${name} still zero`,
        );
      continue;
    }
    assert.equal(p.requiresGrad, false, name);
    assert.deepEqual(p.data, pristine.get(name)!.data, `${name} changed`);
  }
  assert.equal(adaptersSeen, 16);

  // The adapter alone, PEFT layout, beside the head; it round-trips onto a fresh base.
  const adapterDir = join(out, 'adapter');
  const cfg = readLoraConfig(adapterDir);
  assert.deepEqual(
    [cfg.r, cfg.lora_alpha, cfg.lora_dropout, cfg.target_modules, cfg.base_model_name_or_path],
    [4, 8, 0.1, ['c_attn', 'c_proj', 'c_fc'], base],
  );
  for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS, HEAD_FILE])
    assert.ok(readFileSync(join(adapterDir, f)).length > 0, f);
  const fresh = loadModel(base);
  const loaded = loadLoraAdapter(adapterDir, fresh);
  assert.equal(loaded.modules.length, 8);
  const viaAdapter = new SequenceClassifier(fresh, r.classifier.info, new Rng(0));
  loadHeadInto(join(adapterDir, HEAD_FILE), viaAdapter);

  // The merged best checkpoint opens with the ordinary loader (no LoRA layers) and agrees with base + adapter.
  const { classifier: merged } = loadClassifier(out, new Rng(0));
  assert.equal(loraLayers(merged.base).length, 0);
  const rows = [
    [3, 4, 5, 6, 7, 8],
    [9, 10, 11],
    [12, 13, 14, 15, 16, 17, 18, 19],
  ];
  const { ids, lengths, T } = padBatch(rows, 0);
  const logits = (clf: SequenceClassifier) =>
    noGrad(() => clf.eval().forward(ids, rows.length, T, lengths).data.slice());
  const a = logits(merged);
  const b = logits(viaAdapter);
  a.forEach((v, i) => {
    assert.ok(Math.abs(v - b[i]!) < 1e-5, `logit ${i}: merged ${v} vs base + adapter ${b[i]}`);
  });
});

test('classify --train lora: stopped mid-epoch and resumed equals one run straight (metrics, adapter, head, merged model)', async () => {
  const { dir, data, base } = setup();
  const o = { ...opts(data, base, join(dir, 'a')), epochs: 2 };
  await trainClassifier(o);
  const b = { ...o, out: join(dir, 'b') };
  const first = await trainClassifier({ ...b, maxSteps: 5 });
  assert.equal(first.steps, 5);
  const notes: string[] = [];
  const second = await trainClassifier({ ...b, resume: true, log: (l) => notes.push(l) });
  assert.match(notes.join('\n'), /resuming from .* at step 5/);
  assert.ok(second.steps > 5);
  assert.deepEqual(records(b.out), records(o.out));
  for (const f of [
    'checkpoints/latest/adapter/adapter_model.safetensors',
    `checkpoints/latest/${HEAD_FILE}`,
    'checkpoints/latest/optimizer.safetensors',
    'checkpoints/best/model.safetensors',
    'adapter/adapter_model.safetensors',
  ]) {
    assert.ok(readFileSync(join(b.out, f)).equals(readFileSync(join(o.out, f))), `${f} differs`);
  }
  // Resuming a finished run trains nothing and logs nothing twice.
  const again = await trainClassifier({ ...b, resume: true });
  assert.equal(again.steps, second.steps);
  assert.deepEqual(records(b.out), records(o.out));
  // Resuming with other adapter options is a clear error.
  await assert.rejects(
    trainClassifier({ ...b, resume: true, lora: { ...b.lora!, r: 2 } }),
    (e: Error) =>
      e instanceof UserError &&
      /adapter_config\.json: the checkpoint's adapter has r 4, .* this run asks for r 2/.test(e.message),
  );
});

test('mergedLoraCopy folds the adapters into a plain model and leaves the training model bit-identical', () => {
  const model = createModel(
    resolveModelConfig({ arch: 'llama', vocabSize: 30, blockSize: 16, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 16 }),
    new Rng(2),
  );
  attachLora(model, { ...DEFAULT_LORA, targets: null }, 3);
  const rng = new Rng(4);
  for (const [, l] of loraLayers(model))
    for (let i = 0; i < l.lora_B.data.length; i++) l.lora_B.data[i] = 0.1 * rng.normal();
  const before = model.namedParameters().map(([n, p]) => [n, p.data.slice()] as const);
  mergedLoraCopy(model);
  const copy = mergedLoraCopy(model); // twice: a second merge must start from the untouched weights
  for (const [n, data] of before) assert.deepEqual(model.namedParameters().find(([m]) => m === n)![1].data, data, n);
  assert.equal(loraLayers(copy).length, 0);
  const ids = Int32Array.from([1, 2, 3, 4, 5, 6]);
  const x = noGrad(() => model.eval().forward(ids, 1, 6).logits.data.slice());
  const y = noGrad(() => copy.eval().forward(ids, 1, 6).logits.data.slice());
  x.forEach((v, i) => {
    assert.ok(Math.abs(v - y[i]!) < 1e-5, `logit ${i}: ${v} vs ${y[i]}`);
  });
});

test('LoRA options: defaults, a target list, and one-line errors naming the option', () => {
  assert.deepEqual(parseLoraSettings({}, 'finetune sft'), { r: 8, alpha: 16, dropout: 0.05, targets: null });
  assert.deepEqual(parseLoraSettings({ r: 2, targets: 'q_proj, v_proj' }, 'x').targets, ['q_proj', 'v_proj']);
  const bad = (raw: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => parseLoraSettings(raw, 'finetune classify'),
      (e: Error) => e instanceof UserError && re.test(e.message),
    );
  bad({ r: 0 }, /^finetune classify: --lora-r must be a positive integer, received 0$/);
  bad({ r: 2.5 }, /--lora-r must be a positive integer, received 2\.5/);
  bad({ alpha: -1 }, /--lora-alpha must be a positive number, received -1/);
  bad({ dropout: 1 }, /--lora-dropout must be in \[0, 1\), received 1/);
  bad({ targets: 'c_attn,,c_fc' }, /--lora-targets must be comma-separated module names/);
  const model = createModel(
    resolveModelConfig({ arch: 'gpt2', vocabSize: 30, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 }),
    new Rng(2),
  );
  assert.throws(
    () => attachLora(model, { ...DEFAULT_LORA, targets: ['q_proj'] }, 0),
    /target 'q_proj' matches no Linear layer; expected one of: .*c_attn/,
  );
});
