/**
 * A `data prepare` killed mid-shard (kill -9) leaves `.train-00000.bin.tmp-<pid>` (and an atomic write's
 * `.<file>.tmp-<pid>-<n>`) in its output directory; the next prepare into that directory removes them with the
 * rest of the old output, so they never pile up next to the new shards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { prepareData } from '../../src/data/prepare.ts';
import { randomDoc, tempDir } from './helpers.ts';
import { Rng } from '../../src/tensor/random.ts';

test('data prepare: a rerun removes the temporary shard files a killed prepare left', async () => {
  const dir = tempDir('prepare-stale');
  const input = join(dir, 'in.txt');
  const rng = new Rng(3);
  writeFileSync(input, Array.from({ length: 20 }, () => randomDoc(rng, 40)).join('\n\n'));
  const out = join(dir, 'out');
  const prepare = () =>
    prepareData({ sources: [{ name: 'c', path: input, paragraphs: true }], out, tokenizer: 'char', valFraction: 0.2 });
  await prepare();
  // What kill -9 mid-prepare leaves: the process is gone, its half-written files stay.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const stale = [`.train-00000.bin.tmp-${dead}`, `.val-00001.bin.tmp-${dead}`, `.meta.json.tmp-${dead}-0`];
  for (const f of stale) writeFileSync(join(out, f), 'partial');
  await prepare();
  const left = readdirSync(out).filter((f) => f.includes('.tmp-'));
  assert.deepEqual(left, []);
  assert.ok(readdirSync(out).includes('train-00000.bin'));
});
