/**
 * The toy world's multiple-choice test: one item per fact probe, the probe's answer at the item's answer index,
 * wrong choices of the same sort (capitals with capitals, countries with countries, directions with directions),
 * all distinct, categories per kind and phrasing, and the same items for the same seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toyWorldMcItems } from '../../src/data/toy-world-mc.ts';
import { CAPITALS, toyWorldProbes } from '../../src/data/toy-world.ts';

test('every probe becomes an item with its answer and same-sort distractors, deterministically', () => {
  const probes = toyWorldProbes();
  const items = toyWorldMcItems();
  assert.equal(items.length, probes.length);
  const capitals = new Set(CAPITALS.map((c) => c.capital));
  const countries = new Set(CAPITALS.map((c) => c.country));
  items.forEach((it, i) => {
    const p = probes[i]!;
    assert.equal(it.question, p.prompt);
    assert.equal(it.choices[it.answer], p.answer);
    assert.equal(it.choices.length, 4);
    assert.equal(new Set(it.choices).size, 4);
    assert.equal(it.category, p.heldOut ? `${p.kind} held-out` : p.kind);
    if (p.kind === 'capital')
      assert.ok(
        it.choices.every((c) => (capitals.has(p.answer) ? capitals : countries).has(c)),
        JSON.stringify(it),
      );
    if (p.kind === 'sun') assert.deepEqual([...it.choices].sort(), ['east', 'north', 'south', 'west']);
  });
  assert.deepEqual(toyWorldMcItems(), items);
  assert.notDeepEqual(toyWorldMcItems({ seed: 12 }), items);
  // The answer's position is spread over the four slots, not always first.
  const slots = [0, 1, 2, 3].map((k) => items.filter((it) => it.answer === k).length);
  assert.ok(
    slots.every((n) => n > items.length / 8),
    String(slots),
  );
  assert.equal(toyWorldMcItems({ choices: 2 })[0]!.choices.length, 2);
});
