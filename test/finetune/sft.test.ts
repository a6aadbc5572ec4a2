/**
 * SFT data path: targets are -100 exactly on prompt positions (and nowhere with masking off), the model's loss is
 * the mean over response targets only, padding and packing layouts, record validation errors, and EOS learned:
 * a tiny model fine-tuned on a handful of examples stops by itself under greedy generation.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packRows, padSftBatch } from '../../src/finetune/sft-batch.ts';
import { ChatSession } from '../../src/chat/session.ts';
import { respondAndScore } from '../../src/finetune/sft-eval.ts';
import { loadSftRecords, type SftRecord } from '../../src/chat/records.ts';
import { tokenizeRecord } from '../../src/finetune/sft-tokenize.ts';
import { DEFAULT_SFT_CONFIG, trainSft } from '../../src/finetune/sft-train.ts';
import { alpacaTemplate, chatmlTemplate } from '../../src/chat/templates.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { UserError } from '../../src/util/user-error.ts';

const CHARS = [...new Set([...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?#\'"<>|_-\n()'])];
const tok = new CharTokenizer(CHARS);
const EOS = tok.vocabSize; // an id past the characters, as a model vocabulary one larger holds it

test('masking: targets are -100 exactly where the predicted token is prompt; off: every target learned', () => {
  const rec: SftRecord = { kind: 'alpaca', instruction: 'Say hi.', input: '', output: 'hi' };
  const ex = tokenizeRecord(tok, alpacaTemplate, rec, { eosId: EOS, maxLen: 1000 });
  const promptLen = tok.encode(alpacaTemplate.segments(rec)[0]!.text).length;
  const n = ex.ids.length;
  assert.equal(n, promptLen + 2 + 1 - 1); // prompt + "hi" + EOS, minus one (inputs predict the next token)
  for (let i = 0; i < n; i++) {
    const expected = i + 1 >= promptLen ? [...tok.encode('hi'), EOS][i + 1 - promptLen] : -100;
    assert.equal(ex.targets[i], expected, `position ${i}`);
  }
  const all = tokenizeRecord(tok, alpacaTemplate, rec, { eosId: EOS, maxLen: 1000, maskPrompt: false });
  assert.deepEqual([...all.targets], [...tok.encode(`${alpacaTemplate.segments(rec)[0]!.text}hi`).slice(1), EOS]);
});

test('masking: the loss is the mean cross-entropy over response targets only', () => {
  const model = createModel(
    completeModelConfig({ arch: 'gpt2', vocabSize: EOS + 1, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 16 }),
    new Rng(3),
  );
  const rec: SftRecord = {
    kind: 'chat',
    messages: [
      { role: 'user', content: 'ab' },
      { role: 'assistant', content: 'cd' },
    ],
  };
  const ex = tokenizeRecord(tok, chatmlTemplate, rec, { eosId: EOS, maxLen: 64 });
  const T = ex.ids.length;
  noGrad(() => {
    const { logits, loss } = model.forward(ex.ids, 1, T, ex.targets);
    const V = EOS + 1;
    let sum = 0;
    let count = 0;
    for (let t = 0; t < T; t++) {
      if (ex.targets[t] === -100) continue;
      const row = Array.from(logits.data.subarray(t * V, (t + 1) * V));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      sum += lse - row[ex.targets[t]!]!;
      count++;
    }
    assert.equal(count, 3); // "c", "d", EOS
    assert.ok(Math.abs(loss!.data[0]! - sum / count) < 1e-5, `loss ${loss!.data[0]} vs manual ${sum / count}`);
  });
});

test('batching: padding right-pads with ignored targets; packing fills rows first-fit with segment ids', () => {
  const mk = (n: number, v: number) => ({
    ids: new Int32Array(n).fill(v),
    targets: new Int32Array(n).fill(v),
    truncated: false,
  });
  const pad = padSftBatch([mk(3, 1), mk(1, 2)], 0);
  assert.deepEqual([pad.B, pad.T], [2, 3]);
  assert.deepEqual([...pad.ids], [1, 1, 1, 2, 0, 0]);
  assert.deepEqual([...pad.targets], [1, 1, 1, 2, -100, -100]);
  const rows = packRows([mk(3, 1), mk(4, 2), mk(2, 3)], 6, 0);
  assert.equal(rows.length, 2);
  assert.deepEqual([...rows[0]!.ids], [1, 1, 1, 3, 3, 0]);
  assert.deepEqual([...rows[0]!.segments!], [1, 1, 1, 2, 2, 0]);
  assert.deepEqual([...rows[0]!.targets], [1, 1, 1, 3, 3, -100]);
  assert.deepEqual([...rows[1]!.segments!], [1, 1, 1, 1, 0, 0]);
});

test('records: JSONL and JSON arrays load; a bad field names the file, record and field', () => {
  const dir = tempDir('sft');
  const good = join(dir, 'a.jsonl');
  writeFileSync(
    good,
    '{"instruction":"x","output":"y"}\n{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}\n',
  );
  assert.deepEqual(
    loadSftRecords(good).map((r) => r.kind),
    ['alpaca', 'chat'],
  );
  const bad = join(dir, 'b.json');
  writeFileSync(bad, '[{"instruction":"x","output":"y"},{"instruction":"x","output":3}]');
  assert.throws(
    () => loadSftRecords(bad),
    (e: Error) => e instanceof UserError && e.message.includes(`${bad} record 1: field "output" must be a string`),
  );
});

test('EOS learned: after a tiny SFT run, greedy generation stops by itself with the trained answers', async () => {
  const pairs = [
    ['hi', 'hello'],
    ['bye', 'see you'],
    ['one', 'two'],
    ['sky', 'blue'],
  ];
  const records: SftRecord[] = pairs.map(([q, a]) => ({
    kind: 'chat',
    messages: [
      { role: 'user', content: q! },
      { role: 'assistant', content: a! },
    ],
  }));
  const model = createModel(
    completeModelConfig({ arch: 'llama', vocabSize: EOS + 1, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 32 }),
    new Rng(7),
  );
  const run = { model, tokenizer: tok, template: chatmlTemplate, eosId: EOS, train: records, valid: records };
  const before = respondAndScore(model, tok, chatmlTemplate, records, { eosId: EOS, maxNewTokens: 20 });
  assert.ok(before.rows.every((r) => r.stopReason !== 'eos' || r.response !== r.reference));
  const { finalLoss } = await trainSft(run, {
    ...DEFAULT_SFT_CONFIG,
    steps: 150,
    batchSize: 4,
    lr: 3e-3,
    minLr: 3e-4,
    warmup: 5,
    pack: true,
    evalEvery: 0,
  });
  assert.ok(finalLoss < 0.1, `final loss ${finalLoss}`);
  const after = respondAndScore(model, tok, chatmlTemplate, records, { eosId: EOS, maxNewTokens: 20 });
  for (const r of after.rows) assert.equal(r.stopReason, 'eos', `${JSON.stringify(r.response)} did not stop`);
  assert.equal(after.exactMatch, 1);
  assert.equal(after.rougeL, 1);
  const chat = new ChatSession(model, tok, chatmlTemplate, { eosId: EOS, maxNewTokens: 20 });
  const pieces: string[] = [];
  const r = chat.reply('sky', (t) => pieces.push(t));
  assert.deepEqual([r.text, r.stopReason, pieces.join('')], ['blue', 'eos', 'blue']);
  assert.deepEqual(chat.messages, [
    { role: 'user', content: 'sky' },
    { role: 'assistant', content: 'blue' },
  ]);
  chat.reset();
  assert.equal(chat.messages.length, 0);
});

test('resume: a run interrupted at step 4 and resumed from its step-3 checkpoint ends equal to one run straight', async () => {
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
  const cfg = {
    arch: 'gpt2' as const,
    vocabSize: EOS + 1,
    blockSize: 64,
    nLayer: 1,
    nHead: 2,
    nEmbd: 16,
    dropout: 0.1,
  };
  const c = { ...DEFAULT_SFT_CONFIG, steps: 6, batchSize: 2, lr: 1e-2, warmup: 1, evalEvery: 3 };
  const dirA = tempDir('sft-a');
  const dirB = tempDir('sft-b');
  const a = createModel(completeModelConfig(cfg), new Rng(5));
  await trainSft(
    {
      model: a,
      tokenizer: tok,
      template: chatmlTemplate,
      eosId: EOS,
      train: records,
      valid: records.slice(0, 2),
      out: dirA,
    },
    c,
  );
  const b1 = createModel(completeModelConfig(cfg), new Rng(5));
  const stop = (info: { step: number }): void => {
    if (info.step === 4) throw new Error('interrupted'); // after the step-3 checkpoint, mid-way to the next
  };
  await assert.rejects(
    () =>
      trainSft(
        {
          model: b1,
          tokenizer: tok,
          template: chatmlTemplate,
          eosId: EOS,
          train: records,
          valid: records.slice(0, 2),
          out: dirB,
        },
        c,
        stop,
      ),
    /interrupted/,
  );
  const b2 = createModel(completeModelConfig(cfg), new Rng(99)); // different init: the weights must come from the checkpoint
  const notes: string[] = [];
  await trainSft(
    {
      model: b2,
      tokenizer: tok,
      template: chatmlTemplate,
      eosId: EOS,
      train: records,
      valid: records.slice(0, 2),
      out: dirB,
      resume: true,
    },
    c,
    undefined,
    (n) => notes.push(n),
  );
  assert.match(notes.join('\n'), /resumed from .* at step 3/);
  const pa = new Map(a.namedParameters());
  for (const [name, p] of b2.namedParameters()) assert.deepEqual([...p.data], [...pa.get(name)!.data], name);
  const losses = (dir: string) =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { loss: number }).loss);
  assert.deepEqual(losses(dirB), losses(dirA));
});
