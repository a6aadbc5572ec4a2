/**
 * The precision option of the fine-tuning library (SFT here; classify and domain use the same resolution and
 * try/finally): applied inside the run, restored after it and after an error, kept in the checkpoint's state, and a
 * resume in another precision passed to the caller as a note.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SftRecord } from '../../src/chat/records.ts';
import { DEFAULT_SFT_CONFIG, trainSft, type SftRun } from '../../src/finetune/sft-train.ts';
import { chatmlTemplate } from '../../src/chat/templates.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { matmulPrecision, setMatmulPrecision } from '../../src/ops/matmul-precision.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const tok = new CharTokenizer([...new Set([...'abcdefghijklmnopqrstuvwxyz <>|_\n'])]);
const EOS = tok.vocabSize;
const records: SftRecord[] = [
  ['hi', 'hello'],
  ['bye', 'see you'],
  ['sky', 'blue'],
  ['sun', 'hot'],
].map(([q, a]) => ({
  kind: 'chat',
  messages: [
    { role: 'user', content: q! },
    { role: 'assistant', content: a! },
  ],
}));

function run(out: string, extra: Partial<SftRun>): SftRun {
  const model = createModel(
    completeModelConfig({ arch: 'gpt2', vocabSize: EOS + 1, blockSize: 64, nLayer: 1, nHead: 2, nEmbd: 16 }),
    new Rng(5),
  );
  return {
    model,
    tokenizer: tok,
    template: chatmlTemplate,
    eosId: EOS,
    train: records,
    valid: records.slice(0, 2),
    out,
    ...extra,
  };
}

test('sft: bf16 inside the run, fp32 again after it and after an error; the state keeps it; a change on resume is noted', async () => {
  const c = { ...DEFAULT_SFT_CONFIG, steps: 4, batchSize: 2, lr: 1e-2, warmup: 1, evalEvery: 2 };
  const out = tempDir('precision-sft');
  setMatmulPrecision('fp32'); // the process setting, whatever LLMFORGE_MATMUL says
  const seen: string[] = [];
  await assert.rejects(
    () =>
      trainSft(run(out, { precision: 'bf16' }), c, ({ step }) => {
        seen.push(matmulPrecision());
        if (step === 3) throw new Error('interrupted at 3');
      }),
    /interrupted at 3/,
  );
  assert.deepEqual(seen, ['bf16', 'bf16', 'bf16']);
  assert.equal(matmulPrecision(), 'fp32');
  const state = JSON.parse(readFileSync(join(out, 'checkpoints', 'latest', 'sft-state.json'), 'utf8')) as {
    step: number;
    precision: string;
  };
  assert.deepEqual([state.step, state.precision], [2, 'bf16']);

  const notes: string[] = [];
  const inside: string[] = [];
  await trainSft(
    run(out, { resume: true, precision: 'fp32' }),
    c,
    () => inside.push(matmulPrecision()),
    (n) => notes.push(n),
  );
  assert.deepEqual(inside, ['fp32', 'fp32']);
  assert.ok(
    notes.includes('the checkpoint was trained with bf16 matmuls; resuming with fp32 matmuls'),
    notes.join('\n'),
  );
  assert.equal(matmulPrecision(), 'fp32');
});
