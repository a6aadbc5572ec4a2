/**
 * `eval facts`: a scripted model (it continues each toy-world probe with a fixed text: right for sounds, suns and
 * capitals in trained phrasings, "Paris" for every held-out capital question, a colour no fact has) gives exactly
 * the counts the script implies, in the step x category table; checkpoints of a run are found and ordered by step
 * (atomic-replace leftovers skipped), and the command line scores each with the same numbers as the library.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { toyWorldProbes, type FactProbe } from '../../src/data/toy-world.ts';
import { listCheckpoints } from '../../src/eval/checkpoints.ts';
import { formatFactsTable } from '../../src/eval/facts-table.ts';
import { loadModelDir } from '../../src/generate/model-dir.ts';
import { createModel } from '../../src/models/create.ts';
import {
  LanguageModel,
  type ForwardResult,
  type KVCache,
  type ModelConfig,
  type ForwardOptions,
} from '../../src/models/model.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { scoreFacts } from '../../src/eval/fact-check.ts';
import { fromData } from '../../src/tensor/creation.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { tinyCharBase } from '../helpers/tiny-char-base.ts';

const probes = toyWorldProbes();
/** What the scripted model says after each probe's prompt. */
function scripted(p: FactProbe): string {
  if (p.kind === 'colour') return ' grey.';
  if (p.kind === 'capital' && p.heldOut) return ' Paris.';
  return ` ${p.answer}.`;
}
const tok = CharTokenizer.fromText(probes.map((p) => `${p.prompt}${scripted(p)}${p.answer}`).join('\n'));

/** Continues a known prompt with its scripted text, one character per step (logit 10 on it, 0 elsewhere). */
class ScriptedModel extends LanguageModel {
  readonly config: ModelConfig = resolveModelConfig({
    arch: 'gpt2',
    vocabSize: tok.vocabSize,
    blockSize: 128,
    nLayer: 1,
    nHead: 1,
    nEmbd: 4,
    dropout: 0,
  });
  private readonly script = new Map(probes.map((p) => [p.prompt, scripted(p)]));
  override forward(
    ids: Int32Array,
    B: number,
    T: number,
    _targets?: Int32Array | null,
    opts: ForwardOptions = {},
  ): ForwardResult {
    assert.equal(B, 1);
    const cache = opts.cache as (KVCache & { ids: number[] }) | undefined;
    let history: number[];
    if (cache) {
      cache.ids.push(...ids);
      cache.length += T;
      history = cache.ids;
    } else history = [...ids];
    const text = tok.decode(history);
    const prompt = [...this.script.keys()].filter((p) => text.startsWith(p)).sort((a, b) => b.length - a.length)[0]!;
    const next = this.script.get(prompt)![text.length - prompt.length] ?? '.';
    const V = this.config.vocabSize;
    const rows = opts.lastOnly === true ? 1 : T;
    const logits = new Float32Array(rows * V);
    logits[(rows - 1) * V + tok.encode(next)[0]!] = 10;
    return { logits: fromData(logits, [1, rows, V]), loss: null };
  }
  override createCache(batch: number, capacity: number): KVCache {
    return { batch, capacity, length: 0, ids: [] } as KVCache;
  }
}

test('a scripted model scores what its script implies, per kind and phrasing, in the table', () => {
  const scores = scoreFacts(new ScriptedModel(), tok, probes);
  const got = Object.fromEntries(scores.map((s) => [`${s.kind}${s.heldOut ? '*' : ''}`, `${s.correct}/${s.total}`]));
  // Held-out capitals: "Paris" is right only for France's two held-out questions.
  assert.deepEqual(got, {
    capital: '150/150',
    'capital*': '2/60',
    sound: '64/64',
    'sound*': '16/16',
    colour: '0/42',
    'colour*': '0/14',
    sun: '6/6',
    'sun*': '2/2',
  });
  const lines = formatFactsTable([
    { label: 'early', step: 100, scores: scores.map((s) => ({ ...s, correct: 0 })) },
    { label: 'latest', step: 1200, scores },
    { label: 'copy', step: null, scores: scores.filter((s) => s.kind === 'sun') },
  ]);
  assert.deepEqual(
    lines.map((l) => l.split(/ +/).filter((c) => c !== '')),
    [
      ['step', 'checkpoint', 'capital', 'capital*', 'sound', 'sound*', 'colour', 'colour*', 'sun', 'sun*', 'all'],
      ['100', 'early', '0%', '0%', '0%', '0%', '0%', '0%', '0%', '0%', '0%'],
      [
        '1200',
        'latest',
        '100%',
        '3%',
        '100%',
        '100%',
        '0%',
        '0%',
        '100%',
        '100%',
        `${((100 * 240) / 354).toFixed(0)}%`,
      ],
      ['?', 'copy', '-', '-', '-', '-', '-', '-', '100%', '100%', '100%'],
    ],
  );
});

