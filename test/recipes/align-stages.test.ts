/**
 * The `reward`, `dpo`, `ppo` and `eval-mc` recipe stages at a tiny size through one recipe (24 synthetic preference
 * pairs from test/helpers/tiny-instructions.ts, a one-layer random GPT-2 base with a BPE tokenizer trained in the
 * test): each stage writes its artifacts, eval-mc's report agrees with scoring the PPO model directly, and a rerun
 * skips every stage. A run interrupted once inside each training stage (the log callback throws after a
 * checkpoint) resumes each from its checkpoint and ends with the same weights and reports as a run straight
 * through. Parameter mistakes are one line naming the stage and field, and `llmforge run recipes/align.yaml
 * --dry-run` lists the stages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scoreMultipleChoice } from '../../src/eval/multiple-choice.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { parseRecipe } from '../../src/recipes/recipe.ts';
import { runRecipe } from '../../src/recipes/runner.ts';
import { registerBuiltinStages } from '../../src/recipes/stages/index.ts';
import { Rng } from '../../src/tensor/random.ts';
import { saveTokenizer } from '../../src/tokenizer/hf-json.ts';
import { trainBpe, WordCounter } from '../../src/tokenizer/train-bpe.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { syntheticInstructions } from '../helpers/tiny-instructions.ts';
import { UserError } from '../../src/util/user-error.ts';

registerBuiltinStages();

const ITEMS = [
  { context: 'The capital of France is', choices: [' Paris', ' Rome', ' Oslo'], answer: 0, category: 'capital' },
  { context: 'The cow says', choices: [' moo', ' quack'], answer: 0, category: 'sound' },
  { context: 'The sun rises in the', choices: [' west', ' east', ' north'], answer: 1, category: 'sun' },
];

/** 24 preference pairs, three multiple-choice items and a random one-layer base whose tokenizer has an EOS. */
function setup(dir: string): { data: string; base: string; items: string } {
  const records = syntheticInstructions(24, 3);
  const data = join(dir, 'prefs.json');
  writeFileSync(data, JSON.stringify(records));
  const items = join(dir, 'items.jsonl');
  writeFileSync(items, ITEMS.map((it) => `${JSON.stringify(it)}\n`).join(''));
  const counter = new WordCounter('gpt2');
  counter.add(
    records
      .map((r) => `${r.instruction} ${r.input} ${r.chosen} ${r.rejected} <|im_start|>user assistant<|im_end|>`)
      .join('\n'),
  );
  const tok = trainBpe(counter.counts, {
    vocabSize: 400,
    minFrequency: 2,
    specialTokens: ['<|endoftext|>'],
    pretokenizer: 'gpt2',
  });
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize: 96,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTokenizer(base, tok);
  return { data, base, items };
}

function recipe(out: string, s: { data: string; base: string; items: string }, ppoExtra = ''): string {
  return `out: ${out}
seed: 1
stages:
  - {name: rm, type: reward, model: ${s.base}, data: ${s.data}, valFrac: 0.25, batchSize: 3, epochs: 1, lr: 0.001, evalEvery: 2, precision: fp32}
  - {name: pref, type: dpo, model: ${s.base}, data: ${s.data}, valFrac: 0.25, steps: 6, batchSize: 3, lr: 0.001, evalEvery: 2, precision: fp32}
  - {name: rl, type: ppo, model: pref, reward: rm, data: ${s.data}, iterations: 3, batchSize: 4, miniBatchSize: 2, ppoEpochs: 2, maxNewTokens: 6, valPrompts: 4, sampleEvery: 0, saveEvery: 1, lr: 0.001, precision: fp32${ppoExtra}}
  - {name: mc, type: eval-mc, model: rl, data: ${s.items}}
`;
}

const read = (path: string): Buffer => readFileSync(path);

