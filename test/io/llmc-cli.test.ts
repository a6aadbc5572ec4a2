/**
 * The llm.c commands end to end: `export --format llmc` writes the checkpoint and llm.c's tokenizer file beside it,
 * `import --format llmc --tokenizer <model dir>` brings it back with identical weights, `data export-llmc` turns a
 * prepared dataset into llm.c shards named after it, and misuse (no tokenizer for llmc, a Llama, --dtype f16, a
 * missing dataset) is one clear error line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMeta } from '../../src/data/meta.ts';
import { prepareData } from '../../src/data/prepare.ts';
import { readLlmcShard } from '../../src/io/llmc/llmc-shards.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { loadModel, saveModel } from '../../src/models/model-io.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { CORPUS, trainTokenizer } from './gguf-fixture.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

const root = tempDir('llmc-cli');
const tok = trainTokenizer();

function saved(name: string, arch: 'gpt2' | 'llama'): string {
  const dir = join(root, name);
  const m = createModel(
    completeModelConfig({ arch, vocabSize: tok.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 32 }),
    new Rng(6),
  );
  mkdirSync(dir);
  saveModel(dir, m);
  saveTextTokenizer(dir, tok);
  return dir;
}

const gptDir = saved('gpt', 'gpt2');

test('export --format llmc, then import --format llmc: checkpoint + tokenizer file, identical weights', () => {
  const bin = join(root, 'tiny.bin');
  const r = cli('export', '--model', gptDir, '--format', 'llmc', '--out', bin);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /gpt2 \(1 layers, width 32, vocabulary 320, [\d,]+ parameters, llmc f32\)[^\n]*\nwrote .*tiny\.bin, .*tiny_tokenizer\.bin\n$/,
  );
  assert.ok(existsSync(join(root, 'tiny_tokenizer.bin')));
  const back = join(root, 'back');
  const imp = cli('import', '--format', 'llmc', bin, '--tokenizer', gptDir, '--out', back);
  assert.equal(imp.status, 0, imp.stderr);
  const params = new Map(loadModel(back).namedParameters());
  for (const [name, p] of loadModel(gptDir).namedParameters()) assert.deepEqual(params.get(name)!.data, p.data, name);
  const gen = cli('generate', '--model', back, '--temperature', '0', '--max-tokens', '4', 'The sun');
  assert.equal(gen.status, 0, gen.stderr);
  assert.equal(
    gen.stdout,
    cli('generate', '--model', gptDir, '--temperature', '0', '--max-tokens', '4', 'The sun').stdout,
  );
});

test('data export-llmc: shards named after the dataset, token for token', async () => {
  const input = join(root, 'corpus.txt');
  writeFileSync(input, CORPUS);
  const data = join(root, 'tiny-data');
  await prepareData({
    sources: [{ name: 'c', path: input }],
    out: data,
    tokenizer: 'char',
    valSplit: 'tail',
    valFraction: 0.1,
    clean: { filters: false, dedup: false, nearDedup: false },
    warn: () => {},
  });
  const out = join(root, 'llmc-data');
  const r = cli('data', 'export-llmc', data, '--out', out, '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const meta = readMeta(data);
  assert.equal(
    r.stdout,
    `exported ${meta.splits.train.tokens.toLocaleString('en-US')} train and ${meta.splits.val.tokens.toLocaleString('en-US')} val tokens as 2 llm.c shard(s)\nwrote tiny-data_train_000000.bin, tiny-data_val_000000.bin to ${out}\n`,
  );
  assert.equal(readLlmcShard(join(out, 'tiny-data_val_000000.bin')).length, meta.splits.val.tokens);
});

test('llm.c misuse: one error line each', () => {
  const llamaDir = saved('llama', 'llama');
  const cases: [string[], RegExp][] = [
    [
      ['import', '--format', 'llmc', join(root, 'tiny.bin'), '--out', join(root, 'n1')],
      /^error: import: llm\.c checkpoints carry no tokenizer; pass --tokenizer <dir> \(or --tokenizer gpt2 for llm\.c's GPT-2 checkpoints\)\n$/,
    ],
    [
      ['export', '--model', llamaDir, '--format', 'llmc', '--out', join(root, 'l.bin')],
      /^error: export llmc: llm\.c checkpoints hold GPT-2 models; this model is arch llama\n$/,
    ],
    [
      ['export', '--model', gptDir, '--format', 'llmc', '--dtype', 'f16', '--out', join(root, 'g.bin')],
      /^error: export: --dtype must be f32 or bf16 for --format llmc, received "f16"\n$/,
    ],
    [['data', 'export-llmc', join(root, 'none'), '--out', join(root, 'o')], /^error: .*none[/\\]meta\.json: not found/],
    [['data', 'export-llmc', join(root, 'none')], /^error: data export-llmc: --out <dir> is required/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
