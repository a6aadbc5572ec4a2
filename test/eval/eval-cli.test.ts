/**
 * `llmforge eval ppl` from the command line, on a tiny random base with a character tokenizer: --json numbers equal
 * the library's, the table lists every text, --text may be repeated, and mistakes (missing file, context larger than
 * the model's, text the tokenizer cannot encode, a flag given twice) are one `error:` line naming what is wrong.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { textPerplexity } from '../../src/eval/perplexity.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TINY_TEXT as TEXT, tinyCharBase } from '../helpers/tiny-char-base.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

function fixture() {
  const dir = tempDir('eval-cli');
  const { tok, base, a, b } = tinyCharBase(dir);
  const odd = join(dir, 'odd.txt');
  writeFileSync(odd, 'the cat sat on the mat. THE END');
  return { dir, tok, base, a, b, odd };
}

test('eval ppl: --json equals the library, the table lists each text', () => {
  const { base, a, b, tok } = fixture();
  const j = cli(
    'eval',
    'ppl',
    '--model',
    base,
    '--text',
    `${a},${b}`,
    '--context',
    '16',
    '--stride',
    '8',
    '--json',
    '--quiet',
  );
  assert.equal(j.status, 0, j.stderr);
  const got = JSON.parse(j.stdout) as {
    model: string;
    rows: { text: string; scored: number; ppl: number; bitsPerByte: number; stride: number }[];
  };
  assert.equal(got.rows.length, 2);
  const { model } = loadModelDir(base);
  const want = textPerplexity(model, tok, TEXT, { context: 16, stride: 8 });
  assert.equal(got.rows[0]!.text, a);
  assert.equal(got.rows[0]!.scored, TEXT.length - 1);
  assert.equal(got.rows[0]!.stride, 8);
  assert.ok(Math.abs(got.rows[0]!.ppl - want.ppl) < 1e-9 * want.ppl);
  assert.equal(got.rows[1]!.scored, 'the dog sat on the mat.\nthe cat.'.length - 1);

  const t = cli('eval', 'ppl', '--model', base, a, '--quiet');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /context 32, stride 32/);
  assert.match(
    t.stdout,
    new RegExp(
      `${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +${(TEXT.length - 1).toLocaleString('en-US')} +\\d+\\.\\d{4} +\\d+\\.\\d{2} +\\d+\\.\\d{3}`,
    ),
  );
});

test('eval ppl: one-line errors', () => {
  const { dir, base, a, odd } = fixture();
  const oneLine = (r: ReturnType<typeof cli>, re: RegExp): void => {
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  };
  oneLine(
    cli('eval', 'ppl', '--model', base, '--text', join(dir, 'missing.txt')),
    /^error: --text .*missing\.txt: cannot read the file \(no such file\)/,
  );
  oneLine(
    cli('eval', 'ppl', '--model', base, '--text', a, '--context', '64'),
    /^error: eval ppl: --context 64 exceeds the model's context length 32/,
  );
  oneLine(
    cli('eval', 'ppl', '--model', base, '--text', odd),
    /^error: perplexity: cannot tokenize .*odd\.txt with the model's tokenizer \(CharTokenizer\.encode: character "T" at offset 24 is not in the vocabulary\)/,
  );
});

test('eval ppl: --text repeated scores every text, as a comma list does; another flag given twice is an error', () => {
  const { base, a, b } = fixture();
  const rows = (...text: string[]) => {
    const r = cli('eval', 'ppl', '--model', base, ...text, '--context', '16', '--json', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { rows: { text: string; ppl: number }[] }).rows;
  };
  const repeated = rows('--text', a, '--text', b);
  assert.deepEqual(
    repeated.map((r) => r.text),
    [a, b],
  );
  assert.deepEqual(repeated, rows('--text', `${a},${b}`));
  const twice = cli('eval', 'ppl', '--model', base, '--text', a, '--context', '16', '--context', '8');
  assert.equal(twice.status, 2);
  assert.equal(twice.stderr, 'error: eval: --context given twice ("16", then "8"); it takes one value, give it once\n');
});
