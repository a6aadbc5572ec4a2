/**
 * `llmforge eval mc` from the command line on the tiny character-level base: --json numbers and the --output
 * predictions equal the library's, the table reports per-category accuracy, and a malformed item, text the tokenizer
 * cannot encode or a missing --data is one `error:` line naming the file, line and field.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMcItems } from '../../src/eval/mc-items.ts';
import { scoreMultipleChoice } from '../../src/eval/multiple-choice.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyCharBase } from '../helpers/tiny-char-base.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/llmforge.js', 'eval', 'mc', ...args], { encoding: 'utf8' });

test('eval mc: --json and --output equal the library; categories in the table; one-line errors', () => {
  const dir = tempDir('eval-mc-cli');
  const { base } = tinyCharBase(dir);
  const data = join(dir, 'items.jsonl');
  const items = [
    { question: 'the cat sat on the', choices: ['mat', 'log', 'dog'], answer: 'mat', category: 'cat' },
    { context: 'the dog sat on the', choices: ['log', 'mat'], answer: 0, category: 'dog' },
    { question: 'the', choices: ['cat', 'dog', 'mat.'], answer: 1, category: 'cat' },
  ];
  writeFileSync(data, items.map((i) => JSON.stringify(i)).join('\n'));
  const out = join(dir, 'pred.jsonl');
  const j = cli('--model', base, '--data', data, '--output', out, '--json', '--quiet');
  assert.equal(j.status, 0, j.stderr);
  const { model, tokenizer } = loadModelDir(base);
  const want = scoreMultipleChoice(model, tokenizer, loadMcItems(data));
  const got = JSON.parse(j.stdout) as {
    n: number;
    correct: number;
    correctNorm: number;
    ci: { low: number; high: number };
  };
  assert.deepEqual([got.n, got.correct, got.correctNorm, got.ci], [3, want.correct, want.correctNorm, want.ci]);
  const preds = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) => JSON.parse(l) as { pred: number; pred_norm: number; answer: number; category: string; logprobs: number[] },
    );
  assert.deepEqual(
    preds.map((p) => [p.category, p.answer, p.pred, p.pred_norm]),
    want.items.map((p, i) => [items[i]!.category, p.answer, p.pred, p.predNorm]),
  );
  preds.forEach((p, i) => {
    p.logprobs.forEach((x, k) => {
      assert.ok(Math.abs(x - want.items[i]!.logprobs[k]!) < 1e-5);
    });
  });

  const t = cli('--model', base, '--data', data, '--quiet');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`^acc +${want.correct}/3 = `, 'm'));
  assert.match(t.stdout, /^chance +38\.9%$/m); // (1/3 + 1/2 + 1/3) / 3
  assert.match(t.stdout, /^cat +2 +\d+\.\d% +\d+\.\d% +\[/m);
  assert.match(t.stdout, /^dog +1 +/m);

  writeFileSync(data, `${JSON.stringify(items[0])}\n${JSON.stringify({ question: 'the', choices: 'cat' })}\n`);
  const bad = cli('--model', base, '--data', data);
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /^error: .*items\.jsonl:2: field "choices" must be an array of at least 2 non-empty strings, received "cat"\n$/,
  );
  writeFileSync(data, `${JSON.stringify({ question: 'the Cat', choices: ['sat', 'mat'], answer: 0 })}\n`);
  const untokenizable = cli('--model', base, '--data', data);
  assert.equal(untokenizable.status, 2);
  assert.match(
    untokenizable.stderr,
    /^error: multiple choice: cannot tokenize item 0's context with the model's tokenizer \(CharTokenizer\.encode: character "C"/,
  );
  const none = cli('--model', base);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^error: eval mc: --data <items\.jsonl \| toy-world> is required/);
});
