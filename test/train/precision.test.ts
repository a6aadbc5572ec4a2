/**
 * The training precision setting: 'auto' resolving per detected bf16 capability (injected) with LLMFORGE_MATMUL
 * deciding first, explicit settings winning, the resolved precision applied inside a run and restored after it (also
 * when the run throws), recorded in state.json and step records, a resume with another precision noted, and a tiny
 * bf16 run that learns and whose checkpoint loads and evaluates in fp32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/models/model-io.ts';
import { matmulPrecision, setMatmulPrecision } from '../../src/ops/matmul-precision.ts';
import { readRunState } from '../../src/train/checkpoint.ts';
import { applyTrainOverrides, DEFAULT_TRAIN_CONFIG } from '../../src/train/config.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { detectBf16, parsePrecisionSetting, resolvePrecision } from '../../src/train/precision.ts';
import { train } from '../../src/train/trainer.ts';
import { corpus, fastConfig, runDir, tinyModel } from './helpers.ts';
import { UserError } from '../../src/util/user-error.ts';

const FAST = { fast: true, via: 'AMX-BF16' };
const SLOW = { fast: false, via: 'no AMX-BF16 or AVX512_BF16 on this CPU' };

test('auto resolves per detected capability; LLMFORGE_MATMUL decides auto first; explicit settings win', () => {
  assert.equal(resolvePrecision('auto', { env: undefined, capability: FAST }).precision, 'bf16');
  assert.equal(
    resolvePrecision('auto', { env: undefined, capability: { fast: true, via: 'AVX512_BF16' } }).why,
    'auto: AVX512_BF16',
  );
  assert.equal(resolvePrecision('auto', { env: undefined, capability: SLOW }).precision, 'fp32');
  assert.equal(resolvePrecision('auto', { env: '', capability: SLOW }).source, 'auto');
  assert.deepEqual(resolvePrecision('auto', { env: 'fp32', capability: FAST }), {
    precision: 'fp32',
    setting: 'auto',
    source: 'LLMFORGE_MATMUL',
    why: 'auto: LLMFORGE_MATMUL=fp32',
  });
  assert.equal(resolvePrecision('auto', { env: 'bf16', capability: SLOW }).precision, 'bf16');
  assert.equal(resolvePrecision('fp32', { env: 'bf16', capability: FAST }).precision, 'fp32');
  assert.equal(resolvePrecision('bf16', { env: 'fp32', capability: SLOW }).precision, 'bf16');
  assert.throws(
    () => resolvePrecision('auto', { env: 'half', capability: FAST }),
    /LLMFORGE_MATMUL: expected one of fp32, bf16, received 'half'/,
  );
  // The real detection agrees with the native backend's CPU report (whatever this machine has).
  const cap = detectBf16();
  assert.equal(resolvePrecision('auto', { env: undefined }).precision, cap.fast ? 'bf16' : 'fp32');
});

test('precision values are checked with one clear line (flags, --set, the config)', () => {
  assert.equal(parsePrecisionSetting('bf16', 'x'), 'bf16');
  assert.throws(
    () => parsePrecisionSetting('fp16', 'train: --precision'),
    (e: Error) =>
      e instanceof UserError && e.message === 'train: --precision: expected one of auto, fp32, bf16, received "fp16"',
  );
  assert.throws(
    () => applyTrainOverrides(DEFAULT_TRAIN_CONFIG, { precision: 'half' }, '--set'),
    /train config: precision must be "auto", "fp32" or "bf16", received "half"/,
  );
  assert.equal(applyTrainOverrides(DEFAULT_TRAIN_CONFIG, { precision: 'auto' }, '--set').precision, 'auto');
  assert.equal(DEFAULT_TRAIN_CONFIG.precision, 'fp32'); // library calls that do not set it train in fp32
});

test('the run precision applies inside the run and is restored after it, also when the run throws', async () => {
  const { tok, train: tr, val } = corpus();
  setMatmulPrecision('fp32'); // the process setting (LLMFORGE_MATMUL may say otherwise when the suite runs)
  const inside: string[] = [];
  const r = await train(
    {
      config: fastConfig({ steps: 3, evalInterval: 0, precision: 'bf16' }),
      model: tinyModel(tok.vocabSize),
      train: tr,
      val,
      out: runDir(),
      quiet: true,
    },
    { onStep: () => inside.push(matmulPrecision()), onEval: () => inside.push(`eval ${matmulPrecision()}`) },
  );
  assert.equal(r.step, 3);
  assert.deepEqual(inside, ['bf16', 'bf16', 'bf16', 'eval bf16']); // evaluation runs in the run's precision
  assert.equal(matmulPrecision(), 'fp32');

  await assert.rejects(
    train(
      {
        config: fastConfig({ steps: 5, evalInterval: 0, precision: 'bf16' }),
        model: tinyModel(tok.vocabSize),
        train: tr,
        val,
        out: runDir(),
        quiet: true,
      },
      {
        onStep: ({ step }) => {
          if (step === 2) throw new Error('boom at step 2');
        },
      },
    ),
    /boom at step 2/,
  );
  assert.equal(matmulPrecision(), 'fp32');

  // A process-wide bf16 setting is restored too, after an explicit fp32 run.
  setMatmulPrecision('bf16');
  try {
    const seen: string[] = [];
    await train(
      {
        config: fastConfig({ steps: 1, evalInterval: 0 }),
        model: tinyModel(tok.vocabSize),
        train: tr,
        val,
        out: runDir(),
        quiet: true,
      },
      { onStep: () => seen.push(matmulPrecision()) },
    );
    assert.deepEqual(seen, ['fp32']);
    assert.equal(matmulPrecision(), 'bf16');
  } finally {
    setMatmulPrecision('fp32');
  }
});

test('state.json and step records name the precision; a resume in another precision is noted; the first line names it', async () => {
  const { tok, train: tr, val } = corpus();
  const out = runDir();
  const lines: string[] = [];
  const write = (t: string): void => void lines.push(t);
  await train({
    config: fastConfig({ steps: 4, evalInterval: 0, logInterval: 2, precision: 'bf16' }),
    model: tinyModel(tok.vocabSize),
    train: tr,
    val,
    out,
    write,
    showConfig: false,
  });
  assert.match(lines[0]!, /^training: .* bf16 matmuls\n$/);
  const latest = join(out, 'checkpoints', 'latest');
  assert.equal(readRunState(latest).precision, 'bf16');
  assert.equal(readRunState(latest).config.precision, 'bf16');
  lines.length = 0;
  await train({
    config: fastConfig({ steps: 6, evalInterval: 0, logInterval: 2, precision: 'fp32' }),
    train: tr,
    val,
    out,
    resume: true,
    write,
    showConfig: false,
  });
  assert.ok(
    lines.some(
      (l) =>
        l ===
        'note: the checkpoint was trained with bf16 matmuls; resuming with fp32 matmuls (weights and optimizer state are fp32 either way)\n',
    ),
    lines.join(''),
  );
  assert.ok(!lines.some((l) => /settings changed.*precision/.test(l)));
  assert.equal(readRunState(latest).precision, 'fp32');
  const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; precision?: string });
  assert.deepEqual(
    records.filter((r) => r.precision !== undefined).map((r) => [r.step, r.precision]),
    [
      [1, 'bf16'],
      [2, 'bf16'],
      [4, 'bf16'],
      [5, 'fp32'],
      [6, 'fp32'],
    ],
  );
  // The same precision again: no note.
  lines.length = 0;
  await train({
    config: fastConfig({ steps: 7, evalInterval: 0, precision: 'fp32' }),
    train: tr,
    val,
    out,
    resume: true,
    write,
    showConfig: false,
  });
  assert.ok(!lines.some((l) => l.startsWith('note:')), lines.join(''));
});

test('a tiny bf16 run learns and its checkpoint loads and evaluates in fp32', async () => {
  const { tok, train: tr, val } = corpus();
  const out = runDir();
  const losses: number[] = [];
  const r = await train(
    {
      config: fastConfig({ steps: 40, evalInterval: 0, precision: 'bf16' }),
      model: tinyModel(tok.vocabSize),
      train: tr,
      val,
      out,
      quiet: true,
    },
    { onStep: ({ loss }) => losses.push(loss) },
  );
  const head = (losses[0]! + losses[1]! + losses[2]!) / 3;
  const tail = (losses.at(-1)! + losses.at(-2)! + losses.at(-3)!) / 3;
  assert.ok(tail < head - 0.5, `loss ${head.toFixed(3)} -> ${tail.toFixed(3)}`);
  assert.equal(matmulPrecision(), 'fp32');
  const loaded = loadModel(join(out, 'checkpoints', 'latest'));
  const fp32 = evaluate(loaded, val, 4, 16, 2, 1234).loss;
  assert.ok(Number.isFinite(fp32));
  assert.ok(Math.abs(fp32 - r.lastEval!.loss) < 0.05, `fp32 eval ${fp32} vs bf16 eval ${r.lastEval!.loss}`);
});
