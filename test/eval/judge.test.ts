/**
 * Judged answers: win-rate arithmetic (ties count half, the interval over decided pairs), pairing two files by
 * prompt, unwrapping a prompt rendered by the reward model's template, exact match / ROUGE-L over the rows with
 * references, input errors naming file, line and field; and `eval judge` on a tiny random reward model printing the
 * mean rewards and win rate the library computes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeForReward, RewardModel, rewardsOf, saveRewardModel } from '../../src/align/reward-model.ts';
import {
  loadResponses,
  pairByPrompt,
  referenceScores,
  rewardRecord,
  userTurn,
  winRate,
  type JudgedResponse,
} from '../../src/eval/judge.ts';
import { wilsonInterval } from '../../src/eval/wilson.ts';
import { alpacaTemplate, chatmlTemplate } from '../../src/chat/templates.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyPreferenceSetup } from '../helpers/tiny-preferences.ts';
import { UserError } from '../../src/util/user-error.ts';

const row = (prompt: string, response: string, reference?: string): JudgedResponse => ({
  prompt,
  response,
  ...(reference !== undefined ? { reference } : {}),
  where: 'x',
});

test('win rate: ties count half; the interval is over decided pairs', () => {
  const w = winRate([3, 1, 2, 2, 5], [1, 2, 2, 0, 4]);
  assert.deepEqual({ ...w, ci: undefined }, { n: 5, wins: 3, losses: 1, ties: 1, winRate: 3.5 / 5, ci: undefined });
  assert.deepEqual(w.ci, wilsonInterval(3, 4));
  assert.equal(winRate([1, 1], [1, 1]).winRate, 0.5);
  assert.throws(() => winRate([1], [1, 2]), /equally long/);
});

test("pairing by prompt, in A's order, repeated prompts matched in turn; unmatched prompts are errors naming the line", () => {
  const a = [row('p1', 'a'), row('p2', 'b'), row('p1', 'c')];
  const b = [row('p2', 'x'), row('p1', 'y'), row('p1', 'z')];
  assert.deepEqual(pairByPrompt(a, b, 'A.jsonl', 'B.jsonl'), [1, 0, 2]);
  assert.throws(
    () => pairByPrompt(a, [...b.slice(0, 2), { ...row('p3', 'w'), where: 'B.jsonl:3' }], 'A.jsonl', 'B.jsonl'),
    /^Error: x: B\.jsonl has no response to this prompt \("p1"\)/,
  );
  assert.throws(
    () =>
      pairByPrompt(
        a.slice(0, 2),
        b.slice(0, 2).concat({ ...row('p3', 'w'), where: 'B.jsonl:3' }),
        'A.jsonl',
        'B.jsonl',
      ),
    /^Error: B\.jsonl:3: A\.jsonl has no response to this prompt \("p3"\)/,
  );
});

test('a prompt rendered by the template is unwrapped to the user turn; exact match and ROUGE-L over rows with references', () => {
  const rec = (content: string) => ({ kind: 'chat' as const, messages: [{ role: 'user' as const, content }] });
  assert.equal(
    userTurn(chatmlTemplate, chatmlTemplate.prompt(rec('Do you know the capital of Kenya?'))),
    'Do you know the capital of Kenya?',
  );
  assert.equal(userTurn(alpacaTemplate, alpacaTemplate.prompt(rec('Name a colour.'))), 'Name a colour.');
  assert.equal(userTurn(chatmlTemplate, 'Name a colour.'), 'Name a colour.');
  assert.deepEqual(rewardRecord(chatmlTemplate, row(chatmlTemplate.prompt(rec('hi')), 'hello')), {
    kind: 'chat',
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ],
  });
  const s = referenceScores([
    row('p', 'the cat sat', 'the cat sat'),
    row('p', 'the dog', 'the cat sat'),
    row('p', 'no reference'),
  ])!;
  assert.equal(s.n, 2);
  assert.equal(s.exactMatch, 0.5);
  // "the dog" vs "the cat sat": LCS 1, precision 1/2, recall 1/3, F1 0.4.
  assert.ok(Math.abs(s.rougeL - (1 + 0.4) / 2) < 1e-12);
  assert.equal(referenceScores([row('p', 'r')]), null);
});

test('responses file errors name the file, line and field', () => {
  const dir = tempDir('judge-input');
  const path = join(dir, 'r.jsonl');
  const cases: [unknown, RegExp][] = [
    [{ prompt: 'p' }, /r\.jsonl:2: field "response" must be a string, received nothing/],
    [{ prompt: 3, response: 'r' }, /r\.jsonl:2: field "prompt" must be a string, received 3/],
    [
      { prompt: 'p', response: 'r', reference: ['x'] },
      /r\.jsonl:2: field "reference" must be a string when given, received \["x"\]/,
    ],
    ['text', /r\.jsonl:2: expected an object \{"prompt", "response", "reference"\?\}, received "text"/],
  ];
  for (const [bad, re] of cases) {
    writeFileSync(path, `${JSON.stringify({ prompt: 'p', response: 'r' })}\n${JSON.stringify(bad)}\n`);
    assert.throws(
      () => loadResponses(path),
      (e: Error) => re.test(e.message) && e instanceof UserError,
    );
  }
});

test("eval judge: mean rewards and A's win rate as the library computes them; one-line errors", () => {
  const dir = tempDir('judge-cli');
  const { base } = tinyPreferenceSetup(dir, 8);
  const { model, tokenizer } = loadModelDir(base);
  const rm = new RewardModel(model, { template: 'chatml', maxLength: 64, padId: 0, eosId: null }, new Rng(3));
  const rmDir = join(dir, 'rm');
  saveRewardModel(rmDir, rm, tokenizer);
  const prompts = ['tell me about cats', 'tell me about rain', 'tell me about tea'].map((p) =>
    chatmlTemplate.prompt({ kind: 'chat', messages: [{ role: 'user', content: p }] }),
  );
  const a = [
    row(prompts[0]!, 'it is nice', 'it is nice'),
    row(prompts[1]!, 'so warm thanks', 'it is warm'),
    row(prompts[2]!, 'shut up'),
  ];
  const b = [row(prompts[2]!, 'tea is good please'), row(prompts[0]!, 'cats idiot'), row(prompts[1]!, 'rain')];
  const write = (name: string, rows: JudgedResponse[]) => {
    const p = join(dir, name);
    writeFileSync(p, rows.map(({ where: _, ...r }) => JSON.stringify(r)).join('\n'));
    return p;
  };
  const fa = write('a.jsonl', a);
  const fb = write('b.jsonl', b);
  const rewards = (rows: JudgedResponse[]) =>
    rewardsOf(
      rm,
      rows.map((r) => encodeForReward(tokenizer, chatmlTemplate, rewardRecord(chatmlTemplate, r), rm.info).ids),
      8,
    );
  const ra = rewards(a);
  const rb = rewards([b[1]!, b[2]!, b[0]!]);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const out = join(dir, 'judged.jsonl');
  const r = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'eval', 'judge', '--reward-model', rmDir, '--responses', fa, '--against', fb, '--output', out],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `A .*a\\.jsonl: 3 responses, mean reward ${mean(ra).toFixed(3)} .*against 2 references: exact match 50\\.0%`,
    ),
  );
  assert.match(
    r.stdout,
    new RegExp(`B .*b\\.jsonl: 3 responses, mean reward ${mean(rb).toFixed(3)} \\(sd [0-9.]+\\)\\n`),
  );
  const w = winRate(ra, rb);
  assert.match(
    r.stdout,
    new RegExp(
      `A vs B on 3 prompts: A wins ${w.wins}, B wins ${w.losses}, ties ${w.ties}: A's win rate ${(100 * w.winRate).toFixed(1)}%`,
    ),
  );
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { reward: number; reward_b: number; a_wins: boolean });
  lines.forEach((l, i) => {
    assert.ok(Math.abs(l.reward - ra[i]!) < 1e-5 && Math.abs(l.reward_b - rb[i]!) < 1e-5);
    assert.equal(l.a_wins, ra[i]! > rb[i]!);
  });
  const bad = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'eval', 'judge', '--reward-model', base, '--responses', fa],
    { encoding: 'utf8' },
  );
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^error: .*base: not a reward model/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const odd = spawnSync(
    process.execPath,
    [
      'bin/llmforge.js',
      'eval',
      'judge',
      '--reward-model',
      rmDir,
      '--responses',
      write('d.jsonl', [row('tell me', 'ok'), row('tell me', 'OK')]),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(odd.status, 2);
  assert.match(
    odd.stderr,
    /^error: eval judge: .*d\.jsonl:2: cannot tokenize the prompt and response with the reward model's tokenizer \(CharTokenizer\.encode: character "O"/,
  );
  const mismatch = spawnSync(
    process.execPath,
    [
      'bin/llmforge.js',
      'eval',
      'judge',
      '--reward-model',
      rmDir,
      '--responses',
      fa,
      '--against',
      write('c.jsonl', b.slice(1)),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(mismatch.status, 2);
  assert.match(mismatch.stderr, /^error: .*a\.jsonl:3: .*c\.jsonl has no response to this prompt/);
});