test('reward, dpo, ppo and eval-mc stages: artifacts, a report that matches direct scoring, rerun skips', async () => {
  const dir = tempDir('align-stages');
  const s = setup(dir);
  const out = join(dir, 'run');
  const lines: string[] = [];
  await runRecipe(parseRecipe(recipe(out, s), 'r.yaml'), { log: (l) => lines.push(l), quiet: true });
  const text = lines.join('\n');
  assert.match(text, /data 24 pairs: train 18, held out 6; template chatml/);
  assert.match(text, /step 6\/6: train loss \d\.\d{4} \| held out: /);
  assert.match(
    text,
    /dpo: 18 train \/ 6 held-out pairs, template chatml, loss sigmoid, beta 0\.1, 3 pairs per step, 6 steps, lr 0\.001/,
  );
  assert.match(text, /held-out pairs after 6 steps: loss \d\.\d{4} \(0\.6931 at the start\), reward accuracy \d+\.\d%/);
  assert.match(
    text,
    /ppo: 20 train \/ 4 held-out prompts, template chatml, reward model .*rm.*, 4 responses per iteration of up to 6 tokens/,
  );
  assert.match(text, /iter 3\/3: reward -?\d+\.\d{3} \| kl /);
  assert.match(text, /held-out prompts \(4\): mean reward -?\d+\.\d{3} after 3 iterations/);
  assert.match(text, /acc {7}\d\/3 = \d+\.\d% {2}95% CI \[\d+\.\d, \d+\.\d\]/);
  assert.match(text, /chance {4}38\.9%/);
  for (const f of [
    'rm/checkpoints/best/config.json',
    'rm/metrics.jsonl',
    'rm/eval.json',
    'pref/model/config.json',
    'pref/metrics.jsonl',
    'pref/eval.json',
    'rl/model/config.json',
    'rl/metrics.jsonl',
    'rl/eval.json',
    'mc/report.json',
  ])
    assert.ok(existsSync(join(out, f)), f);
  const rm = JSON.parse(readFileSync(join(out, 'rm', 'eval.json'), 'utf8')) as {
    steps: number;
    val: { pairs: number };
  };
  assert.deepEqual([rm.steps, rm.val.pairs], [6, 6]);
  const ppoEval = JSON.parse(readFileSync(join(out, 'rl', 'eval.json'), 'utf8')) as {
    iterations: number;
    heldOut: { prompts: number };
  };
  assert.deepEqual([ppoEval.iterations, ppoEval.heldOut.prompts], [3, 4]);
  // The report is the PPO model's own multiple-choice score.
  const report = JSON.parse(readFileSync(join(out, 'mc', 'report.json'), 'utf8')) as {
    n: number;
    correct: number;
    accuracy: number;
    categories: { category: string; n: number }[];
  };
  const { model, tokenizer } = loadModelDir(join(out, 'rl', 'model'));
  const direct = scoreMultipleChoice(model, tokenizer, ITEMS);
  assert.deepEqual([report.n, report.correct, report.accuracy], [3, direct.correct, direct.accuracy]);
  assert.deepEqual(
    report.categories.map((c) => [c.category, c.n]),
    [
      ['capital', 1],
      ['sound', 1],
      ['sun', 1],
    ],
  );

  const again: string[] = [];
  await runRecipe(parseRecipe(recipe(out, s), 'r.yaml'), { log: (l) => again.push(l), quiet: true });
  assert.deepEqual(
    again.filter((l) => l.startsWith('skip')),
    ['skip rm (complete)', 'skip pref (complete)', 'skip rl (complete)', 'skip mc (complete)'],
  );
});

