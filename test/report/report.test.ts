/**
 * The report card (src/report/, `llmforge report`): a tiny run of recipes/demo.yaml is reported, and its figures
 * equal what the run's files hold (last and best validation loss in metrics.jsonl, token counts in meta.json, next-
 * token probabilities in predictions.json, wall times in the .complete markers), in the card, in the HTML's
 * data-key/data-value hooks and in the Markdown; hostile text in a run name, description and sample shows as text;
 * the stage files of the other stage types (eval-mc, classify, sft, reward, dpo, ppo) are read by their stable keys;
 * and user mistakes (missing directory, not a recipe run, a bad --out extension) are one `error:` line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectReport, type ReportCard } from '../../src/report/card.ts';
import { renderHtml, renderMarkdown } from '../../src/report/render.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/llmforge.js', ...args], { encoding: 'utf8' });
}

const TINY = [
  'documents=300',
  'vocab=300',
  'steps=6',
  'stages.model.config.nLayer=1',
  'stages.model.config.nEmbd=32',
  'stages.model.config.nHead=2',
  'stages.model.config.blockSize=32',
  'stages.pretrain.context=32',
  'stages.pretrain.batchSize=4',
  'stages.pretrain.evalInterval=3',
  'stages.pretrain.evalIters=2',
  'stages.pretrain.warmup=2',
  'stages.sample.maxTokens=5',
];

let demo: string | undefined;
/** A tiny demo run, made once for the file. */
function tinyDemo(): string {
  if (demo) return demo;
  const out = join(tempDir('report'), 'demo');
  const r = cli('run', 'recipes/demo.yaml', '--set', `out=${out}`, ...TINY, '--quiet');
  assert.equal(r.status, 0, r.stderr);
  demo = out;
  return out;
}

const metric = (card: ReportCard, key: string): number | string | undefined =>
  card.stages.flatMap((s) => s.metrics).find((m) => m.key === key)?.value;

/** A JSON file of the run, as parsed (any: the tests read known fields). */
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

