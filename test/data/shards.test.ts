/**
 * Token shards and the loader: a write/read round trip in uint16 and uint32 (across shard boundaries), the header
 * layout, sampleBatch targets as ids shifted by one and reproducible from the Rng, sequential windows, and clear
 * errors naming the file for a wrong magic, version or size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TokenDataset } from '../../src/data/dataset.ts';
import { META_FORMAT, type DatasetMeta } from '../../src/data/meta.ts';
import { dtypeFor, HEADER_BYTES, ShardWriter } from '../../src/data/shards.ts';
import { Rng } from '../../src/tensor/random.ts';
import { writeJsonAtomic } from '../../src/util/atomic.ts';
import { tempDir } from './helpers.ts';
import { UserError } from '../../src/util/user-error.ts';

/** Writes `tokens` as a train split of `shardTokens`-token shards plus a minimal meta.json. */
function writeDataset(tokens: number[], vocabSize: number, shardTokens: number): string {
  const dir = tempDir('shards');
  const w = new ShardWriter(dir, 'train', vocabSize, shardTokens);
  w.write(tokens.slice(0, 5));
  w.write(tokens.slice(5));
  const shards = w.finish();
  const meta: DatasetMeta = {
    format: META_FORMAT,
    version: 1,
    vocabSize,
    dtype: dtypeFor(vocabSize),
    eosId: null,
    tokenizer: 'tokenizer',
    splits: {
      train: { tokens: tokens.length, bytes: tokens.length * 3, documents: 1, shards },
      val: { tokens: 0, bytes: 0, documents: 0, shards: [] },
    },
    sources: [],
    cleaning: { documents: 1, kept: 1, dropped: {}, pii: { email: 0, phone: 0, ipv4: 0, ipv6: 0 } },
    options: {},
  };
  writeJsonAtomic(join(dir, 'meta.json'), meta);
  return dir;
}

for (const [vocab, dtype, width] of [
  [1000, 'uint16', 2],
  [70_000, 'uint32', 4],
] as const) {
  test(`shard round trip: ${dtype} (vocabulary ${vocab})`, () => {
    const rng = new Rng(vocab);
    const tokens = Array.from({ length: 2500 }, () => rng.int(vocab));
    tokens[7] = vocab - 1;
    const dir = writeDataset(tokens, vocab, 1000);
    const first = readFileSync(join(dir, 'train-00000.bin'));
    assert.equal(first.toString('latin1', 0, 8), 'LLMFTOKS');
    assert.equal(first.readUInt32LE(8), 1);
    assert.equal(first.readUInt32LE(12), width);
    assert.equal(Number(first.readBigUInt64LE(16)), 1000);
    assert.equal(first.readUInt32LE(24), vocab);
    assert.equal(first.length, HEADER_BYTES + 1000 * width);
    const ds = TokenDataset.open(dir, 'train');
    assert.equal(ds.numTokens, 2500);
    assert.equal(ds.vocabSize, vocab);
    assert.equal(ds.bytesPerToken, 3);
    const all = new Int32Array(2500);
    ds.read(0, all);
    assert.deepEqual(Array.from(all), tokens);
    const across = new Int32Array(10);
    ds.read(995, across);
    assert.deepEqual(Array.from(across), tokens.slice(995, 1005), 'a read across a shard boundary');
    ds.close();
  });
}

test('ShardWriter rejects ids outside the vocabulary', () => {
  const w = new ShardWriter(tempDir('shards'), 'train', 10, 100);
  assert.throws(() => w.write([3, 10]), /token id 10 is outside the vocabulary \[0, 10\)/);
  w.abort();
});

test('sampleBatch: B windows, targets are the ids shifted by one, reproducible from the Rng state', () => {
  const tokens = Array.from({ length: 3000 }, (_, i) => i % 997);
  const dir = writeDataset(tokens, 1000, 700);
  const ds = TokenDataset.open(dir, 'train');
  const rng = new Rng(5);
  const state = rng.getState();
  const { ids, targets } = ds.sampleBatch(rng, 4, 16);
  assert.equal(ids.length, 64);
  for (let b = 0; b < 4; b++) {
    const start = tokens.indexOf(ids[b * 16]!);
    for (let t = 0; t < 16; t++) {
      // Each window is a contiguous run of the stream: id t+1 follows id t, and the target is the next id.
      assert.equal(targets[b * 16 + t], (ids[b * 16 + t]! + 1) % 997);
      if (t < 15) assert.equal(ids[b * 16 + t + 1], targets[b * 16 + t]);
    }
    assert.ok(start >= 0);
  }
  const again = new Rng(0);
  again.setState(state);
  assert.deepEqual(ds.sampleBatch(again, 4, 16), { ids, targets });
  assert.throws(() => ds.sampleBatch(rng, 1, 3000), /3000 tokens are too few for a window of T \+ 1 = 3001/);
  ds.close();
});

test('sequential: non-overlapping windows covering the stream, the last batch partial', () => {
  const tokens = Array.from({ length: 103 }, (_, i) => i);
  const ds = TokenDataset.fromTokens(tokens, 200);
  const batches = [...ds.sequential(4, 10)];
  assert.equal(ds.windows(10), 10);
  assert.deepEqual(
    batches.map((b) => b.ids.length / 10),
    [4, 4, 2],
  );
  const ids = batches.flatMap((b) => Array.from(b.ids));
  const targets = batches.flatMap((b) => Array.from(b.targets));
  assert.deepEqual(ids, tokens.slice(0, 100));
  assert.deepEqual(targets, tokens.slice(1, 101));
  assert.throws(() => TokenDataset.fromTokens([1, 2, 300], 200), /token 300 at position 2 is outside \[0, 200\)/);
  assert.equal(TokenDataset.fromTokens([1, 2], 5, 4.5).bytesPerToken, 4.5);
});

test('a corrupt shard is an error naming the file: magic, version, size', () => {
  const tokens = Array.from({ length: 50 }, (_, i) => i);
  const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
    [
      'magic',
      (b) => {
        b.write('GARBAGE!', 0, 'latin1');
        return b;
      },
      /train-00000\.bin: not a token shard \(magic "GARBAGE!", expected "LLMFTOKS"\)/,
    ],
    [
      'version',
      (b) => {
        b.writeUInt32LE(9, 8);
        return b;
      },
      /train-00000\.bin: shard format version 9 is not supported \(expected 1\)/,
    ],
    [
      'size',
      (b) => b.subarray(0, b.length - 2),
      /train-00000\.bin: size 130 bytes does not match its header \(50 tokens x 2 bytes \+ 32 = 132\)/,
    ],
    [
      'header',
      (b) => b.subarray(0, 10),
      /train-00000\.bin: not a token shard \(10 bytes, shorter than the 32-byte header\)/,
    ],
  ];
  for (const [what, corrupt, message] of cases) {
    const dir = writeDataset(tokens, 100, 1000);
    const file = join(dir, 'train-00000.bin');
    writeFileSync(file, corrupt(readFileSync(file)));
    assert.throws(
      () => TokenDataset.open(dir, 'train'),
      (e: Error) => {
        assert.match(e.message, message, what);
        assert.ok(e instanceof UserError);
        return true;
      },
    );
  }
  assert.throws(() => TokenDataset.open(tempDir('none'), 'train'), /meta\.json: not found; is .* a prepared dataset\?/);
});
