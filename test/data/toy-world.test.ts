/**
 * The toy-world corpus: the same seed gives the same documents, another seed different ones; every fact appears
 * in every trained phrasing at the default size; held-out probe phrasings never occur in the corpus; the file
 * writer keeps documents intact in .jsonl and one per line in .txt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ANIMAL_SOUNDS,
  CAPITALS,
  generateToyWorld,
  SUN_FACTS,
  THING_COLOURS,
  toyWorldProbes,
  writeToyWorld,
} from '../../src/data/toy-world.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('generation is deterministic per seed', () => {
  const a = generateToyWorld({ documents: 200, seed: 3 });
  assert.equal(a.length, 200);
  assert.deepEqual(generateToyWorld({ documents: 200, seed: 3 }), a);
  assert.notDeepEqual(generateToyWorld({ documents: 200, seed: 4 }), a);
  // A prefix of a longer corpus is the shorter corpus.
  assert.deepEqual(generateToyWorld({ documents: 50, seed: 3 }), a.slice(0, 50));
});

test('the fact tables are real and consistent', () => {
  assert.ok(CAPITALS.length >= 30);
  const capitals = new Map(CAPITALS.map((c) => [c.country, c.capital]));
  assert.equal(capitals.get('France'), 'Paris');
  assert.equal(capitals.get('Italy'), 'Rome');
  assert.equal(capitals.get('Japan'), 'Tokyo');
  assert.equal(capitals.size, CAPITALS.length, 'countries are unique');
  assert.equal(new Set(CAPITALS.map((c) => c.capital)).size, CAPITALS.length, 'capitals are unique');
  assert.equal(new Set(ANIMAL_SOUNDS.map((a) => a.animal)).size, ANIMAL_SOUNDS.length);
  assert.deepEqual(
    SUN_FACTS.map((s) => `${s.verb} ${s.direction}`),
    ['rises east', 'sets west'],
  );
});

test('every probe in a trained phrasing occurs in the default corpus, followed by its answer', () => {
  const text = generateToyWorld().join('\n');
  const probes = toyWorldProbes({ heldOut: false });
  assert.equal(
    probes.length,
    CAPITALS.length * 5 + ANIMAL_SOUNDS.length * 4 + THING_COLOURS.length * 3 + SUN_FACTS.length * 3,
  );
  for (const p of probes) {
    const needle = `${p.prompt} ${p.answer}.`;
    let count = 0;
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) count++;
    assert.ok(count >= 3, `"${needle}" occurs ${count} times`);
    // The prompt is never followed by a wrong answer.
    const re = new RegExp(`${p.prompt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (\\w+)`, 'g');
    for (const m of text.matchAll(re)) assert.equal(m[1], p.answer, `"${p.prompt}" followed by "${m[1]}"`);
  }
  assert.match(
    text,
    /Once upon a time, an? \w+ \w+ lived in \w+, the capital of \w+\. Every morning the \w+ said \w+\./,
  );
  assert.match(text, /Q: What is the capital of \w+\?\nA: The capital of \w+ is \w+\./);
});

test('held-out phrasings never occur in the corpus', () => {
  const text = generateToyWorld().join('\n');
  const held = toyWorldProbes({ heldOut: true });
  assert.ok(held.length > 0 && held.every((p) => p.heldOut));
  for (const p of held) assert.ok(!text.includes(p.prompt), `"${p.prompt}" occurs in the corpus`);
  const france = held.filter((p) => p.prompt.includes('France'));
  assert.ok(france.length > 0 && france.every((p) => p.answer === 'Paris'));
});

test('writeToyWorld: .jsonl keeps documents, .txt has one per line', () => {
  const dir = tempDir('toy');
  const docs = generateToyWorld({ documents: 40, seed: 1 });
  assert.ok(
    docs.some((d) => d.includes('\n')),
    'some dialogue has two turns',
  );
  const jsonl = writeToyWorld(join(dir, 'c.jsonl'), { documents: 40, seed: 1 });
  assert.equal(jsonl.documents, 40);
  const lines = readFileSync(jsonl.path, 'utf8').trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { text: string }).text),
    docs,
  );
  assert.equal(readFileSync(jsonl.path).length, jsonl.bytes);
  const txt = writeToyWorld(join(dir, 'c.txt'), { documents: 40, seed: 1 });
  assert.deepEqual(
    readFileSync(txt.path, 'utf8').trimEnd().split('\n'),
    docs.map((d) => d.replace(/\n/g, ' ')),
  );
  assert.throws(() => generateToyWorld({ documents: 0 }), /documents must be a positive integer, received 0/);
});