function run(dir: string): string {
  const run = join(dir, 'run');
  const model = createModel(
    resolveModelConfig({
      arch: 'gpt2',
      vocabSize: tok.vocabSize,
      blockSize: 64,
      nLayer: 1,
      nHead: 2,
      nEmbd: 16,
      dropout: 0,
    }),
    new Rng(2),
  );
  const put = (name: string, step: number | null) => {
    const d = join(run, 'checkpoints', name);
    saveModel(d, model);
    saveTextTokenizer(join(d, 'tokenizer'), tok);
    if (step !== null) writeFileSync(join(d, 'state.json'), JSON.stringify({ step }));
  };
  put('latest', 500);
  put('best', 300);
  put('snap-100', 100);
  cpSync(join(run, 'checkpoints', 'latest'), join(run, 'checkpoints', 'latest.prev'), { recursive: true });
  mkdirSync(join(run, 'checkpoints', 'notes')); // no config.json: not a checkpoint
  return run;
}

test('checkpoints of a run by step; eval facts --checkpoints scores each as the library does; one-line errors', () => {
  const dir = tempDir('eval-facts');
  const r = run(dir);
  assert.deepEqual(
    listCheckpoints(r).map((c) => [c.name, c.step]),
    [
      ['snap-100', 100],
      ['best', 300],
      ['latest', 500],
    ],
  );
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/llmforge.js', 'eval', 'facts', ...args], { encoding: 'utf8' });
  const j = cli('--model', r, '--checkpoints', '--json', '--quiet');
  assert.equal(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout) as {
    probes: number;
    rows: {
      label: string;
      step: number;
      scores: { kind: string; heldOut: boolean; correct: number; total: number }[];
    }[];
  };
  assert.equal(out.probes, probes.length);
  assert.deepEqual(
    out.rows.map((row) => [row.label, row.step]),
    [
      ['snap-100', 100],
      ['best', 300],
      ['latest', 500],
    ],
  );
  const { model } = loadModelDir(join(r, 'checkpoints', 'latest'));
  const want = scoreFacts(model, tok, probes).map(({ kind, heldOut, correct, total }) => ({
    kind,
    heldOut,
    correct,
    total,
  }));
  assert.deepEqual(out.rows[2]!.scores, want);
  const t = cli('--model', r, '--checkpoints', '--quiet');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /^ +500 +latest +\d+%/m);
  assert.doesNotMatch(t.stdout, /keeps only/); // snap-100 is not one of the trainer's two
  const e = cli('--model', join(r, 'checkpoints', 'best'), '--checkpoints');
  assert.equal(e.status, 2);
  assert.match(e.stderr, /^error: .*best: not a training run \(no checkpoints\/ directory\)/);
  assert.equal(e.stderr.trim().split('\n').length, 1);
});

test("eval facts: probes the model's tokenizer cannot encode are one error line", () => {
  const { base } = tinyCharBase(tempDir('facts-char'));
  const r = spawnSync(process.execPath, ['bin/llmforge.js', 'eval', 'facts', '--model', base, '--quiet'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /^error: facts: cannot tokenize the (answer|probe) ".*" with the model's tokenizer \(CharTokenizer\.encode: .*--facts\n$/,
  );
});
