/**
 * A shard holding token ids at or above the vocabulary (a corrupt file, or shards written with another tokenizer)
 * is one error line naming the shard and the position: from the data loader when `train` meets it, and from
 * `data inspect`, which reads every token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TokenDataset } from '../../src/data/dataset.ts';
import { prepareData } from '../../src/data/prepare.ts';
import { HEADER_BYTES } from '../../src/data/shards.ts';
import { runCliBatch } from '../helpers/cli-batch.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Overwrites uint16 tokens [from, to) of `file` with `id`. */
function poke(file: string, from: number, to: number, id: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(2 * (to - from));
  for (let i = 0; i < to - from; i++) b.writeUInt16LE(id, 2 * i);
  writeSync(fd, b, 0, b.length, HEADER_BYTES + 2 * from);
  closeSync(fd);
}

test('token ids outside the vocabulary: train and data inspect name the shard and the position', async () => {
  const dir = tempDir('shard-ids');
  const text = join(dir, 'text.txt');
  writeFileSync(
    text,
    Array.from(
      { length: 40 },
      (_, i) => `the cat number ${i} sat on mat ${i * 7} and the dog ${i * 3} sat on a log.`,
    ).join('\n\n'),
  );
  const ds = join(dir, 'ds');
  await prepareData({
    sources: [{ name: 't', path: text, paragraphs: true }],
    out: ds,
    tokenizer: 'char',
    valFraction: 0.2,
  });
  const train = join(ds, 'train-00000.bin');
  const val = join(ds, 'val-00000.bin');
  const trainDs = TokenDataset.open(ds, 'train');
  const valDs = TokenDataset.open(ds, 'val');
  const V = trainDs.vocabSize;
  const valTokens = valDs.numTokens;
  trainDs.close();
  valDs.close();
  poke(train, 123, 124, 60000);
  poke(val, 0, valTokens, V);

  const [inspect, run] = runCliBatch([
    { argv: ['data', 'inspect', ds] },
    {
      argv: [
        'train',
        '--data',
        ds,
        '--model',
        'char-tiny',
        '--out',
        'out',
        '--set',
        'nLayer=1',
        'nEmbd=16',
        'nHead=2',
        'blockSize=16',
        '--steps',
        '1',
        '--batch',
        '2',
        '--eval-iters',
        '1',
        '--quiet',
      ],
    },
  ]);
  for (const r of [inspect!, run!]) {
    const err = r.stderr.trimEnd();
    assert.notEqual(r.code, 0, err);
    assert.equal(err.split('\n').length, 1, err);
    assert.ok(!err.includes('    at '), err);
    assert.match(err, /^error: .*-00000\.bin: token id \d+ at position \d+ is outside the vocabulary/);
  }
  assert.ok(inspect!.stderr.includes(`${train}: token id 60000 at position 123 `), inspect!.stderr);
  assert.ok(run!.stderr.includes(`${val}: token id ${V} at position `), run!.stderr);
});
