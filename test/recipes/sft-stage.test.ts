/**
 * The `sft` and `chat-sample` recipe stages on a tiny random base (BPE tokenizer trained in the test, with an EOS):
 * SFT on a handful of chat records writes <stage>/model, eval.json and responses.jsonl; `loadModelDir` opens the
 * stage directory itself as that model; the training loss falls; the chat-sample stage answers from it; a rerun
 * skips both; a LoRA run writes the adapter beside the merged model; bad parameters fail when the recipe loads.
 * Also: the toy-world data option writes its train and held-out files, and a directory with a `model/` subdirectory
 * but no SFT marker does not resolve to it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModelDir, resolveModelDir } from '../../src/generate/model-dir.ts';
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

registerBuiltinStages();

const PAIRS = [
  ['hi', 'hello'],
  ['bye', 'see you'],
  ['one', 'two'],
  ['sky', 'blue'],
  ['sun', 'hot'],
  ['sea', 'wet'],
];

/** A random 1-layer GPT with a small BPE tokenizer (EOS `<|endoftext|>`) over the records' words. */
function tinyBase(dir: string, blockSize = 48): string {
  const counter = new WordCounter('gpt2');
  counter.add(`${PAIRS.flat().join(' ')} <|im_start|>user assistant<|im_end|>\n`.repeat(3));
  const tok = trainBpe(counter.counts, {
    vocabSize: 300,
    minFrequency: 1,
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
        blockSize,
        nLayer: 1,
        nHead: 2,
        nEmbd: 16,
        dropout: 0,
      }),
      new Rng(3),
    ),
  );
  saveTokenizer(base, tok);
  return base;
}

function writeRecords(path: string, pairs: readonly string[][]): void {
  writeFileSync(
    path,
    pairs
      .map(
        ([q, a]) =>
          `${JSON.stringify({
            messages: [
              { role: 'user', content: q },
              { role: 'assistant', content: a },
            ],
          })}\n`,
      )
      .join(''),
  );
}

