/**
 * recipes/spam.yaml end to end at a tiny size: pretraining of a 1-layer model on a mixture of the toy world and a small
 * play (standing in for tinyshakespeare, tokenizer trained on both), then the `classify` stage on a small labelled file; `<out>/classifier` is a classifier that `llmforge classify` loads, report.json holds the test
 * metrics, and a bad stage parameter is one error line before any stage runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

const TINY = [
  'documents=200',
  'vocab=300',
  'steps=4',
  'epochs=1',
  'context=32',
  'stages.model.config.nLayer=1',
  'stages.model.config.nEmbd=32',
  'stages.model.config.nHead=2',
  'stages.pretrain.batchSize=4',
  'stages.pretrain.evalInterval=2',
  'stages.pretrain.evalIters=1',
  'stages.pretrain.warmup=1',
];

/** A small stand-in for tinyshakespeare (the recipe's second pretraining source). */
function tinyPlay(dir: string): string {
  const path = join(dir, 'play.txt');
  writeFileSync(
    path,
    Array.from({ length: 30 }, (_, i) => `ROMEO:\nBut soft, what light through yonder window breaks? ${i}`).join(
      '\n\n',
    ),
  );
  return path;
}

function tinySpamFile(dir: string): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    lines.push(`ham\tsee you at lunch tomorrow, bring the book ${i}`);
    if (i % 2 === 0) lines.push(`spam\tWINNER! claim your free prize now, call 0906${String(i).padStart(4, '0')}`);
  }
  const path = join(dir, 'sms.tsv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

test('recipes/spam.yaml with tiny settings pretrains, fine-tunes a classifier, and the classifier loads', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'llmforge-spam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'run');
  const data = tinySpamFile(dir);
  const run = cli(
    'run',
    'recipes/spam.yaml',
    '--set',
    `out=${out}`,
    `data=${data}`,
    `shakespeare=${tinyPlay(dir)}`,
    ...TINY,
    '--quiet',
  );
  assert.equal(run.status, 0, run.stderr);
  const meta = JSON.parse(readFileSync(join(out, 'data', 'meta.json'), 'utf8')) as {
    sources: { name: string; documents: number }[];
  };
  assert.deepEqual(
    meta.sources.map((s) => [s.name, s.documents]),
    [
      ['toy', 200],
      ['shakespeare', 30],
    ],
  );
  for (const s of ['corpus', 'data', 'model', 'pretrain', 'classifier'])
    assert.ok(existsSync(join(out, s, '.complete')), `${s}/.complete`);
  const report = JSON.parse(readFileSync(join(out, 'classifier', 'report.json'), 'utf8')) as {
    labels: string[];
    test: { accuracy: number } | null;
  };
  assert.deepEqual(report.labels, ['ham', 'spam']);
  assert.ok(report.test !== null && report.test.accuracy >= 0 && report.test.accuracy <= 1);
  const one = cli('classify', '--model', join(out, 'classifier'), 'free prize, call now');
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^(ham|spam) {2}\(ham \d+\.\d%, spam \d+\.\d%\)\n$/);
});

test('recipes/spam.yaml: a bad classify parameter is one error line before any stage runs', () => {
  const r = cli('run', 'recipes/spam.yaml', '--set', 'stages.classifier.pooling=max', '--dry-run');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: .*pooling must be one of last, mean, received "max".*\n$/);
});
