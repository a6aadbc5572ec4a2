/**
 * prepareData end to end on small corpora: documents split by a seeded hash, EOS between documents, the tokenizer
 * saved beside the shards and reloading identical, meta.json recording splits, sources, cleaning and options, a
 * trained BPE tokenizer, stale shards from an earlier run removed, and clear errors for unusable input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenDataset } from '../../src/data/dataset.ts';
import { readMeta } from '../../src/data/meta.ts';
import { prepareData, splitTail } from '../../src/data/prepare.ts';
import { Rng } from '../../src/tensor/random.ts';
import { eosId, loadTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { randomDoc, tempDir } from './helpers.ts';

function corpus(dir: string, n: number, seed: number): string {
  const rng = new Rng(seed);
  const path = join(dir, `corpus-${seed}.txt`);
  writeFileSync(path, Array.from({ length: n }, () => randomDoc(rng, 8)).join('\n\n'));
  return path;
}

test('prepareData: split, separators, tokenizer, meta; deterministic by seed', async () => {
  const dir = tempDir('prep');
  const input = corpus(dir, 200, 1);
  const run = (out: string, seed: number) =>
    prepareData({
      sources: [{ name: 'c', path: input, paragraphs: true }],
      out: join(dir, out),
      trainTokenizer: 300,
      valFraction: 0.2,
      seed,
      shardTokens: 1000,
    });
  const a = await run('a', 1);
  const meta = readMeta(join(dir, 'a'));
  assert.deepEqual(meta, a.meta);
  const { train, val } = meta.splits;
  assert.equal(train.documents + val.documents, 200);
  assert.ok(val.documents > 20 && val.documents < 60, `about 20% in validation: ${val.documents}`);
  assert.equal(meta.vocabSize, 300);
  assert.equal(meta.dtype, 'uint16');
  assert.ok(train.shards.length > 1, 'several 1000-token shards');
  assert.deepEqual(
    readdirSync(join(dir, 'a'))
      .filter((f) => f.endsWith('.bin'))
      .sort(),
    [...train.shards, ...val.shards].sort(),
  );
  const tok = loadTextTokenizer(join(dir, 'a', meta.tokenizer));
  assert.equal(eosId(tok), meta.eosId);
  const ds = TokenDataset.open(join(dir, 'a'), 'train');
  assert.equal(ds.numTokens, train.tokens);
  const all = new Int32Array(ds.numTokens);
  ds.read(0, all);
  ds.close();
  const eos = meta.eosId!;
  assert.equal(all.filter((id) => id === eos).length, train.documents, 'one EOS after every document');
  assert.equal(all[all.length - 1], eos);
  const textBytes = Buffer.byteLength(tok.decode(Array.from(all).filter((id) => id !== eos)));
  assert.equal(train.bytes, textBytes, 'bytes are the UTF-8 bytes of the written documents');
  const firstDoc = tok.decode(Array.from(all.subarray(0, all.indexOf(eos))));
  assert.match(firstDoc, /^[a-z ]+\.$/, 'a whole document decodes back');
  assert.ok(Math.abs(ds.bytesPerToken - train.bytes / train.tokens) < 1e-12);
  // The same seed gives the same split and order; another seed a different split.
  const b = await run('b', 1);
  assert.deepEqual(b.meta.splits, meta.splits);
  const c = await run('c', 2);
  assert.notEqual(c.meta.splits.val.tokens, meta.splits.val.tokens);
  assert.equal(meta.options.seed, 1);
  assert.equal(meta.sources[0]!.documents, 200);
});

test('prepareData: a rerun replaces stale shards; the cleaning report counts duplicates', async () => {
  const dir = tempDir('prep');
  const input = corpus(dir, 60, 3);
  const out = join(dir, 'out');
  await prepareData({
    sources: [{ name: 'c', path: input, paragraphs: true }],
    out,
    tokenizer: 'char',
    valFraction: 0,
    shardTokens: 100,
  });
  const many = readdirSync(out).filter((f) => f.startsWith('train-')).length;
  const dup = join(dir, 'dup.txt');
  writeFileSync(dup, 'the same short line here\n\nthe same short line here\n\nanother line of text\n');
  const r = await prepareData({
    sources: [
      { name: 'c', path: input, paragraphs: true },
      { name: 'd', path: dup, paragraphs: true },
    ],
    out,
    tokenizer: 'char',
    valFraction: 0,
  });
  assert.ok(many > 1);
  assert.deepEqual(
    readdirSync(out).filter((f) => f.endsWith('.bin')),
    ['train-00000.bin'],
  );
  assert.equal(r.meta.cleaning.dropped.duplicate, 1);
  assert.equal(r.meta.sources[1]!.kept, 2);
  assert.equal(r.meta.eosId, null);
  assert.equal(r.meta.options.separator, 'blank line');
  assert.ok(existsSync(join(out, 'tokenizer', 'char-tokenizer.json')));
  assert.equal(
    readdirSync(out).some((f) => f.startsWith('.')),
    false,
    'no temporary files left',
  );
});

test('prepareData: clear errors for no tokenizer, everything filtered, an unknown character', async () => {
  const dir = tempDir('prep');
  const input = corpus(dir, 5, 4);
  await assert.rejects(
    prepareData({ sources: [{ name: 'c', path: input }], out: join(dir, 'o1') }),
    /choose a tokenizer/,
  );
  await assert.rejects(
    prepareData({
      sources: [{ name: 'c', path: input }],
      out: join(dir, 'o2'),
      tokenizer: 'char',
      clean: {
        filters: {
          minWords: 1000,
          maxChars: 1e9,
          maxSymbolRatio: 1,
          maxDigitRatio: 1,
          maxRepeatedLines: 1,
          maxRepeatedNgrams: 1,
          ngram: 5,
        },
      },
    }),
    /no training documents are left \(1 read, 0 kept after cleaning\)/,
  );
  const charDir = join(dir, 'o3');
  await prepareData({ sources: [{ name: 'c', path: input }], out: charDir, tokenizer: 'char', valFraction: 0 });
  const other = join(dir, 'other.txt');
  writeFileSync(other, 'QUITE DIFFERENT LETTERS HERE!');
  await assert.rejects(
    prepareData({
      sources: [{ name: 'x', path: other }],
      out: join(dir, 'o4'),
      tokenizer: join(charDir, 'tokenizer'),
      valFraction: 0,
    }),
    /cannot tokenize a document of source "x" \(CharTokenizer\.encode: character "Q" at offset 0 is not in the vocabulary\)/,
  );
});

test('prepareData --val-split tail: the last fraction of each document is validation (single-file corpora)', async () => {
  const dir = tempDir('prep');
  const input = join(dir, 'one.txt');
  const text = 'abcdefghij'.repeat(10);
  writeFileSync(input, text);
  const r = await prepareData({
    sources: [{ name: 'one', path: input }],
    out: join(dir, 'o'),
    tokenizer: 'char',
    valFraction: 0.1,
    valSplit: 'tail',
    clean: { filters: false },
  });
  const { train, val } = r.meta.splits;
  assert.deepEqual([train.documents, train.bytes, val.documents, val.bytes], [1, 90, 1, 10]);
  const tok = loadTextTokenizer(join(dir, 'o', 'tokenizer'));
  const ids = new Int32Array(val.tokens);
  const ds = TokenDataset.open(join(dir, 'o'), 'val');
  ds.read(0, ids);
  ds.close();
  assert.equal(
    tok.decode(Array.from(ids)),
    `${text.slice(90)}\n\n`,
    'the tail, then the blank-line separator (char tokenizers have no EOS)',
  );
  assert.equal(r.meta.options.valSplit, 'tail');
  const [head, tail] = splitTail('ab\u{1F600}cd', 0.5);
  assert.deepEqual([head, tail], ['ab\u{1F600}', 'cd'], 'a surrogate pair is not cut');
});

test('prepareData: rerunning with another kind of tokenizer replaces the saved one, even when it was loaded from there', async () => {
  const dir = tempDir('prep');
  const input = corpus(dir, 30, 5);
  const out = join(dir, 'o');
  await prepareData({
    sources: [{ name: 'c', path: input, paragraphs: true }],
    out,
    tokenizer: 'char',
    valFraction: 0,
  });
  const charVocab = loadTextTokenizer(join(out, 'tokenizer')).vocabSize;
  await prepareData({
    sources: [{ name: 'c', path: input, paragraphs: true }],
    out,
    tokenizer: join(out, 'tokenizer'),
    valFraction: 0,
  });
  assert.equal(loadTextTokenizer(join(out, 'tokenizer')).vocabSize, charVocab);
  await prepareData({
    sources: [{ name: 'c', path: input, paragraphs: true }],
    out,
    trainTokenizer: 280,
    valFraction: 0,
  });
  assert.deepEqual(readdirSync(join(out, 'tokenizer')).sort(), ['tokenizer.json', 'tokenizer_config.json']);
  assert.equal(eosId(loadTextTokenizer(join(out, 'tokenizer'))), readMeta(out).eosId);
});
