/**
 * Reward-model training end to end on a synthetic preference (polite vs rude marker words) from a tiny random
 * character-level base: held-out pairwise accuracy must become high, metrics and checkpoints are written, the saved
 * model loads back with the same rewards, and a run stopped part-way and resumed ends with the same weights,
 * optimizer state and metrics as an uninterrupted one; LoRA trains adapters and head only and saves a merged model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeForReward, loadRewardModel, rewardsOf } from '../../src/align/reward-model.ts';
import { trainRewardModel, type RewardTrainOptions } from '../../src/align/reward-train.ts';
import { loadPreferencePairs } from '../../src/finetune/preference-data.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyPreferenceSetup } from '../helpers/tiny-preferences.ts';

const opts = (data: string, base: string, out: string): RewardTrainOptions => ({
  data,
  base,
  out,
  mode: 'all',
  lastK: 1,
  template: 'chatml',
  maxLength: 64,
  valFrac: 0.25,
  epochs: 3,
  batchSize: 8,
  lr: 3e-3,
  weightDecay: 0,
  margin: 0,
  evalEvery: 0,
  seed: 3,
  resume: false,
  quiet: true,
  log: () => {},
});

test('a tiny run separates polite from rude responses on held-out pairs; metrics, checkpoints and a load round trip', async () => {
  const dir = tempDir('reward-train');
  const { data, base, records } = tinyPreferenceSetup(dir);
  const out = join(dir, 'run');
  const r = await trainRewardModel(opts(data, base, out));
  assert.equal(r.steps, 45); // 120 training pairs, 8 per step, 3 epochs
  assert.ok(r.val!.accuracy >= 0.9, `held-out pairwise accuracy ${r.val!.accuracy}`);
  assert.ok(r.val!.margin > 0 && r.val!.meanChosen > r.val!.meanRejected);
  const recs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  assert.deepEqual(
    recs.map((x) => x.step),
    [15, 30, 45],
  );
  for (const key of [
    'train_loss',
    'val_loss',
    'val_accuracy',
    'val_reward_chosen',
    'val_reward_rejected',
    'val_margin',
  ])
    assert.equal(typeof recs[2]![key], 'number', key);
  assert.ok(recs[2]!.val_loss! < recs[0]!.val_loss! || recs[0]!.val_accuracy === 1);

  // The checkpoint loads back as a reward model whose rewards equal the trained model's.
  const loaded = loadRewardModel(join(out, 'checkpoints', 'latest'), new Rng(0));
  assert.deepEqual(loaded.model.info, r.model.info);
  assert.equal(loaded.template.name, 'chatml');
  const pairs = loadPreferencePairs(data).pairs.slice(0, 12);
  const rows = pairs
    .flatMap((p) => [p.chosen, p.rejected])
    .map((rec) => encodeForReward(loaded.tokenizer, loaded.template, rec, loaded.model.info).ids);
  assert.deepEqual(rewardsOf(loaded.model, rows, 5), rewardsOf(r.model, rows, 7));
  assert.ok(
    loadRewardModel(out, new Rng(0)).dir.endsWith(join('checkpoints', 'best')),
    'a run directory opens its best checkpoint',
  );

  // The preference is learned, not a chance property of the random base: swapped labels are learned just as well.
  const swapped = join(dir, 'swapped.json');
  writeFileSync(swapped, JSON.stringify(records.map((x) => ({ ...x, chosen: x.rejected, rejected: x.chosen }))));
  const s = await trainRewardModel(opts(swapped, base, join(dir, 'run-swapped')));
  assert.ok(s.val!.accuracy >= 0.9, `swapped: held-out pairwise accuracy ${s.val!.accuracy}`);
});

test('stopping part-way and resuming ends with the same weights, optimizer and metrics as one uninterrupted run', async () => {
  const dir = tempDir('reward-resume');
  const { data, base } = tinyPreferenceSetup(dir, 64);
  const o = { ...opts(data, base, join(dir, 'a')), epochs: 2, evalEvery: 4 };
  await trainRewardModel(o);
  const b = { ...o, out: join(dir, 'b') };
  const first = await trainRewardModel({ ...b, maxSteps: 5 });
  assert.equal(first.steps, 5);
  const second = await trainRewardModel({ ...b, resume: true });
  assert.equal(second.steps, 12);
  for (const f of [
    'latest/model.safetensors',
    'latest/reward-head.safetensors',
    'latest/optimizer.safetensors',
    'best/model.safetensors',
    'best/reward-head.safetensors',
  ]) {
    assert.ok(
      readFileSync(join(b.out, 'checkpoints', f)).equals(readFileSync(join(o.out, 'checkpoints', f))),
      `${f} differs`,
    );
  }
  assert.equal(readFileSync(join(b.out, 'metrics.jsonl'), 'utf8'), readFileSync(join(o.out, 'metrics.jsonl'), 'utf8'));
  await assert.rejects(
    trainRewardModel({ ...b, mode: 'head', resume: true }),
    /trained with --train all, this one asks for head/,
  );
});

test('--train lora: adapters and head train, the base stays put, best is a merged model scoring as the trained one', async () => {
  const dir = tempDir('reward-lora');
  const { data, base } = tinyPreferenceSetup(dir, 64);
  const out = join(dir, 'run');
  const r = await trainRewardModel({
    ...opts(data, base, out),
    mode: 'lora',
    lora: { r: 4, alpha: 8, dropout: 0, targets: null },
    epochs: 1,
    lr: 1e-2,
  });
  assert.ok(r.trainable < r.total / 2, `${r.trainable} of ${r.total} trainable`);
  const saved = readSafetensors(join(base, 'model.safetensors')).tensors;
  for (const [name, p] of r.model.base.namedParameters()) {
    if (!/\.lora_[AB]$/.test(name))
      assert.ok(
        Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).equals(
          Buffer.from(saved.get(name)!.data.buffer, saved.get(name)!.data.byteOffset, saved.get(name)!.data.byteLength),
        ),
        `${name} changed`,
      );
  }
  const fresh = loadRewardModel(out, new Rng(0)); // best = the only evaluation, at the end
  assert.ok(
    existsSync(join(out, 'adapter', 'adapter_model.safetensors')) &&
      existsSync(join(out, 'adapter', 'reward-head.safetensors')),
  );
  const merged = fresh.model.base.namedParameters().find(([n]) => n.endsWith('attn.c_attn.weight'))!;
  assert.notDeepEqual(
    merged[1].toFlatArray(),
    Array.from(saved.get(merged[0])!.data),
    'the adapters learned something, folded into the saved base',
  );
  const rows = loadPreferencePairs(data)
    .pairs.slice(0, 8)
    .flatMap((p) => [p.chosen, p.rejected])
    .map((rec) => encodeForReward(fresh.tokenizer, fresh.template, rec, fresh.model.info).ids);
  const a = rewardsOf(fresh.model, rows, 16);
  const b = rewardsOf(r.model, rows, 16);
  a.forEach((x, i) => {
    assert.ok(Math.abs(x - b[i]!) < 1e-4, `row ${i}: merged ${x} vs adapters ${b[i]}`);
  });
});
