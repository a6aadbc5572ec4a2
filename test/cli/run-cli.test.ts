/**
 * `llmforge run` end to end: recipes/demo.yaml with tiny settings (a small corpus, a 1-layer model, a few steps)
 * writes every stage's artifacts and a .complete marker, a rerun skips every stage, a changed stage reruns alone,
 * an interrupted pretrain stage resumes from its checkpoint; user mistakes in overrides
 * are one `error:` line with exit code 2; `run --help` documents the override syntax and the stage types.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

const TINY = [
  'documents=300',
  'vocab=300',
  'steps=6',
  'stages.model.config.nLayer=1',
  'stages.model.config.nEmbd=32',
  'stages.model.config.nHead=2',
  'stages.model.config.blockSize=32',
  'stages.pretrain.context=32',
  'stages.pretrain.batchSize=4',
  'stages.pretrain.evalInterval=3',
  'stages.pretrain.evalIters=2',
  'stages.pretrain.warmup=2',
  'stages.sample.maxTokens=5',
];

test('recipes/demo.yaml with tiny settings runs every stage, then a rerun skips them all', () => {
  const out = join(tempDir('run'), 'demo');
  const first = cli('run', 'recipes/demo.yaml', '--set', `out=${out}`, ...TINY, '--quiet');
  assert.equal(first.status, 0, first.stderr);
  const stages = ['corpus', 'tokenizer', 'data', 'model', 'before', 'pretrain', 'after', 'sample'];
  for (const s of stages) {
    assert.match(first.stdout, new RegExp(`== ${s} \\(`));
    assert.ok(existsSync(join(out, s, '.complete')), `${s}/.complete`);
  }
  for (const f of [
    'corpus/corpus.jsonl',
    'corpus/facts.json',
    'tokenizer/tokenizer.json',
    'data/meta.json',
    'model/config.json',
    'before/predictions.json',
    'pretrain/checkpoints/best/config.json',
    'pretrain/checkpoints/latest/config.json',
    'pretrain/metrics.jsonl',
    'after/predictions.json',
    'sample/samples.json',
    'recipe.json',
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  assert.match(first.stdout, /"The capital of France is" ___\n {2}"/);
  const after = JSON.parse(readFileSync(join(out, 'after', 'predictions.json'), 'utf8')) as {
    results: { prompt: string; predictions: { prob: number }[] }[];
  };
  assert.deepEqual(
    after.results.map((r) => r.prompt),
    ['The capital of France is', 'The sun rises in the', 'Everyone knows that the capital of Italy is'],
  );
  assert.ok(after.results.every((r) => r.predictions.length === 5 && r.predictions[0]!.prob >= r.predictions[4]!.prob));
  const steps = readFileSync(join(out, 'pretrain', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);
  assert.equal(Math.max(...steps), 6);

  const second = cli('run', 'recipes/demo.yaml', '--set', `out=${out}`, ...TINY);
  assert.equal(second.status, 0, second.stderr);
  for (const s of stages) assert.match(second.stdout, new RegExp(`^skip ${s} \\(complete\\)$`, 'm'));
  assert.doesNotMatch(second.stdout, /== /);
  assert.match(second.stdout, /0 stage\(s\) ran, 8 skipped/);

  // Changing the sampling temperature reruns only the last stage.
  const third = cli('run', 'recipes/demo.yaml', '--set', `out=${out}`, ...TINY, 'stages.sample.temperature=0');
  assert.equal(third.status, 0, third.stderr);
  assert.match(third.stdout, /skip after \(complete\)\n\n== sample \(sample\)/);

  // An interrupted pretrain stage (started, no .complete) resumes from its checkpoint instead of starting over.
  rmSync(join(out, 'pretrain', '.complete'));
  const resumed = cli('run', 'recipes/demo.yaml', '--set', `out=${out}`, ...TINY, 'stages.sample.temperature=0');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(
    resumed.stdout,
    /skip before \(complete\)\n\n== pretrain \(pretrain\) =+\nresuming the interrupted run in .*pretrain\n/,
  );
  assert.match(resumed.stdout, /already at step 6 of 6/);
  assert.match(resumed.stdout, /== after \(predict\)/);
});

test('run: mistakes are one error line', () => {
  const unknown = cli('run', 'recipes/demo.yaml', '--set', 'stepz=5');
  assert.equal(unknown.status, 2);
  assert.match(
    unknown.stderr,
    /^error: --set stepz=5: unknown key "stepz" in recipes\/demo\.yaml; valid keys: out, seed, documents, vocab, steps, .*stages\.<stage>\.<parameter> for stages corpus, tokenizer, data, model, before, pretrain, after, sample\n$/,
  );
  const typed = cli('run', 'recipes/demo.yaml', '--set', 'stages.pretrain.lr=fast');
  assert.equal(typed.status, 2);
  assert.equal(typed.stderr, 'error: --set stages.pretrain.lr=fast: expected a number, received "fast"\n');
  const missing = cli('run', 'recipes/nope.yaml');
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, 'error: recipes/nope.yaml: cannot read the recipe (ENOENT)\n');
  const noRecipe = cli('run');
  assert.equal(noRecipe.status, 2);
  assert.match(noRecipe.stderr, /^error: run: give a recipe file/);
  const stray = cli('run', 'recipes/demo.yaml', 'oops');
  assert.match(stray.stderr, /^error: run: unexpected argument "oops"; overrides are key=value/);
});

test('run --help documents overrides and lists the stage types; start --help names the demo', () => {
  const help = cli('run', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: llmforge run <recipe\.yaml> \[--set key=value \[key=value \.\.\.\]\]/);
  assert.match(help.stdout, /Every key=value argument is an override/);
  for (const t of ['corpus', 'tokenizer', 'data', 'model', 'pretrain', 'predict', 'sample'])
    assert.match(help.stdout, new RegExp(`^  ${t} +\\S`, 'm'));
  assert.match(cli('start', '--help').stdout, /recipes\/demo\.yaml/);
});
