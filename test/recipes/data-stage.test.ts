/**
 * The recipe `data` stage with a mixture: `sources` mixes an earlier corpus stage with a text file by weight,
 * `trainTokenizer` trains the tokenizer on the cleaned mixture, and a later model stage takes that tokenizer
 * (`tokenizer: <data stage>`). Mistakes (both corpus and sources, neither tokenizer nor trainTokenizer, a bad
 * weight, an unknown key, a source naming a later stage, a source that is neither an earlier stage nor a file) are
 * one error naming the field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readModelConfig } from '../../src/models/model-io.ts';
import { parseRecipe } from '../../src/recipes/recipe.ts';
import { runRecipe } from '../../src/recipes/runner.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';
import { loadTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { UserError } from '../../src/util/user-error.ts';

registerBuiltinStages();
const dir = mkdtempSync(join(tmpdir(), 'llmforge-data-stage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const poem = join(dir, 'poem.txt');
writeFileSync(
  poem,
  Array.from(
    { length: 60 },
    (_, i) => `Shall I compare thee to a summer's day, verse ${i}?\nThou art more lovely and more temperate.`,
  ).join('\n\n'),
);

function recipe(data: string, out: string): string {
  return `out: ${out}
seed: 1
stages:
  - name: corpus
    type: corpus
    documents: 120
  - name: data
    type: data
${data}
    clean: {dedup: false, nearDedup: false, filters: false}
  - name: model
    type: model
    tokenizer: data
    preset: toy
    config: {blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16}
`;
}

const MIX = `    sources:
      toy: {corpus: corpus, weight: 1}
      poem: {corpus: ${poem}, paragraphs: true, weight: 3}
    trainTokenizer: 300`;

test('data stage: sources mix a corpus stage and a file by weight; trainTokenizer feeds the model stage', async () => {
  const out = join(dir, 'mix');
  const lines: string[] = [];
  await runRecipe(parseRecipe(recipe(MIX, out), 'mix.yaml'), { log: (l) => lines.push(l), quiet: true });
  const meta = JSON.parse(readFileSync(join(out, 'data', 'meta.json'), 'utf8')) as {
    vocabSize: number;
    sources: { name: string; share: number; documents: number }[];
  };
  assert.deepEqual(
    meta.sources.map((s) => s.name),
    ['toy', 'poem'],
  );
  assert.equal(meta.sources[1]!.documents, 60); // one document per paragraph
  assert.ok(Math.abs(meta.sources[1]!.share - 0.75) < 0.02, `poem share ${meta.sources[1]!.share}`);
  assert.equal(meta.vocabSize, 300);
  assert.equal(loadTextTokenizer(join(out, 'data', 'tokenizer')).vocabSize, 300);
  assert.equal(readModelConfig(join(out, 'model')).config.vocabSize, 300);
  assert.ok(
    lines.some((l) => /mixture: toy \d+\.\d% of training tokens, poem 7\d\.\d% of training tokens/.test(l)),
    lines.join('\n'),
  );
});

test('data stage: mixture mistakes are one error naming the field', async () => {
  const bad = (data: string) => () => parseRecipe(recipe(data, join(dir, 'bad')), 'bad.yaml');
  assert.throws(bad(`    corpus: corpus\n${MIX}`), /stages\[1\].*either corpus \(one source\) or sources/);
  assert.throws(bad(`    corpus: corpus`), /stages\[1\].*either tokenizer .* or trainTokenizer/);
  assert.throws(
    bad(MIX.replace('weight: 3', 'weight: -1')),
    /sources\.poem\.weight: expected a number > 0, received -1/,
  );
  assert.throws(
    bad(MIX.replace('paragraphs: true', 'paragraph: true')),
    /sources\.poem\.paragraph: unknown key; valid keys: corpus, field, paragraphs, weight/,
  );
  assert.throws(
    bad(MIX.replace('trainTokenizer: 300', 'trainTokenizer: 100')),
    /trainTokenizer: expected a vocabulary size of at least 257, received 100/,
  );
  assert.throws(
    bad(MIX.replace('corpus: corpus,', 'corpus: model,')),
    /sources\.toy\.corpus.*stage "model" must come before stage "data"/,
  );
  const missing = parseRecipe(recipe(MIX.replace(poem, join(dir, 'nope.txt')), join(dir, 'missing')), 'missing.yaml');
  await assert.rejects(
    runRecipe(missing, { log: () => {}, quiet: true }),
    (e: Error) => e instanceof UserError && e.message.includes('nope.txt'),
  );
});