test("a tiny demo run's report card holds the figures of the run's files", () => {
  const out = tinyDemo();
  const card = collectReport(out);
  assert.deepEqual(
    card.stages.map((s) => [s.name, s.status]),
    ['corpus', 'tokenizer', 'data', 'model', 'before', 'pretrain', 'after', 'sample'].map((n) => [n, 'complete']),
  );
  const rows = readFileSync(join(out, 'pretrain', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const evals = rows.filter((r) => r.val_loss !== undefined);
  const last = evals[evals.length - 1];
  assert.equal(metric(card, 'pretrain.valLoss'), last.val_loss);
  assert.equal(metric(card, 'pretrain.perplexity'), last.ppl);
  assert.equal(metric(card, 'pretrain.bitsPerByte'), last.bpb);
  assert.equal(metric(card, 'pretrain.bestValLoss'), Math.min(...evals.map((r) => r.val_loss)));
  assert.equal(metric(card, 'pretrain.steps'), 6);
  assert.equal(metric(card, 'pretrain.trainLoss'), rows.filter((r) => r.loss !== undefined).at(-1).loss);
  assert.equal(metric(card, 'pretrain.wallTime'), json(join(out, 'pretrain', '.complete')).seconds);
  const meta = json(join(out, 'data', 'meta.json'));
  assert.equal(metric(card, 'data.trainTokens'), meta.splits.train.tokens);
  assert.equal(metric(card, 'data.valTokens'), meta.splits.val.tokens);
  assert.equal(metric(card, 'data.sources.0.name'), meta.sources[0].name);
  assert.equal(
    metric(card, 'data.bytesPerToken'),
    (meta.splits.train.bytes + meta.splits.val.bytes) / (meta.splits.train.tokens + meta.splits.val.tokens),
  );
  assert.equal(metric(card, 'tokenizer.vocabSize'), 300);
  const after = json(join(out, 'after', 'predictions.json'));
  assert.equal(metric(card, 'after.top1.0.token'), after.results[0].predictions[0].token);
  assert.equal(metric(card, 'after.top1.0.prob'), after.results[0].predictions[0].prob);
  const pretrain = card.stages.find((s) => s.name === 'pretrain')!;
  const loss = pretrain.charts.find((c) => c.key === 'pretrain.loss')!;
  assert.deepEqual(
    loss.series.find((s) => s.name === 'validation')!.points,
    evals.map((r) => [r.step, r.val_loss]),
  );
  const samples = json(join(out, 'sample', 'samples.json')).samples;
  assert.deepEqual(
    card.stages.find((s) => s.name === 'sample')!.samples.map((s) => s.text),
    samples.map((s: { text: string }) => s.text),
  );
  // Nothing the files do not hold: no hardware line, no figures for the corpus stage beyond its wall time.
  assert.deepEqual(
    card.stages.find((s) => s.name === 'corpus')!.metrics.map((m) => m.key),
    ['corpus.wallTime'],
  );
});

test('llmforge report --out report.html: every figure is a data-testid hook with the value as read', () => {
  const out = tinyDemo();
  const file = join(tempDir('report-html'), 'nested', 'report.html');
  const r = cli('report', out, '--out', file);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*report\.html: 8 stages, \d+ figures\n$/);
  assert.deepEqual(readdirSync(join(file, '..')), ['report.html']); // no temporary file left behind
  const html = readFileSync(file, 'utf8');
  const hooks = new Map(
    [...html.matchAll(/<tr data-testid="report-metric" data-key="([^"]*)" data-value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  const card = collectReport(out);
  const all = card.stages.flatMap((s) => s.metrics);
  assert.equal(hooks.size, all.length);
  for (const m of all) assert.equal(hooks.get(m.key), String(m.value).replace(/"/g, '&quot;'), m.key);
  const evals = readFileSync(join(out, 'pretrain', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((x) => x.val_loss !== undefined);
  assert.equal(Number(hooks.get('pretrain.valLoss')), evals.at(-1).val_loss);
  assert.match(html, /<figure data-testid="report-chart" data-key="pretrain\.loss"><svg [^>]*>.*<polyline /);
  assert.doesNotMatch(html, /<script|src="http|href="http/);

  const md = join(tempDir('report-md'), 'report.md');
  assert.equal(cli('report', out, '--out', md).status, 0);
  const text = readFileSync(md, 'utf8');
  assert.match(text, /^# Report card: demo\n/);
  assert.match(text, /\| best validation loss \| [\d.]+ \| pretrain\.bestValLoss \|/);
  assert.equal(text, renderMarkdown(card));
  const j = cli('report', out, '--json');
  assert.equal(j.status, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), JSON.parse(JSON.stringify(card)));
});

test('hostile text in the run name, description and samples is shown as text in HTML and Markdown', () => {
  const evil = '<img src=x onerror=alert(1)>';
  const run = join(tempDir('report-evil'), evil);
  cpSync(tinyDemo(), run, { recursive: true });
  const recipe = json(join(run, 'recipe.json'));
  writeFileSync(join(run, 'recipe.json'), JSON.stringify({ ...recipe, description: `desc ${evil}` }));
  writeFileSync(
    join(run, 'sample', 'samples.json'),
    JSON.stringify({ samples: [{ prompt: `p ${evil}`, text: `t ${evil}"' & |`, stopReason: 'eos' }] }),
  );
  appendFileSync(
    join(run, 'pretrain', 'metrics.jsonl'),
    `${JSON.stringify({ step: 7, val_loss: 1, ppl: 2.7, bpb: 0.5, sample: `s ${evil}` })}\n`,
  );
  const card = collectReport(run);
  assert.equal(card.name, evil);
  const html = renderHtml(card);
  assert.doesNotMatch(html, /<img/);
  assert.equal(html.split('&lt;img src=x onerror=alert(1)&gt;').length - 1, 7); // title, h1, dir, description, prompt, sample, eval sample
  assert.equal(html.split('s &lt;img').length - 1, 1);
  assert.match(html, /t &lt;img src=x onerror=alert\(1\)&gt;&quot;&#39; &amp; \|/);
  const md = renderMarkdown(card);
  assert.doesNotMatch(md, /<img/);
  assert.match(md, /t &lt;img src=x onerror=alert\(1\)>"' &amp; \\\|/);
  const r = cli('report', run, '--out', join(run, 'r.html'));
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(readFileSync(join(run, 'r.html'), 'utf8'), /<img/);
});

test('a metrics.jsonl line still being written is left out; a broken line before the end is a one-line error', () => {
  const run = join(tempDir('report-live'), 'live');
  cpSync(tinyDemo(), run, { recursive: true });
  const path = join(run, 'pretrain', 'metrics.jsonl');
  const before = collectReport(run);
  appendFileSync(path, '{"step":7,"val_lo');
  assert.deepEqual(collectReport(run), before);
  appendFileSync(path, '\n{"step":8}\n');
  const r = cli('report', run);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: report: pretrain\/metrics\.jsonl:\d+: expected one JSON object per line\n$/);
});

/** A run directory with one stage of each evaluation type, its files in the shapes the stages write. */
function fixtureRun(): string {
  const run = join(tempDir('report-fixture'), 'align');
  const stages = [
    ['mc', 'eval-mc'],
    ['spam', 'classify'],
    ['sft', 'sft'],
    ['rm', 'reward'],
    ['dpo', 'dpo'],
    ['ppo', 'ppo'],
    ['later', 'pretrain'],
  ];
  mkdirSync(run, { recursive: true });
  writeFileSync(
    join(run, 'recipe.json'),
    JSON.stringify({
      source: 'x.yaml',
      seed: 3,
      stages: stages.map(([name, type], index) => ({ index, name, type, params: {} })),
    }),
  );
  const put = (stage: string, file: string, v: unknown) => {
    mkdirSync(join(run, stage), { recursive: true });
    writeFileSync(join(run, stage, file), typeof v === 'string' ? v : JSON.stringify(v));
  };
  for (const [name] of stages.slice(0, 6)) put(name!, '.complete', { seconds: 2.5, finishedAt: 'then' });
  put('mc', 'report.json', {
    chance: 0.25,
    n: 40,
    correct: 30,
    correctNorm: 28,
    accuracy: 0.75,
    accuracyNorm: 0.7,
    ci: { low: 0.6, high: 0.86 },
    ciNorm: { low: 0.55, high: 0.82 },
    truncated: 0,
    categories: [{ category: 'capital', n: 20, correct: 18, accuracy: 0.9, ci: { low: 0.7, high: 0.97 } }],
  });
  put('spam', 'report.json', {
    labels: ['ham', 'spam'],
    steps: 30,
    val: null,
    test: {
      accuracy: 0.9,
      n: 20,
      confusion: [
        [10, 1],
        [1, 8],
      ],
      perClass: [
        { label: 'ham', precision: 0.9, recall: 0.9, f1: 0.91, support: 11 },
        { label: 'spam', precision: 0.9, recall: 0.9, f1: 0.89, support: 9 },
      ],
    },
  });
  put('sft', 'eval.json', { steps: 5, trainLoss: 1.5, valLoss: 1.7, responses: 4, exactMatch: 0.25, rougeL: 0.6 });
  put(
    'sft',
    'responses.jsonl',
    `${JSON.stringify({ prompt: 'q', reference: 'a', response: 'b', exactMatch: false, rougeL: 0 })}\n`,
  );
  put('rm', 'eval.json', {
    steps: 9,
    val: { pairs: 12, loss: 0.4, accuracy: 0.8333, meanChosen: 1, meanRejected: 0, margin: 1 },
    bestValAccuracy: 0.9167,
  });
  put('rm', 'metrics.jsonl', '{"step":1,"loss":0.7}\n{"step":2,"loss":0.6,"val_loss":0.65,"val_accuracy":0.5}\n');
  put('dpo', 'eval.json', {
    steps: 4,
    initial: { chosen: 0, rejected: 0, accuracy: 0, margin: 0, loss: 0.69, pairs: 6 },
    final: { chosen: 0.3, rejected: -0.2, accuracy: 0.83, margin: 0.5, loss: 0.5, pairs: 6 },
  });
  put('ppo', 'eval.json', {
    iterations: 3,
    heldOut: { prompts: 4, before: { reward: -0.5, length: 10 }, after: { reward: 0.25, length: 8 } },
  });
  put('ppo', 'metrics.jsonl', '{"iteration":1,"reward":-0.4}\n{"iteration":2,"reward":0.1}\n');
  put('later', '.started', { startedAt: 'now' });
  return run;
}

test('eval-mc, classify, sft, reward, dpo and ppo stages give their headline figures by stable key', () => {
  const card = collectReport(fixtureRun());
  const expect: Record<string, number | string> = {
    'mc.accuracy': 0.75,
    'mc.accuracyNorm': 0.7,
    'mc.chance': 0.25,
    'mc.categories.0.accuracy': 0.9,
    'spam.test.accuracy': 0.9,
    'spam.test.f1.1': 0.89,
    'spam.test.macroF1': 0.9,
    'spam.steps': 30,
    'sft.exactMatch': 0.25,
    'sft.rougeL': 0.6,
    'rm.accuracy': 0.8333,
    'rm.bestAccuracy': 0.9167,
    'dpo.before.margin': 0,
    'dpo.after.margin': 0.5,
    'dpo.after.accuracy': 0.83,
    'ppo.before.reward': -0.5,
    'ppo.after.reward': 0.25,
    'ppo.wallTime': 2.5,
  };
  for (const [k, v] of Object.entries(expect)) assert.equal(metric(card, k), v, k);
  const mc = card.stages[0]!.metrics.find((m) => m.key === 'mc.accuracy')!;
  assert.deepEqual(mc.interval, { low: 0.6, high: 0.86 });
  assert.ok(!card.stages.flatMap((s) => s.metrics).some((m) => m.key.startsWith('spam.val.')));
  assert.deepEqual(card.stages[1]!.confusion, [
    {
      split: 'test',
      labels: ['ham', 'spam'],
      rows: [
        [10, 1],
        [1, 8],
      ],
    },
  ]);
  assert.deepEqual(card.stages[2]!.samples, [{ prompt: 'q', text: 'b', expected: 'a', note: 'responses.jsonl' }]);
  assert.deepEqual(
    card.stages[3]!.charts.map((c) => [c.key, c.series.map((s) => s.name)]),
    [
      ['rm.loss', ['train', 'validation']],
      ['rm.accuracy', ['validation']],
    ],
  );
  assert.deepEqual(card.stages[5]!.charts[0]!.series[0]!.points, [
    [1, -0.4],
    [2, 0.1],
  ]);
  assert.equal(card.stages[6]!.status, 'started');
  assert.deepEqual(card.stages[6]!.metrics, []);
  const md = renderMarkdown(card);
  assert.match(md, /\| accuracy \(30\/40\) \| 75\.0% \(95% CI 60\.0%–86\.0%\) \| mc\.accuracy \|/);
  assert.match(md, /\| spam \| 1 \| 8 \|/);
  assert.match(md, /## later \(pretrain\) — not finished/);
});

test('report: a missing directory, a directory that is not a recipe run and a bad --out are one error line', () => {
  const dir = tempDir('report-err');
  const cases: [string[], RegExp][] = [
    [['report'], /^error: report: expected a recipe run directory/],
    [['report', join(dir, 'nope')], /^error: report: .*nope: no such directory\n$/],
    [['report', dir], /^error: report: .* is not a recipe run \(no recipe\.json\); give the out directory of/],
    [
      ['report', tinyDemo(), '--out', join(dir, 'r.pdf')],
      /^error: report: --out .*r\.pdf: expected a file ending in \.md or \.html, received "\.pdf"\n$/,
    ],
    [['report', tinyDemo(), 'extra'], /^error: report: unexpected argument "extra"/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
  }
  writeFileSync(join(dir, 'recipe.json'), '{"stages": 3}');
  assert.match(
    cli('report', dir).stderr,
    /^error: report: .*recipe\.json: expected a recipe state with a "stages" list\n$/,
  );
  writeFileSync(join(dir, 'recipe.json'), '{"stages": [{"name": "..", "type": "data"}]}');
  assert.match(
    cli('report', dir).stderr,
    /^error: report: .*recipe\.json: stages\[0\]: expected \{ "name", "type" \} with a plain stage name\n$/,
  );
  assert.ok(!existsSync(join(dir, 'r.pdf')));
  const help = cli('report', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /llmforge report runs\/demo --out report\.md/);
});
