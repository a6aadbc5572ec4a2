/**
 * util/atomic: writeFileAtomicWith streams a file into place (parents created, no temporary left behind), and a
 * writer that throws leaves the previous file untouched and no temporary file; writeFileAtomic is built on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAll, writeFileAtomic, writeFileAtomicWith } from '../../src/util/atomic.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('writeFileAtomicWith: streamed chunks land at the path; nothing else is left in the directory', () => {
  const dir = join(tempDir('atomic'), 'a', 'b');
  const path = join(dir, 'out.bin');
  writeFileAtomicWith(path, (fd) => {
    for (let i = 0; i < 4; i++) writeAll(fd, new Uint8Array([i, i + 1]));
  });
  assert.deepEqual([...readFileSync(path)], [0, 1, 1, 2, 2, 3, 3, 4]);
  writeFileAtomic(path, 'replaced\n');
  assert.equal(readFileSync(path, 'utf8'), 'replaced\n');
  assert.deepEqual(readdirSync(dir), ['out.bin']);
});

test('writeFileAtomicWith: a writer that throws keeps the old file and removes its temporary file', () => {
  const dir = tempDir('atomic');
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, 'old');
  assert.throws(
    () =>
      writeFileAtomicWith(path, (fd) => {
        writeAll(fd, new Uint8Array(1024));
        throw new Error('encoder failed half way');
      }),
    /encoder failed half way/,
  );
  assert.equal(readFileSync(path, 'utf8'), 'old');
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
});
