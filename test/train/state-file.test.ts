/**
 * Saved run states are untrusted input: Rng.setState refuses words that are not uint32 numbers and the all-zero
 * state (it would draw only zeros); readStateFile names the file and the field of a state that is not JSON or has
 * a field of the wrong type; state.json with RNG words that are not numbers is refused by readRunState; and an
 * sft or classify resume from a corrupt sft-state.json / classify-state.json is one error line naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, rngStateProblem } from '../../src/tensor/random.ts';
import { readRunState, STATE_FILE } from '../../src/train/checkpoint.ts';
import { readStateFile, StateFileError } from '../../src/train/state-file.ts';
import { isUserError } from '../../src/util/user-error.ts';
import { runCliBatch } from '../helpers/cli-batch.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyAlignSetup } from '../helpers/tiny-align.ts';
import { instructionOnly, syntheticInstructions } from '../helpers/tiny-instructions.ts';
import { syntheticSms } from '../helpers/tiny-sms.ts';

test('Rng.setState refuses words that are not uint32 numbers and the all-zero state', () => {
  const rng = new Rng(5);
  const good = rng.getState();
  assert.equal(rngStateProblem(good), undefined);
  for (const s of [
    ['a', 'b', 'c', 'd'],
    [1, 2, 3, Number.NaN],
    [1, 2, 3, -1],
    [1, 2, 3, 2 ** 32],
    [1.5, 2, 3, 4],
    [0, 0, 0, 0],
    [1, 2, 3],
  ]) {
    assert.ok(rngStateProblem({ s, spare: null }) !== undefined, JSON.stringify(s));
    assert.throws(() => rng.setState({ s: s as number[], spare: null }), /Rng\.setState/);
  }
  assert.throws(() => rng.setState({ s: good.s, spare: 'x' as unknown as number }), /spare/);
  const again = new Rng(1);
  again.setState(good);
  assert.equal(again.random(), new Rng(5).random());
});

test('readStateFile: not JSON, not an object, another format or a mistyped field is one line naming the file', () => {
  const dir = tempDir('state-file');
  const path = join(dir, 'sft-state.json');
  const read = () =>
    readStateFile(path, 'an SFT run state', 'llmforge-sft-state', {
      step: 'count',
      epochRng: 'rng',
      valLoss: 'number?',
    });
  const cases: [string, RegExp][] = [
    ['{"step": 3,', /cannot read an SFT run state/],
    ['[1, 2]', /expected an SFT run state \(a JSON object\)/],
    ['{"format": "other"}', /not an SFT run state/],
    ['{"format": "llmforge-sft-state", "step": "3"}', /"step" must be a non-negative integer, received "3"/],
    [
      '{"format": "llmforge-sft-state", "step": 3, "epochRng": {"s": ["a", "b", "c", "d"], "spare": null}}',
      /"epochRng" must be an RNG state/,
    ],
    [
      '{"format": "llmforge-sft-state", "step": 3, "epochRng": {"s": [1, 2, 3, 4], "spare": null}, "valLoss": "x"}',
      /"valLoss" must be a finite number/,
    ],
  ];
  for (const [text, re] of cases) {
    writeFileSync(path, text);
    assert.throws(read, (e: unknown) => {
      assert.ok(e instanceof StateFileError && isUserError(e), String(e));
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
  writeFileSync(path, '{"format": "llmforge-sft-state", "step": 3, "epochRng": {"s": [1, 2, 3, 4], "spare": null}}');
  assert.equal(read().step, 3);
});

test('state.json whose RNG words are not numbers is refused, not resumed with an all-zero generator', () => {
  const dir = tempDir('state-json');
  const state = {
    format: 'llmforge-train-state',
    step: 2,
    config: {},
    bestValLoss: null,
    dataRng: { s: ['a', 'b', 'c', 'd'], spare: null },
  };
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state));
  assert.throws(
    () => readRunState(dir),
    (e: unknown) => isUserError(e) && /state\.json: "dataRng" is not an RNG state/.test((e as Error).message),
  );
  writeFileSync(join(dir, STATE_FILE), JSON.stringify({ ...state, dataRng: { s: [0, 0, 0, 0], spare: null } }));
  assert.throws(() => readRunState(dir), /all zeros/);
});

test('sft and classify resumes from a corrupt state file: one error line naming the file', () => {
  const fx = tempDir('state-resume');
  const { base } = tinyAlignSetup(fx);
  const sft = join(fx, 'sft.jsonl');
  writeFileSync(
    sft,
    `${instructionOnly(syntheticInstructions(12))
      .map((r) => JSON.stringify(r))
      .join('\n')}\n`,
  );
  const sms = join(fx, 'sms.tsv');
  writeFileSync(sms, `${syntheticSms(40).join('\n')}\n`);
  const sftOut = join(fx, 'sft-run');
  const clsOut = join(fx, 'cls-run');
  const sftArgs = [
    'finetune',
    'sft',
    '--model',
    base,
    '--data',
    sft,
    '--out',
    sftOut,
    '--quiet',
    '--eval-responses',
    '0',
  ];
  const clsArgs = ['finetune', 'classify', '--model', base, '--data', sms, '--out', clsOut, '--quiet'];
  const first = runCliBatch([{ argv: [...sftArgs, '--steps', '1'] }, { argv: [...clsArgs, '--epochs', '1'] }]);
  for (const r of first) assert.equal(r.code, 0, r.stderr);
  const sftState = join(sftOut, 'checkpoints', 'latest', 'sft-state.json');
  const clsState = join(clsOut, 'checkpoints', 'latest', 'classify-state.json');
  const corrupt: [string, string][] = [
    [sftState, '{"format": "llmforge-sft-state", "step": 1,'],
    [sftState, '{"format": "llmforge-sft-state", "step": 1, "consumed": 1, "epochRng": {"s": ["a","b","c","d"]}}'],
    [clsState, 'not json'],
    [clsState, '{"step": 1, "labels": "ham,spam", "options": {}}'],
  ];
  for (const [path, text] of corrupt) {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    const argv =
      path === sftState ? [...sftArgs, '--steps', '2', '--resume'] : [...clsArgs, '--epochs', '2', '--resume'];
    const [r] = runCliBatch([{ argv }]);
    const err = r!.stderr.trimEnd();
    assert.notEqual(r!.code, 0, err);
    assert.ok(err.startsWith(`error: ${path}: `), err);
    assert.equal(err.split('\n').length, 1, err);
    assert.ok(!err.includes('    at '), err);
  }
});
