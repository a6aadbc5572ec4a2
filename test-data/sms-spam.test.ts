/**
 * The shared SMS Spam Collection sample: 4,500 `label<TAB>text` lines (604 spam) parse with the classification data
 * reader (split on the first tab only), and a tiny classification fine-tune on 400 real messages from a small random
 * character-level GPT beats the majority-class baseline on its test split (the default suite does this on
 * synthetic messages).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainClassifier } from '../src/finetune/classify-train.ts';
import { readClassifyData } from '../src/finetune/classify-data.ts';
import { createModel } from '../src/models/create.ts';
import { saveModel } from '../src/models/model-io.ts';
import { resolveModelConfig } from '../src/models/presets.ts';
import { Rng } from '../src/tensor/random.ts';
import { CharTokenizer } from '../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../test/helpers/temp-dir.ts';
import { dataPath } from './data-dir.ts';

const SMS = dataPath('sms-spam/SMSSpamCollection');

test('the SMS file: 4,500 messages, 604 spam, texts keep their tabs after the first', () => {
  const data = readClassifyData(SMS);
  assert.equal(data.length, 4500);
  assert.equal(data.filter((d) => d.label === 'spam').length, 604);
  assert.deepEqual([...new Set(data.map((d) => d.label))].sort(), ['ham', 'spam']);
  const lines = readFileSync(SMS, 'utf8')
    .split('\n')
    .filter((l) => l.includes('\t'));
  for (const [i, l] of lines.entries())
    assert.equal(data[i]!.text, l.slice(l.indexOf('\t') + 1).replace(/\r$/, ''), `line ${i + 1}`);
});

test('a tiny run on 400 real messages beats the majority-class baseline', async () => {
  const lines = readFileSync(SMS, 'utf8')
    .split('\n')
    .filter((l) => l.includes('\t'))
    .slice(0, 1200);
  const spam = lines.filter((l) => l.startsWith('spam\t')).slice(0, 100);
  const ham = lines.filter((l) => l.startsWith('ham\t')).slice(0, 400 - spam.length);
  const chosen = [...ham, ...spam].map((l) => l.slice(0, 120));
  const dir = tempDir('sms');
  const data = join(dir, 'sms.tsv');
  writeFileSync(data, chosen.join('\n'));
  const chars = [...new Set([...chosen.join('')])].sort();
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: chars.length + 1,
        blockSize: 48,
        nLayer: 1,
        nHead: 2,
        nEmbd: 32,
        dropout: 0,
      }),
      new Rng(5),
    ),
  );
  saveTextTokenizer(base, new CharTokenizer(['\u0000', ...chars.filter((c) => c !== '\u0000')]));
  const r = await trainClassifier({
    data,
    base,
    out: join(dir, 'run'),
    mode: 'all',
    lastK: 1,
    pooling: 'mean',
    maxLength: 48,
    balance: 'weights',
    valFrac: 0.1,
    testFrac: 0.25,
    epochs: 4,
    batchSize: 16,
    lr: 3e-3,
    weightDecay: 0,
    seed: 7,
    resume: false,
    quiet: true,
    log: () => {},
  });
  const t = r.test!;
  const majority = Math.max(...t.perClass.map((c) => c.support)) / t.n;
  assert.ok(t.accuracy > majority + 0.03, `test accuracy ${t.accuracy} vs majority baseline ${majority}`);
  assert.ok(t.perClass.find((c) => c.label === 'spam')!.f1 > 0.3);
});
