/**
 * Data sources: .txt (whole file or paragraphs), .jsonl with a chosen field (errors name file:line), gzip read
 * transparently, directories walked recursively and globs with `*`, `**` and `?`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expandPath, globToRegex } from '../../src/data/glob.ts';
import { readSource, type RawDocument } from '../../src/data/sources.ts';
import { tempDir } from './helpers.ts';
import { UserError } from '../../src/util/user-error.ts';

async function collect(gen: AsyncGenerator<RawDocument>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of gen) out.push(d.text);
  return out;
}

test('txt: one document per file, or one per blank-line paragraph', async () => {
  const dir = tempDir();
  const f = join(dir, 'a.txt');
  writeFileSync(f, 'first para\nline two\n\n\nsecond para\n\nthird\n');
  assert.deepEqual(await collect(readSource({ name: 'a', path: f })), [
    'first para\nline two\n\n\nsecond para\n\nthird\n',
  ]);
  assert.deepEqual(await collect(readSource({ name: 'a', path: f, paragraphs: true })), [
    'first para\nline two',
    'second para',
    'third',
  ]);
});

test('jsonl: the chosen field, blank lines skipped; errors name file:line', async () => {
  const dir = tempDir();
  const f = join(dir, 'd.jsonl');
  writeFileSync(f, '{"text":"one","id":1}\n\n{"text":"two","content":"c2"}\n');
  assert.deepEqual(await collect(readSource({ name: 'd', path: f })), ['one', 'two']);
  await assert.rejects(collect(readSource({ name: 'd', path: f, field: 'content' })), (e: Error) => {
    assert.equal(e.message, `${f}:1: no field "content" (the object has: text, id); choose one with --input-field`);
    assert.ok(e instanceof UserError);
    return true;
  });
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"text":"ok"}\n{"text": oops}\n');
  await assert.rejects(collect(readSource({ name: 'b', path: bad })), (e: Error) =>
    e.message.startsWith(`${bad}:2: not valid JSON (`),
  );
  const num = join(dir, 'num.jsonl');
  writeFileSync(num, '{"text":"ok"}\n{"text":"ok2"}\n{"text":5}\n');
  await assert.rejects(collect(readSource({ name: 'n', path: num })), {
    message: `${num}:3: field "text" must be a string, received number`,
  });
});

test('gzip is read transparently, and a corrupt .gz names the file', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'a.jsonl.gz'), gzipSync('{"text":"zipped one"}\n{"text":"zipped two"}\n'));
  writeFileSync(join(dir, 'b.txt.gz'), gzipSync('para one\n\npara two\n'));
  assert.deepEqual(await collect(readSource({ name: 'z', path: join(dir, 'a.jsonl.gz') })), [
    'zipped one',
    'zipped two',
  ]);
  assert.deepEqual(await collect(readSource({ name: 'z', path: join(dir, 'b.txt.gz'), paragraphs: true })), [
    'para one',
    'para two',
  ]);
  writeFileSync(join(dir, 'c.txt.gz'), 'not gzip at all');
  await assert.rejects(collect(readSource({ name: 'c', path: join(dir, 'c.txt.gz') })), /c\.txt\.gz: cannot read/);
});

test('directories (recursive, sorted, data files only) and globs', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'web', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'web', 'b.txt'), 'B');
  writeFileSync(join(dir, 'web', 'a.md'), 'A');
  writeFileSync(join(dir, 'web', 'deep', 'c.jsonl'), '{"text":"C"}\n');
  writeFileSync(join(dir, 'web', 'notes.csv'), 'x,y');
  assert.deepEqual(await collect(readSource({ name: 'w', path: join(dir, 'web') })), ['A', 'B', 'C']);
  assert.deepEqual(expandPath(join(dir, 'web', '*.txt')), [join(dir, 'web', 'b.txt')]);
  assert.deepEqual(expandPath(join(dir, 'web', '**', '*.jsonl')), [join(dir, 'web', 'deep', 'c.jsonl')]);
  assert.deepEqual(expandPath(join(dir, 'web', '?.*')), [join(dir, 'web', 'a.md'), join(dir, 'web', 'b.txt')]);
  assert.throws(() => expandPath(join(dir, 'web', '*.parquet')), /the pattern matches no files/);
  assert.throws(() => expandPath(join(dir, 'missing.txt')), /missing\.txt: no such file or directory/);
  assert.equal(globToRegex('a/**/b').test('a/b'), true);
  assert.equal(globToRegex('a/*/b').test('a/x/y/b'), false);
});
