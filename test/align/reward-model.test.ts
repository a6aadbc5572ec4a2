/**
 * The reward model reads its scalar at the last real token: a row's reward alone equals its reward padded in a batch
 * (GPT-2 and Llama bases), and reading a pad position instead would differ; the head is Hugging Face's `score.weight`
 * (1, C) without bias; encoding keeps the last tokens of a long rendering (the response) and appends EOS when the
 * tokenizer has one; a directory without a reward block is refused with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeForReward, loadRewardModel, RewardModel, type RewardInfo } from '../../src/align/reward-model.ts';
import { padBatch } from '../../src/finetune/classify-data.ts';
import { chatmlTemplate } from '../../src/chat/templates.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import type { Arch } from '../../src/models/model.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const INFO: RewardInfo = { template: 'chatml', maxLength: 16, padId: 0, eosId: null };

function rewardModel(arch: Arch): RewardModel {
  const cfg = resolveModelConfig({
    arch,
    vocabSize: 50,
    blockSize: 16,
    nLayer: 2,
    nHead: 2,
    nKvHead: arch === 'llama' ? 1 : 2,
    nEmbd: 16,
    dropout: 0,
  });
  return new RewardModel(createModel(cfg, new Rng(1)), INFO, new Rng(2)).eval();
}

for (const arch of ['gpt2', 'llama'] as const) {
  test(`${arch}: a row's reward alone equals its reward padded in a batch`, () => {
    const rm = rewardModel(arch);
    const rows = [[3, 4, 5], [7, 8, 9, 10, 11, 12], [1]];
    noGrad(() => {
      const { ids, lengths, T } = padBatch(rows, 0);
      const batch = rm.forward(ids, 3, T, lengths);
      assert.deepEqual(batch.shape, [3]);
      rows.forEach((r, b) => {
        const alone = rm.forward(Int32Array.from(r), 1, r.length, [r.length]).item();
        assert.ok(Math.abs(batch.toFlatArray()[b]! - alone) < 1e-5, `row ${b}: ${batch.toFlatArray()[b]} vs ${alone}`);
      });
      const other = padBatch(
        [
          [3, 4, 5],
          [7, 8],
        ],
        0,
      );
      const wrong = rm.forward(other.ids, 2, other.T, [3, 3]).toFlatArray()[1]!; // reads the pad after [7, 8]
      assert.notEqual(wrong, rm.forward(Int32Array.from([7, 8]), 1, 2, [2]).item());
    });
  });
}

test('the head is score.weight (1, C) without bias, as AutoModelForSequenceClassification with num_labels=1', () => {
  const names = rewardModel('gpt2')
    .score.namedParameters('score')
    .map(([n, p]) => `${n} ${p.shape.join('x')}`);
  assert.deepEqual(names, ['score.weight 1x16']);
});

test('encoding: the rendering through the template, EOS appended when there is one, long rows keep their last tokens', () => {
  const tok = CharTokenizer.fromText('abcdefghijklmnopqrstuvwxyz <>|_\n');
  const rec = {
    kind: 'chat' as const,
    messages: [
      { role: 'user' as const, content: 'hi' },
      { role: 'assistant' as const, content: 'good day' },
    ],
  };
  const text = chatmlTemplate
    .segments(rec)
    .map((s) => s.text)
    .join('');
  const full = encodeForReward(tok, chatmlTemplate, rec, { ...INFO, maxLength: 1000 });
  assert.deepEqual(full, { ids: tok.encode(text), truncated: false });
  const withEos = encodeForReward(tok, chatmlTemplate, rec, { ...INFO, maxLength: 1000, eosId: 99 });
  assert.deepEqual(withEos.ids, [...tok.encode(text), 99]);
  const cut = encodeForReward(tok, chatmlTemplate, rec, { ...INFO, maxLength: 5, eosId: 99 });
  assert.deepEqual(cut, { ids: [...tok.encode(' day'), 99], truncated: true });
});

test('a model directory without a reward block is refused in one line', () => {
  const dir = tempDir('reward-model');
  saveModel(
    dir,
    createModel(
      resolveModelConfig({ arch: 'gpt2', vocabSize: 30, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8, dropout: 0 }),
      new Rng(1),
    ),
  );
  saveTextTokenizer(dir, new CharTokenizer([...'abcdefghijklmnopqrstuvwxyz']));
  assert.throws(
    () => loadRewardModel(dir, new Rng(0)),
    (e: Error) =>
      e instanceof UserError &&
      /not a reward model \(config\.json has no "reward" block/.test(e.message) &&
      !e.message.includes('\n'),
  );
});
