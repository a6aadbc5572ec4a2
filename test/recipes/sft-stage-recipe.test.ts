/**
 * recipes/assistant.yaml: `llmforge run --dry-run` accepts it and lists its stages (toy-world pretraining with a
 * 128-token context, then sft on toy-world instructions, then chat-sample); the chat-sample questions are
 * held-out phrasings, never among the training questions; `--set sftTrain=lora` is accepted and a bad mode is one
 * error line before any stage runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { toyInstructions } from '../../src/data/toy-instructions.ts';
import { loadRecipe } from '../../src/recipes/recipe.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';

registerBuiltinStages();

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

test('recipes/assistant.yaml parses; its questions are held out; --dry-run lists the stages; bad sftTrain fails early', () => {
  const recipe = loadRecipe('recipes/assistant.yaml', { set: ['sftTrain=lora'] });
  assert.deepEqual(
    recipe.stages.map((s) => s.type),
    ['corpus', 'tokenizer', 'data', 'model', 'pretrain', 'sft', 'chat-sample'],
  );
  const byName = new Map(recipe.stages.map((s) => [s.name, s.params]));
  assert.equal((byName.get('model')!.config as { blockSize: number }).blockSize, 128);
  assert.equal(byName.get('pretrain')!.context, 128);
  assert.equal(byName.get('sft')!.train, 'lora');
  const trained = new Set(toyInstructions(0).train.map((r) => r.instruction));
  const held = new Set(toyInstructions(0).heldOut.map((r) => r.instruction));
  for (const q of byName.get('answers')!.questions as string[]) assert.ok(held.has(q) && !trained.has(q), q);

  const dry = cli('run', 'recipes/assistant.yaml', '--dry-run');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /stages corpus -> tokenizer -> data -> model -> pretrain -> sft -> answers/);
  const bad = cli('run', 'recipes/assistant.yaml', '--set', 'sftTrain=head', '--dry-run');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^error: .*sft stage "sft": train must be all or lora, received "head" \(line \d+\)\n$/);
});
