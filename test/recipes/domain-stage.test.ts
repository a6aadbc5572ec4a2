/**
 * The `domain` recipe stage on a tiny random base with a character tokenizer: the stage writes domain-report.json
 * and a model that loads, logs the before/after table, a rerun skips it, and a bad parameter is an error when the
 * recipe is checked, before anything runs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DomainReport } from '../../src/finetune/domain-report.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { parseRecipe } from '../../src/recipes/recipe.ts';
import { runRecipe } from '../../src/recipes/runner.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';

registerBuiltinStages();

const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(30);

test('domain stage: report, loadable model, logged table; a rerun skips it; bad parameters fail early', async () => {
  const dir = tempDir('domain-stage');
  const tok = CharTokenizer.fromText(TEXT);
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize: 32,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(6),
    ),
  );
  saveTextTokenizer(base, tok);
  const data = join(dir, 'domain.txt');
  writeFileSync(data, TEXT);
  const out = join(dir, 'run');
  const recipe = (lr = '0.003'): string => `out: ${out}
stages:
  - {name: adapt, type: domain, model: ${base}, data: ${data}, steps: 20, batchSize: 8, warmup: 2, lr: ${lr}, evalInterval: 10, evalIters: 2, samplePrompt: ""}
`;
  const lines: string[] = [];
  await runRecipe(parseRecipe(recipe(), 'r.yaml'), { log: (l) => lines.push(l), quiet: true });
  const report = JSON.parse(readFileSync(join(out, 'adapt', 'domain-report.json'), 'utf8')) as DomainReport;
  assert.equal(report.training.steps, 20);
  assert.equal(report.general, null);
  assert.ok(
    report.domain.after.ppl < report.domain.before.ppl,
    `${report.domain.before.ppl} -> ${report.domain.after.ppl}`,
  );
  assert.ok(
    lines.some((l) => /^domain +tail 10% of /.test(l)),
    lines.join('\n'),
  );
  assert.ok(existsSync(join(out, 'adapt', 'checkpoints', 'best', 'config.json')));
  assert.equal(loadModelDir(join(out, 'adapt')).modelDir, join(out, 'adapt', 'checkpoints', 'best'));

  const again: string[] = [];
  await runRecipe(parseRecipe(recipe(), 'r.yaml'), { log: (l) => again.push(l), quiet: true });
  assert.ok(
    again.some((l) => l.includes('skip adapt (complete)')),
    again.join('\n'),
  );

  assert.throws(() => parseRecipe(recipe('-1'), 'r.yaml'), /lr must be a positive number, received -1/);
});