test('sft stage: model, eval.json, responses; the stage dir loads as the model; chat-sample answers; rerun skips; lora', async () => {
  const dir = tempDir('sft-stage');
  const base = tinyBase(dir);
  const data = join(dir, 'train.jsonl');
  const heldOut = join(dir, 'heldout.jsonl');
  writeRecords(data, PAIRS);
  writeRecords(heldOut, PAIRS.slice(0, 2));
  const out = join(dir, 'run');
  const recipe = (extra = '', train = 'all'): string => `out: ${out}
stages:
  - {name: tune, type: sft, model: ${base}, data: ${data}, eval: ${heldOut}, train: ${train}, steps: 12, batchSize: 3, lr: 0.01, warmup: 2, evalEvery: 6, evalResponses: 2, maxNewTokens: 4, show: 1${extra}}
  - {name: ask, type: chat-sample, model: tune, questions: [hi, sky], expect: [hello, blue], maxTokens: 4}
`;
  const lines: string[] = [];
  await runRecipe(parseRecipe(recipe(), 'r.yaml'), { log: (l) => lines.push(l), quiet: true });
  const text = lines.join('\n');
  assert.match(text, /training all: trainable [\d,]+ of [\d,]+ parameters \(100\.00%\)/);
  assert.match(text, /2 held-out answers: exact match \d+\.\d%, ROUGE-L \d\.\d{3}/);
  const tune = join(out, 'tune');
  for (const f of [
    'model/config.json',
    'model/model.safetensors',
    'model/tokenizer.json',
    'eval.json',
    'responses.jsonl',
    'metrics.jsonl',
  ])
    assert.ok(existsSync(join(tune, f)), f);
  const evalJson = JSON.parse(readFileSync(join(tune, 'eval.json'), 'utf8')) as {
    steps: number;
    responses: number;
    trainLoss: number;
    template: string;
  };
  assert.deepEqual([evalJson.steps, evalJson.responses, evalJson.template], [12, 2, 'chatml']);
  const losses = readFileSync(join(tune, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { loss: number }).loss);
  assert.equal(losses.length, 12);
  assert.ok(losses[11]! < losses[0]!, `loss ${losses[0]} -> ${losses[11]}`);
  // `--model <out>/<stage>` opens the tuned model (not checkpoints/latest), with its tokenizer.
  const loaded = loadModelDir(tune);
  assert.equal(loaded.modelDir, join(tune, 'model'));
  assert.equal(loaded.tokenizerDir, join(tune, 'model'));
  const answers = JSON.parse(readFileSync(join(out, 'ask', 'answers.json'), 'utf8')) as {
    template: string;
    answers: { question: string; answer: string; exactMatch: boolean }[];
  };
  assert.equal(answers.template, 'chatml');
  assert.deepEqual(
    answers.answers.map((a) => a.question),
    ['hi', 'sky'],
  );
  assert.match(text, /\d\/2 answered exactly as expected/);

  const again: string[] = [];
  await runRecipe(parseRecipe(recipe(), 'r.yaml'), { log: (l) => again.push(l), quiet: true });
  assert.ok(
    again.some((l) => l.includes('skip tune (complete)')) && again.some((l) => l.includes('skip ask (complete)')),
    again.join('\n'),
  );

  // LoRA: a changed stage reruns; the adapter is written beside the merged model, which loads as a plain model.
  const lora: string[] = [];
  await runRecipe(parseRecipe(recipe(', loraR: 2, loraTargets: [c_attn]', 'lora'), 'r.yaml'), {
    log: (l) => lora.push(l),
    quiet: true,
  });
  assert.ok(
    lora.some((l) => /^lora: r 2, alpha 16, dropout 0\.05 on 1 linears \(c_attn\)$/.test(l)),
    lora.join('\n'),
  );
  assert.ok(existsSync(join(tune, 'adapter', 'adapter_model.safetensors')));
  assert.equal(
    loadModelDir(tune)
      .model.namedParameters()
      .some(([n]) => n.includes('lora')),
    false,
  );

  assert.throws(
    () => parseRecipe(recipe(', template: vicuna'), 'r.yaml'),
    /sft stage "tune": template must be one of alpaca, chatml, model, received "vicuna"/,
  );
  assert.throws(
    () => parseRecipe(recipe('', 'head'), 'r.yaml'),
    /sft stage "tune": train must be all or lora, received "head"/,
  );
  assert.throws(
    () => parseRecipe(recipe().replace('expect: [hello, blue]', 'expect: [hello]'), 'r.yaml'),
    /expect must list one answer per question \(2\), received 1/,
  );
});

test('sft stage, data: toy-world: writes its train and held-out records and trains on them', async () => {
  const dir = tempDir('sft-toy');
  const base = tinyBase(dir, 128);
  const out = join(dir, 'run');
  await runRecipe(
    parseRecipe(
      `out: ${out}
stages:
  - {name: sft, type: sft, model: ${base}, data: toy-world, format: alpaca, template: chatml, steps: 2, batchSize: 2, evalResponses: 1, maxNewTokens: 2, show: 0, seed: 4}
`,
      'r.yaml',
    ),
    { log: () => {}, quiet: true },
  );
  const train = readFileSync(join(out, 'sft', 'train.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const held = readFileSync(join(out, 'sft', 'heldout.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.deepEqual([train.length, held.length], [216, 92]);
  assert.deepEqual(Object.keys(JSON.parse(train[0]!) as object), ['instruction', 'input', 'output']);
  assert.equal(
    (JSON.parse(readFileSync(join(out, 'sft', 'eval.json'), 'utf8')) as { template: string }).template,
    'chatml',
  );
});

test('model dir: a directory with model/ but no SFT marker is not taken for an SFT run', () => {
  const dir = tempDir('sft-resolve');
  const base = tinyBase(dir);
  const plain = join(dir, 'plain');
  mkdirSync(join(plain, 'model'), { recursive: true });
  saveModel(
    join(plain, 'model'),
    createModel(
      resolveModelConfig({ arch: 'gpt2', vocabSize: 300, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0 }),
      new Rng(1),
    ),
  );
  assert.throws(() => resolveModelDir(plain), /neither a model directory/);
  writeFileSync(join(plain, 'eval.json'), '{}');
  assert.equal(resolveModelDir(plain), join(plain, 'model'));
  assert.equal(resolveModelDir(base), base);
});
