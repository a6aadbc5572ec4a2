/**
 * Kept snapshots (keepEvery / keepLast): checkpoints/step-<N> appear at multiples of keepEvery holding the weights
 * of a run stopped at that step, keepLast prunes the oldest, a resume keeps snapshots written before the
 * interruption (never rewriting them) and completes an interrupted snapshot write, and the run's checkpoint
 * listing (eval facts --checkpoints) gives them in step order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/eval/checkpoints.ts';
import { loadModel } from '../../src/models/model-io.ts';
import { train } from '../../src/train/trainer.ts';
import { corpus, fastConfig, runDir, tinyModel } from './helpers.ts';
import { UserError } from '../../src/util/user-error.ts';

const { tok, train: tr, val } = corpus();
const model = tinyModel(tok.vocabSize);
const silent = { quiet: true, write: () => {} } as const;
// A fixed decay horizon, so runs of different lengths share the learning-rate schedule.
const base = fastConfig({ lrDecaySteps: 12, evalInterval: 5, sampleTokens: 0 });

function weights(dir: string): Map<string, Float32Array | Float64Array> {
  return new Map(
    loadModel(dir)
      .namedParameters()
      .map(([n, p]) => [n, p.data]),
  );
}

function assertSameWeights(a: string, b: string): void {
  const wa = weights(a);
  const wb = weights(b);
  assert.deepEqual([...wa.keys()], [...wb.keys()]);
  for (const [n, d] of wa) assert.deepEqual(d, wb.get(n), `${a} vs ${b}: ${n}`);
}

const savedAt = (dir: string): string =>
  (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { savedAt: string }).savedAt;

test('snapshots at every keepEvery updates hold the weights of a run stopped at that step; listed in step order', async () => {
  const out = runDir();
  const kinds: string[] = [];
  await train(
    { config: { ...base, steps: 7, keepEvery: 3 }, model, train: tr, val, out, tokenizer: tok, ...silent },
    {
      onCheckpoint: (c) => void kinds.push(`${c.kind}@${c.step}`),
    },
  );
  const ck = join(out, 'checkpoints');
  assert.deepEqual(
    readdirSync(ck)
      .filter((n) => n.startsWith('step-'))
      .sort(),
    ['step-3', 'step-6'],
  );
  // The snapshot comes before latest at the same step (latest is saved at every snapshot step).
  assert.ok(
    kinds.indexOf('snapshot@3') >= 0 && kinds.indexOf('snapshot@3') < kinds.indexOf('latest@3'),
    kinds.join(' '),
  );
  assert.ok(kinds.includes('latest@6'));
  // No optimizer state in a snapshot; the tokenizer and state.json are there.
  assert.ok(!existsSync(join(ck, 'step-3', 'optimizer.safetensors')));
  assert.ok(existsSync(join(ck, 'step-3', 'tokenizer')));

  const stopped = runDir();
  await train({ config: { ...base, steps: 6 }, model, train: tr, val, out: stopped, tokenizer: tok, ...silent });
  assertSameWeights(join(ck, 'step-6'), join(stopped, 'checkpoints', 'latest'));

  // eval facts --checkpoints scores them in this order: by step, `best` (step 5 or 7) among them.
  const listed = listCheckpoints(out);
  assert.deepEqual(
    listed.filter((c) => c.name !== 'best').map((c) => `${c.name}:${c.step}`),
    ['step-3:3', 'step-6:6', 'latest:7'],
  );
  const steps = listed.map((c) => c.step!);
  assert.deepEqual(
    steps,
    [...steps].sort((x, y) => x - y),
  );
  assert.equal(listed.length, 4);
});

test('keepLast deletes the oldest snapshots beyond K and leaves no hidden leftovers', async () => {
  const out = runDir();
  await train({ config: { ...base, steps: 8, keepEvery: 2, keepLast: 2 }, model, train: tr, val, out, ...silent });
  assert.deepEqual(readdirSync(join(out, 'checkpoints')).sort(), ['best', 'latest', 'step-6', 'step-8']);
});

test('resume across snapshots: earlier ones stay untouched, an interrupted write is completed, results equal a straight run', async () => {
  const config = { ...base, steps: 10, keepEvery: 3 };
  const straight = runDir();
  await train({ config, model, train: tr, val, out: straight, ...silent });

  const out = runDir();
  const abort = new AbortController();
  const r1 = await train(
    { config, model, train: tr, val, out, signal: abort.signal, ...silent },
    {
      onStep: (s) => {
        if (s.step === 4) abort.abort();
      },
    },
  );
  assert.equal(r1.stopped, true);
  assert.equal(r1.step, 4);
  const ck = join(out, 'checkpoints');
  const kept3 = savedAt(join(ck, 'step-3'));
  // A crash in the middle of writing step-6 leaves only a hidden temporary directory...
  mkdirSync(join(ck, '.step-6.tmp-99999-0'));
  writeFileSync(join(ck, '.step-6.tmp-99999-0', 'config.json'), '{');
  assert.deepEqual(
    listCheckpoints(out).map((c) => c.name),
    ['step-3', 'latest'],
  );
  // ...and a crash after writing step-9 but before latest@9 leaves a complete snapshot ahead of latest.
  cpSync(join(straight, 'checkpoints', 'step-9'), join(ck, 'step-9'), { recursive: true });
  const kept9 = savedAt(join(ck, 'step-9'));

  await train({ config, model, train: tr, val, out, resume: true, ...silent });
  assert.equal(savedAt(join(ck, 'step-3')), kept3, 'step-3 was rewritten');
  assert.equal(savedAt(join(ck, 'step-9')), kept9, 'step-9 was rewritten');
  assert.deepEqual(readdirSync(ck).sort(), ['best', 'latest', 'step-3', 'step-6', 'step-9']);
  for (const name of ['step-3', 'step-6', 'step-9', 'latest'])
    assertSameWeights(join(ck, name), join(straight, 'checkpoints', name));
});

test('keepEvery and keepLast must be non-negative integers', async () => {
  await assert.rejects(
    train({ config: { ...base, keepEvery: 2.5 }, model, train: tr, val, out: runDir(), ...silent }),
    (e: Error) => e instanceof UserError && /keepEvery must be a non-negative integer, received 2\.5/.test(e.message),
  );
  await assert.rejects(
    train({ config: { ...base, keepLast: -1 }, model, train: tr, val, out: runDir(), ...silent }),
    /keepLast must be a non-negative integer, received -1/,
  );
});

test('keepEvery can be turned on when resuming a run whose state.json predates it (missing keys count as defaults)', async () => {
  const out = runDir();
  await train({ config: { ...base, steps: 4 }, model, train: tr, val, out, ...silent });
  const statePath = join(out, 'checkpoints', 'latest', 'state.json');
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as { config: Record<string, unknown> };
  delete state.config.keepEvery;
  delete state.config.keepLast;
  writeFileSync(statePath, JSON.stringify(state));
  const lines: string[] = [];
  await train({
    config: { ...base, steps: 6, keepEvery: 2 },
    train: tr,
    val,
    out,
    resume: true,
    showConfig: false,
    write: (t) => void lines.push(t),
  });
  const note = lines.find((l) => l.startsWith('resume: training settings changed'));
  assert.equal(note?.trim(), 'resume: training settings changed since the checkpoint: steps 4 -> 6, keepEvery 0 -> 2');
  assert.deepEqual(
    readdirSync(join(out, 'checkpoints')).filter((n) => n.startsWith('step-')),
    ['step-6'],
  );
});
