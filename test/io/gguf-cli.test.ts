/**
 * `llmforge export --format gguf` and `llmforge import --format gguf` end to end: a saved model directory with a
 * BPE tokenizer is exported as q8_0 and f32 GGUF (one file each, the summary line names them), the f32 file
 * imports back into a model directory with identical weights and tokenizer, and misuse (--dtype with gguf, a bad
 * --type, --out a directory, a character-level tokenizer, a non-empty import target, a file that is not GGUF) is
 * one clear error line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GgufReader } from '../../src/export/gguf/gguf-reader.ts';
import { completeModelConfig } from '../../src/models/config.ts';
import { createModel } from '../../src/models/create.ts';
import { loadModel, saveModel } from '../../src/models/model-io.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { loadTextTokenizer, saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { CORPUS, trainTokenizer } from './gguf-fixture.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

const root = tempDir('gguf-cli');
const modelDir = join(root, 'model');
const tok = trainTokenizer();
const model = createModel(
  completeModelConfig({ arch: 'llama', vocabSize: tok.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 64 }),
  new Rng(2),
);
mkdirSync(modelDir);
saveModel(modelDir, model);
saveTextTokenizer(modelDir, tok);

test('export --format gguf (q8_0, f32) then import --format gguf: identical weights and tokenizer', () => {
  const q8 = join(root, 'model-q8.gguf');
  const r = cli('export', '--model', modelDir, '--format', 'gguf', '--type', 'q8_0', '--out', q8);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^exported llama \(1 layers, width 64, vocabulary 320, [\d,]+ parameters, gguf q8_0\) from .*\nwrote .*model-q8\.gguf\n$/,
  );
  const file = GgufReader.open(q8);
  assert.equal(file.get('general.file_type'), 7);
  file.close();

  const f32 = join(root, 'model.gguf');
  assert.equal(cli('export', '--model', modelDir, '--format', 'gguf', '--out', f32).status, 0);
  const back = join(root, 'back');
  const imp = cli('import', '--format', 'gguf', f32, '--out', back);
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /^imported llama \(1 layers, width 64, vocabulary 320/);
  const params = new Map(loadModel(back).namedParameters());
  for (const [name, p] of model.namedParameters()) assert.deepEqual(params.get(name)!.data, p.data, name);
  assert.deepEqual(loadTextTokenizer(back).encode(CORPUS.slice(0, 200)), tok.encode(CORPUS.slice(0, 200)));
});

test('export/import gguf misuse: one error line each', () => {
  const cases: [string[], RegExp][] = [
    [
      ['export', '--model', modelDir, '--format', 'gguf', '--dtype', 'f16', '--out', join(root, 'x.gguf')],
      /^error: export: --format gguf takes --type f32\|f16\|q8_0, not --dtype\n$/,
    ],
    [
      ['export', '--model', modelDir, '--format', 'gguf', '--type', 'q4_0', '--out', join(root, 'x.gguf')],
      /^error: export: --type must be f32, f16 or q8_0, received "q4_0"\n$/,
    ],
    [
      ['export', '--model', modelDir, '--format', 'hf', '--type', 'f16', '--out', join(root, 'x')],
      /^error: export: --type applies to --format gguf; use --dtype for --format hf\n$/,
    ],
    [
      ['export', '--model', modelDir, '--format', 'gguf', '--out', root],
      /^error: export: --out .* is a directory; --format gguf writes one file \(e\.g\. --out .*model\.gguf\)\n$/,
    ],
    [
      ['import', '--format', 'gguf', join(root, 'nothing.gguf'), '--out', modelDir],
      /^error: import: --out .* exists and is not empty; choose a new directory\n$/,
    ],
    [
      ['import', '--format', 'onnx', 'x', '--out', join(root, 'y')],
      /^error: import: --format must be gguf or llmc, received "onnx"\n$/,
    ],
  ];
  const charDir = join(root, 'char-model');
  mkdirSync(charDir);
  saveModel(
    charDir,
    createModel(
      completeModelConfig({ arch: 'gpt2', vocabSize: 8, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8 }),
      new Rng(1),
    ),
  );
  saveTextTokenizer(charDir, new CharTokenizer([...'abcdefgh']));
  cases.push([
    ['export', '--model', charDir, '--format', 'gguf', '--out', join(root, 'c.gguf')],
    /^error: export: the model in .*char-model uses a character-level tokenizer, which has no llama\.cpp form; --format gguf needs a byte-level BPE tokenizer/,
  ]);
  const notGguf = join(root, 'text.gguf');
  writeFileSync(notGguf, 'hello, this is not a model file at all');
  cases.push([
    ['import', '--format', 'gguf', notGguf, '--out', join(root, 'z')],
    /^error: .*text\.gguf: not a GGUF file \(magic 0x6c6c6568, expected 0x46554747 "GGUF"\)\n$/,
  ]);
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
