/**
 * The training loop: an interrupted and resumed run reproduces an uninterrupted one exactly (losses compared
 * with ===, dropout on), two micro-batches of B/2 equal one batch of B, a tiny model overfits a tiny corpus, the
 * metrics log holds the step and evaluation records, and --init-from starts a fresh run from saved weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/train/evaluate.ts';
import { train, type TrainOptions } from '../../src/train/trainer.ts';
import { corpus, fastConfig, runDir, tinyModel } from './helpers.ts';

const silent = { quiet: true } as const;

test('resume is bit-identical: 20 steps straight == 10 steps, stop, resume, 10 steps', async () => {
  const { tok, train: tr, val } = corpus();
  const model = tinyModel(tok.vocabSize, { dropout: 0.1 });
  const config = fastConfig({ steps: 20, evalInterval: 4, checkpointInterval: 3 });

  const straight: number[] = [];
  await train(
    { config, model, train: tr, val, out: runDir(), tokenizer: tok, ...silent },
    { onStep: (s) => void straight.push(s.loss) },
  );

  const out = runDir();
  const ac = new AbortController();
  const first: number[] = [];
  const r1 = await train(
    { config, model, train: tr, val, out, tokenizer: tok, signal: ac.signal, ...silent },
    {
      onStep: (s) => {
        first.push(s.loss);
        if (s.step === 10) ac.abort();
      },
    },
  );
  assert.equal(r1.stopped, true);
  assert.equal(r1.step, 10);
  const state = JSON.parse(readFileSync(join(out, 'checkpoints', 'latest', 'state.json'), 'utf8')) as { step: number };
  assert.equal(state.step, 10);

  const second: number[] = [];
  const r2 = await train(
    { config, train: tr, val, out, tokenizer: tok, resume: true, ...silent },
    { onStep: (s) => void second.push(s.loss) },
  );
  assert.equal(r2.step, 20);
  assert.equal(r2.stopped, false);
  assert.equal(straight.length, 20);
  assert.deepEqual([...first, ...second], straight);
  // resume: 'auto' continues a run that has a checkpoint (here: already complete) and starts one that has none.
  const again = await train(
    { config, train: tr, val, out, resume: 'auto', ...silent },
    { onStep: () => assert.fail('no steps left') },
  );
  assert.equal(again.step, 20);
  const fresh: number[] = [];
  await train(
    { config: { ...config, steps: 2 }, model, train: tr, val, out: runDir(), resume: 'auto', ...silent },
    { onStep: (s) => void fresh.push(s.loss) },
  );
  assert.equal(fresh.length, 2);
  assert.equal(fresh[0], straight[0]); // same seed, same first batch and initial weights
  // The resumed run's metrics continue the first run's without duplicates.
  const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(
    steps,
    [...steps].sort((a, b) => a - b),
  );
});

test('gradient accumulation: 2 micro-batches of B/2 give the same updates as one batch of B', async () => {
  const { tok, train: tr, val } = corpus();
  const model = tinyModel(tok.vocabSize);
  const base = { model, train: tr, val, ...silent };
  const one = await train({
    ...base,
    config: fastConfig({ steps: 6, batchSize: 8, gradAccum: 1, evalInterval: 0 }),
    out: runDir(),
  });
  const two = await train({
    ...base,
    config: fastConfig({ steps: 6, batchSize: 4, gradAccum: 2, evalInterval: 0 }),
    out: runDir(),
  });
  const a = new Map(one.model.namedParameters());
  let maxDiff = 0;
  for (const [name, p] of two.model.namedParameters()) {
    const q = a.get(name)!;
    for (let i = 0; i < p.size; i++) maxDiff = Math.max(maxDiff, Math.abs(p.data[i]! - q.data[i]!));
  }
  assert.ok(maxDiff < 1e-5, `max weight difference ${maxDiff}`);
  const l1 = evaluate(one.model, val, 4, 16, 2, 1).loss;
  const l2 = evaluate(two.model, val, 4, 16, 2, 1).loss;
  assert.ok(Math.abs(l1 - l2) < 1e-5, `validation losses ${l1} vs ${l2}`);
});

test('a tiny model overfits a tiny corpus and samples the text', async () => {
  const { tok, train: tr, val } = corpus();
  const out = runDir();
  const samples: string[] = [];
  const r = await train(
    {
      config: fastConfig({ steps: 150, warmup: 10, lr: 1e-2, minLr: 1e-3, evalInterval: 150, batchSize: 8 }),
      model: tinyModel(tok.vocabSize),
      train: tr,
      val,
      out,
      tokenizer: tok,
      ...silent,
    },
    {
      onEval: (e) => void samples.push(e.sample!),
    },
  );
  assert.ok(r.lastEval!.loss < 0.5, `validation loss ${r.lastEval!.loss} after 150 steps`);
  assert.equal(samples.length, 2); // step 0 and step 150
  assert.match(samples[1]!, /(cat|dog|sat|mat|log)/);
});

test('metrics.jsonl: step records with loss, lr, grad_norm, tokens/s, mfu; eval records with val_loss, ppl, bpb, sample', async () => {
  const { tok, train: tr, val } = corpus();
  const out = runDir();
  await train({
    config: fastConfig({ steps: 10, evalInterval: 5, logInterval: 5 }),
    model: tinyModel(tok.vocabSize),
    train: tr,
    val,
    out,
    tokenizer: tok,
    ...silent,
  });
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const evals = lines.filter((l) => 'val_loss' in l);
  const steps = lines.filter((l) => 'loss' in l);
  assert.deepEqual(
    evals.map((l) => l.step),
    [0, 5, 10],
  );
  assert.deepEqual(
    steps.map((l) => l.step),
    [1, 5, 10],
  );
  for (const l of steps)
    for (const k of ['loss', 'lr', 'grad_norm', 'tokens_per_s', 'mfu'])
      assert.equal(typeof l[k], 'number', `${k} in ${JSON.stringify(l)}`);
  for (const l of evals) {
    assert.ok(Math.abs((l.ppl as number) - Math.exp(l.val_loss as number)) < 1e-9);
    assert.ok(Math.abs((l.bpb as number) - (l.val_loss as number) / Math.LN2) < 1e-9); // 1 byte per character
    assert.equal(typeof l.sample, 'string');
  }
  assert.ok(existsSync(join(out, 'checkpoints', 'best', 'model.safetensors')));
  assert.ok(existsSync(join(out, 'checkpoints', 'latest', 'tokenizer', 'char-tokenizer.json')));
});

test('--init-from starts a new run at step 0 with the saved weights and a fresh optimizer', async () => {
  const { tok, train: tr, val } = corpus();
  const src = runDir();
  const config = fastConfig({ steps: 10, evalInterval: 0 });
  const first = await train({ config, model: tinyModel(tok.vocabSize), train: tr, val, out: src, ...silent });
  const before = evaluate(first.model, val, 4, 16, 2, config.evalSeed).loss;

  const evals: number[] = [];
  const stepsSeen: number[] = [];
  const opts: TrainOptions = {
    config: fastConfig({ steps: 3, evalInterval: 3 }),
    train: tr,
    val,
    out: runDir(),
    initFrom: src,
    ...silent,
  };
  const r = await train(opts, { onEval: (e) => void evals.push(e.loss), onStep: (s) => void stepsSeen.push(s.step) });
  assert.deepEqual(stepsSeen, [1, 2, 3]);
  assert.equal(evals[0], before); // the step-0 evaluation sees exactly the source weights
  const state = JSON.parse(readFileSync(join(r.checkpointDir, 'state.json'), 'utf8')) as {
    step: number;
    run: { initFrom: string };
  };
  assert.equal(state.step, 3);
  assert.equal(state.run.initFrom, src);
  // A requested model that differs from the saved one is an error naming config.json.
  await assert.rejects(
    train({ ...opts, out: runDir(), model: tinyModel(tok.vocabSize, { nLayer: 3 }) }),
    /config\.json: --init-from model differs .*nLayer 2 vs 3/,
  );
});
