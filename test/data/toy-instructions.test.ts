/**
 * Toy-world instruction data: the same seed gives the same records in the same order (another seed another
 * order, same set); the held-out questions never occur among the training questions and use no training
 * phrasing; every fact is asked; each record parses as an SFT record in both file formats.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSftRecords } from '../../src/chat/records.ts';
import { toyInstructions, writeInstructions } from '../../src/data/toy-instructions.ts';
import { CAPITALS, TOY_WORLD } from '../../src/data/toy-world.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('toy instructions: deterministic by seed, held-out phrasings disjoint from training, every fact covered', () => {
  const a = toyInstructions(1);
  assert.deepEqual(toyInstructions(1), a);
  const b = toyInstructions(2);
  assert.notDeepEqual(
    b.train.map((r) => r.instruction),
    a.train.map((r) => r.instruction),
  );
  assert.deepEqual(new Set(b.train.map((r) => r.instruction)), new Set(a.train.map((r) => r.instruction)));
  assert.equal(a.train.length, 216);
  assert.equal(a.heldOut.length, 92);
  assert.ok(a.train.every((r) => !r.heldOut) && a.heldOut.every((r) => r.heldOut));

  const trainQ = new Set(a.train.map((r) => r.instruction));
  assert.equal(trainQ.size, a.train.length, 'no duplicate training questions');
  for (const r of a.heldOut) assert.ok(!trainQ.has(r.instruction), r.instruction);
  // Phrasing templates: the question with its fact words blanked out; none is shared between the two sets.
  const facts = [
    ...TOY_WORLD.capitals.flatMap((f) => [f.country, f.capital]),
    ...TOY_WORLD.animals.flatMap((f) => [f.animal, f.sound]),
    ...TOY_WORLD.colours.flatMap((f) => [f.thing, f.colour]),
    'rises',
    'rise',
    'sets',
    'set',
  ];
  const words = new RegExp(`\\b(${facts.sort((x, y) => y.length - x.length).join('|')})\\b`, 'g');
  const shape = (q: string): string => q.replace(words, '_');
  const trainShapes = new Set(a.train.map((r) => shape(r.instruction)));
  for (const r of a.heldOut)
    assert.ok(!trainShapes.has(shape(r.instruction)), `held-out phrasing also trained: ${r.instruction}`);

  for (const f of CAPITALS) {
    assert.ok(
      a.train.some((r) => r.output === `The capital of ${f.country} is ${f.capital}.`),
      f.country,
    );
    assert.ok(
      a.heldOut.some((r) => r.instruction.includes(f.country) && r.output.endsWith(`${f.capital}.`)),
      f.country,
    );
  }
  const peru = a.train.find((r) => r.instruction === 'What is the capital of Peru?');
  assert.deepEqual(peru, {
    kind: 'capital',
    instruction: 'What is the capital of Peru?',
    output: 'The capital of Peru is Lima.',
    heldOut: false,
  });
  assert.ok(a.train.some((r) => r.instruction === 'What does the cow say?' && r.output === 'The cow says moo.'));
});

test('toy instructions: written as Alpaca or chat JSONL, both load as SFT records', () => {
  const dir = tempDir('toy-instr');
  const { heldOut } = toyInstructions(0);
  assert.equal(writeInstructions(join(dir, 'a.jsonl'), heldOut.slice(0, 5), 'alpaca'), 5);
  writeInstructions(join(dir, 'c.jsonl'), heldOut.slice(0, 5), 'chat');
  const alpaca = loadSftRecords(join(dir, 'a.jsonl'));
  assert.deepEqual(alpaca[0], {
    kind: 'alpaca',
    instruction: heldOut[0]!.instruction,
    input: '',
    output: heldOut[0]!.output,
  });
  const chat = loadSftRecords(join(dir, 'c.jsonl'));
  assert.deepEqual(chat[4], {
    kind: 'chat',
    messages: [
      { role: 'user', content: heldOut[4]!.instruction },
      { role: 'assistant', content: heldOut[4]!.output },
    ],
  });
});