test('an interrupted reward, dpo or ppo stage resumes from its checkpoint and ends as a straight run', async () => {
  const dir = tempDir('align-resume');
  const s = setup(dir);
  const straight = join(dir, 'straight');
  await runRecipe(parseRecipe(recipe(straight, s), 'r.yaml'), { log: () => {}, quiet: true });
  const out = join(dir, 'interrupted');
  // Each pattern is a log line written after a checkpoint (reward: at the second evaluation, before its save).
  const stops = [/^step 4\/6: train loss/, /^step 4: train/, /^iter 2\/3:/];
  const resumed: string[] = [];
  const checkpoints: string[] = [];
  let interruptions = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await runRecipe(parseRecipe(recipe(out, s), 'r.yaml'), {
        quiet: true,
        log: (l) => {
          if (l.startsWith('resuming the interrupted run')) resumed.push(l);
          const from = /resum(?:ed|ing) from .*\/(\w+)\/checkpoints\/latest at (step|iteration) (\d+)/.exec(l);
          if (from) checkpoints.push(`${from[1]} ${from[2]} ${from[3]}`);
          const at = stops.findIndex((re) => re.test(l));
          if (at >= 0) {
            stops.splice(at, 1);
            throw new Error(`interrupted at "${l}"`);
          }
        },
      });
      break;
    } catch (e) {
      assert.match((e as Error).message, /^interrupted at/);
      interruptions++;
    }
  }
  assert.equal(interruptions, 3);
  assert.deepEqual(
    resumed.map((l) => l.split('/').pop()),
    ['rm', 'pref', 'rl'],
  );
  // Each resumed from its checkpoint, not from the start (which would also end equal: the runs are deterministic).
  assert.deepEqual(checkpoints, ['rm step 2', 'pref step 4', 'rl iteration 2']);
  for (const f of [
    'rm/checkpoints/latest/model.safetensors',
    'pref/model/model.safetensors',
    'rl/model/model.safetensors',
    'rl/model/value-head.safetensors',
  ]) {
    assert.ok(read(join(out, f)).equals(read(join(straight, f))), `${f} differs from the straight run`);
  }
  const strip = (p: string): unknown => ({ ...(JSON.parse(readFileSync(p, 'utf8')) as object), model: '' });
  assert.deepEqual(strip(join(out, 'mc', 'report.json')), strip(join(straight, 'mc', 'report.json')));
  assert.deepEqual(strip(join(out, 'rl', 'eval.json')), strip(join(straight, 'rl', 'eval.json')));
});

test('parameter mistakes are one line naming the stage and field; align.yaml --dry-run lists its stages', () => {
  const dir = tempDir('align-errors');
  const s = { data: 'p.json', base: 'b', items: 'i.jsonl' };
  const bad: [string, RegExp][] = [
    [
      ', temperature: 0',
      /^r\.yaml: stages\[2\]: ppo stage "rl": temperature must be a positive number, received 0 \(line \d+\)$/,
    ],
    [', gamma: 2', /^r\.yaml: stages\[2\]: ppo stage "rl": gamma must be in \[0, 1\], received 2 \(line \d+\)$/],
    [
      ', template: plain',
      /^r\.yaml: stages\[2\]: ppo stage "rl": template must be one of alpaca, chatml, model, received "plain" \(line \d+\)$/,
    ],
    [', klCoef: -1', /^r\.yaml: stages\[2\]\.klCoef: .*-1.* \(line \d+\)$/],
  ];
  for (const [extra, re] of bad) {
    assert.throws(
      () => parseRecipe(recipe(join(dir, 'x'), s, extra), 'r.yaml'),
      (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'), e.message);
        return true;
      },
    );
  }
  const dpo = recipe(join(dir, 'x'), s).replace('steps: 6,', 'steps: 6, loss: hinge,');
  assert.throws(
    () => parseRecipe(dpo, 'r.yaml'),
    /^RecipeError: r\.yaml: stages\[1\]: dpo stage "pref": loss must be sigmoid or ipo, received "hinge" \(line \d+\)$/,
  );
  const rm = recipe(join(dir, 'x'), s).replace('epochs: 1,', 'epochs: 1, train: some,');
  assert.throws(
    () => parseRecipe(rm, 'r.yaml'),
    /reward stage "rm": train must be one of all, last-k, head, lora, received "some"/,
  );
  const r = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'run', 'recipes/align.yaml', '--dry-run', '--set', `out=${join(dir, 'dry')}`],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /stages corpus -> tokenizer -> data -> model -> pretrain -> sft -> reward -> dpo -> ppo -> sft-mc -> dpo-mc -> ppo-mc -> dpo-answers -> ppo-answers/,
  );
  for (const line of [
    'run reward (reward): model="sft"',
    'run dpo (dpo): model="sft"',
    'run ppo (ppo): model="sft" reward="reward"',
    'run dpo-mc (eval-mc): model="dpo"',
    'run ppo-answers (chat-sample): model="ppo"',
  ])
    assert.ok(r.stdout.includes(line), line);
  assert.ok(!existsSync(join(dir, 'dry')));
});
