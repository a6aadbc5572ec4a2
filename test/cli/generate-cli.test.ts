/**
 * `llmforge predict` and `llmforge generate` end to end on a tiny saved model (random weights, a BPE tokenizer
 * trained in the test): predict --json prints exactly one JSON array of the top N tokens sorted by probability,
 * the bar view shows readable tokens, generate streams text after the prompt with stats on stderr, a training
 * run's directory is accepted through its checkpoints, and a wrong path is one clear error line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

const root = tempDir('gen-cli');
const modelDir = join(root, 'model');
const runDir = join(root, 'run');
{
  const wc = new WordCounter();
  wc.add('The sun rises in the east. The sun sets in the west.\n'.repeat(30));
  const tok = trainBpe(wc.counts, { vocabSize: 280 });
  const model = createModel(
    completeModelConfig({ arch: 'gpt2', vocabSize: tok.vocabSize, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32 }),
    new Rng(3),
  );
  for (const p of model.parameters()) if (p.ndim >= 2) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! * 8;
  mkdirSync(modelDir);
  saveModel(modelDir, model);
  saveTextTokenizer(modelDir, tok);
  const ckpt = join(runDir, 'checkpoints', 'latest');
  mkdirSync(join(ckpt, 'tokenizer'), { recursive: true });
  saveModel(ckpt, model);
  saveTextTokenizer(join(ckpt, 'tokenizer'), tok);
}

test('predict --json --top N: exactly one array of N entries, sorted, probabilities summing to at most 1', () => {
  const r = cli('predict', '--model', modelDir, '--json', '--top', '7', 'The sun rises in the');
  assert.equal(r.status, 0, r.stderr);
  const preds = JSON.parse(r.stdout) as { id: number; token: string; prob: number }[];
  assert.equal(r.stdout, `${JSON.stringify(preds)}\n`, 'nothing but the array on stdout');
  assert.equal(preds.length, 7);
  for (const p of preds) {
    assert.deepEqual(Object.keys(p), ['id', 'token', 'prob']);
    assert.ok(Number.isInteger(p.id) && typeof p.token === 'string' && p.prob > 0 && p.prob < 1);
  }
  for (let i = 1; i < preds.length; i++) assert.ok(preds[i - 1]!.prob >= preds[i]!.prob);
  assert.ok(preds.reduce((s, p) => s + p.prob, 0) <= 1);
  // The same model through a training run's directory (checkpoints/latest, tokenizer in its own folder).
  const viaRun = cli('predict', '--model', runDir, '--json', '--top', '7', 'The sun rises in the');
  assert.equal(viaRun.status, 0, viaRun.stderr);
  assert.equal(viaRun.stdout, r.stdout);
});

test('predict shows bars; generate streams text after the prompt with stats on stderr', () => {
  const bars = cli('predict', '--model', modelDir, '--top', '3', 'The sun');
  assert.equal(bars.status, 0, bars.stderr);
  const lines = bars.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[1]!, /^ {2}("(.*)"|<[0-9a-f ]+>) +█* +\d+\.\d% {2}\(id \d+\)$/);
  const gen = cli('generate', '--model', modelDir, '--max-tokens', '12', '--temperature', '0', 'The sun');
  assert.equal(gen.status, 0, gen.stderr);
  assert.ok(gen.stdout.startsWith('The sun'));
  assert.ok(gen.stdout.length > 'The sun\n'.length, 'some generated text');
  assert.match(
    gen.stderr,
    /\[12 new tokens, stop: length; prompt 2 tokens prefilled in \d+ ms; decode [\d.]+ tokens\/s \((fp32|bf16|fp32 forward)\)\]/,
  );
});

test('a path that is neither a model nor a run is one error line', () => {
  const r = cli('predict', '--model', root, 'x');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: .*neither a model directory \(no config\.json\) nor a training run/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const help = cli('generate', '--help');
  assert.match(help.stdout, /--repetition-penalty R/);
});
