/**
 * The report card of a recipe run: its typed shape (ReportCard) and `collectReport(runDir)`, which reads recipe.json,
 * each stage's `.started`/`.complete` markers and the files the stages already write (data/meta.json,
 * tokenizer.json, metrics.jsonl, report.json, eval.json, samples.json, ...) and keeps each stage's headline figures
 * as metrics with stable keys (`<stage name>.<figure>`, e.g. `pretrain.valLoss`), plus loss curves, samples, next-token
 * predictions and confusion matrices. Only figures found in those files are reported (a mean of per-class F1 says so
 * in its label); a stage without its file simply has fewer figures. The Markdown and HTML renderers and the studio
 * page all draw from this one object.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { countParameters } from '../models/flops.ts';
import { readModelConfig } from '../models/model-io.ts';
import { UserError } from '../util/user-error.ts';

export interface ReportMetric {
  /** Stable key: `<stage name>.<figure>`, e.g. `pretrain.valLoss`. */
  key: string;
  /** What the figure is, for people. */
  label: string;
  value: number | string;
  /** How to show a number: a share shown as a percentage, seconds, a count, or a plain number. */
  kind: 'percent' | 'seconds' | 'count' | 'number' | 'text';
  /** A 95% interval, where the file gives one. */
  interval?: { low: number; high: number };
  /** The file it was read from, relative to the run directory. */
  source: string;
}

export interface ReportSeries {
  name: string;
  /** [step, value] in step order. */
  points: [number, number][];
}

export interface ReportChart {
  key: string;
  title: string;
  series: ReportSeries[];
  source: string;
}

export interface ReportSample {
  prompt: string;
  text: string;
  /** What the text should have been (SFT references, chat-sample expectations). */
  expected?: string;
  /** Where it came from, e.g. "step 1200" or "samples.json". */
  note?: string;
}

export interface ReportPrediction {
  prompt: string;
  top: { token: string; prob: number }[];
}

export interface ReportConfusion {
  /** Which split it was measured on (test or val). */
  split: string;
  labels: string[];
  /** rows[true][predicted]. */
  rows: number[][];
}

export interface ReportStage {
  name: string;
  type: string;
  /** complete: its .complete marker exists; started: only .started (running, stopped or failed); pending: neither. */
  status: 'complete' | 'started' | 'pending';
  startedAt: string | null;
  finishedAt: string | null;
  /** Wall time from the .complete marker. */
  seconds: number | null;
  metrics: ReportMetric[];
  charts: ReportChart[];
  samples: ReportSample[];
  predictions: ReportPrediction[];
  confusion: ReportConfusion[];
}

export interface ReportCard {
  format: 'llmforge-report';
  /** The run directory as given. */
  dir: string;
  /** Its last path component. */
  name: string;
  recipe: string | null;
  description: string | null;
  seed: number | null;
  stages: ReportStage[];
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function readJson(path: string, runDir: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new UserError(
      `report: ${relative(runDir, path) || path}: expected a JSON file, ${(e as Error).message.split('\n')[0]}`,
    );
  }
}

/** A stage file's JSON object, or null when the file is not there. */
function readStageJson(path: string, runDir: string): Json | null {
  if (!existsSync(path)) return null;
  const v = readJson(path, runDir);
  if (!isObj(v)) throw new UserError(`report: ${relative(runDir, path)}: expected a JSON object`);
  return v;
}

/** The records of a metrics.jsonl; a last line cut short (a run still writing) is left out. */
export function readMetricsLines(path: string, runDir = ''): Json[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Json[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return; // still being written
      throw new UserError(`report: ${relative(runDir, path)}:${i + 1}: expected one JSON object per line`);
    }
    if (isObj(v)) out.push(v);
  });
  return out;
}

class StageReader {
  readonly stage: ReportStage;
  constructor(
    readonly runDir: string,
    readonly dir: string,
    stage: ReportStage,
    /** The stage's parameters from recipe.json. */
    readonly params: Json,
  ) {
    this.stage = stage;
  }
  file(name: string): string {
    return join(this.dir, name);
  }
  src(name: string): string {
    return `${this.stage.name}/${name}`;
  }
  json(name: string): Json | null {
    return readStageJson(this.file(name), this.runDir);
  }
  metric(
    figure: string,
    label: string,
    value: unknown,
    kind: ReportMetric['kind'],
    source: string,
    interval?: unknown,
  ): void {
    const v = kind === 'text' ? str(value) : num(value);
    if (v === undefined) return;
    const m: ReportMetric = { key: `${this.stage.name}.${figure}`, label, value: v, kind, source: this.src(source) };
    if (isObj(interval) && num(interval.low) !== undefined && num(interval.high) !== undefined)
      m.interval = { low: interval.low as number, high: interval.high as number };
    this.stage.metrics.push(m);
  }
}

/** Loss (and accuracy or reward) curves from a metrics.jsonl: one chart per family of fields that the file has. */
function metricsCharts(r: StageReader, rows: Json[]): void {
  const families: { key: string; title: string; fields: [string, string][] }[] = [
    {
      key: 'loss',
      title: 'Loss',
      fields: [
        ['loss', 'train'],
        ['val_loss', 'validation'],
      ],
    },
    { key: 'accuracy', title: 'Validation accuracy', fields: [['val_accuracy', 'validation']] },
    { key: 'reward', title: 'Reward', fields: [['reward', 'mean reward']] },
  ];
  for (const f of families) {
    const series: ReportSeries[] = [];
    for (const [field, name] of f.fields) {
      const byStep = new Map<number, number>();
      for (const row of rows) {
        const step = num(row.step) ?? num(row.iteration) ?? num(row.epoch);
        const v = num(row[field]);
        if (step !== undefined && v !== undefined) byStep.set(step, v); // a resumed run's later line wins
      }
      if (byStep.size > 0)
        series.push({ name, points: [...byStep.entries()].sort((a, b) => a[0] - b[0]) as [number, number][] });
    }
    if (series.length > 0)
      r.stage.charts.push({ key: `${r.stage.name}.${f.key}`, title: f.title, series, source: r.src('metrics.jsonl') });
  }
}

function lastWith(rows: Json[], field: string): Json | undefined {
  for (let i = rows.length - 1; i >= 0; i--) if (num(rows[i]![field]) !== undefined) return rows[i];
  return undefined;
}

function readData(r: StageReader): void {
  const meta = r.json('meta.json');
  if (!meta) return;
  const splits = isObj(meta.splits) ? meta.splits : {};
  const train = isObj(splits.train) ? splits.train : {};
  const val = isObj(splits.val) ? splits.val : {};
  r.metric('trainTokens', 'training tokens', train.tokens, 'count', 'meta.json');
  r.metric('valTokens', 'validation tokens', val.tokens, 'count', 'meta.json');
  r.metric('trainDocuments', 'training documents', train.documents, 'count', 'meta.json');
  r.metric('valDocuments', 'validation documents', val.documents, 'count', 'meta.json');
  r.metric('vocabSize', 'vocabulary size', meta.vocabSize, 'count', 'meta.json');
  const tokens = (num(train.tokens) ?? 0) + (num(val.tokens) ?? 0);
  const bytes =
    num(train.bytes) !== undefined && num(val.bytes) !== undefined ? num(train.bytes)! + num(val.bytes)! : 0;
  if (tokens > 0 && bytes > 0)
    r.metric('bytesPerToken', 'tokenizer compression (UTF-8 bytes per token)', bytes / tokens, 'number', 'meta.json');
  const sources = Array.isArray(meta.sources) ? meta.sources.filter(isObj) : [];
  sources.forEach((s, i) => {
    const name = str(s.name) ?? `#${i}`;
    r.metric(`sources.${i}.name`, `source ${i + 1}`, name, 'text', 'meta.json');
    r.metric(`sources.${i}.trainTokens`, `source ${name}: training tokens`, s.trainTokens, 'count', 'meta.json');
    r.metric(`sources.${i}.share`, `source ${name}: share of training tokens`, s.share, 'percent', 'meta.json');
  });
}

function readTokenizer(r: StageReader): void {
  const tok = r.json('tokenizer.json');
  if (!tok) return;
  const model = isObj(tok.model) ? tok.model : {};
  const ids = new Set<number>();
  if (isObj(model.vocab)) for (const id of Object.values(model.vocab)) if (typeof id === 'number') ids.add(id);
  if (Array.isArray(tok.added_tokens))
    for (const t of tok.added_tokens) if (isObj(t) && typeof t.id === 'number') ids.add(t.id);
  if (ids.size > 0) r.metric('vocabSize', 'vocabulary size', ids.size, 'count', 'tokenizer.json');
  if (Array.isArray(model.merges)) r.metric('merges', 'BPE merges', model.merges.length, 'count', 'tokenizer.json');
}

function readModel(r: StageReader): void {
  if (!existsSync(r.file('config.json'))) return;
  let config: ReturnType<typeof readModelConfig>['config'];
  try {
    config = readModelConfig(r.dir).config;
  } catch (e) {
    throw new UserError(`report: ${r.src('config.json')}: ${(e as Error).message}`);
  }
  r.metric('parameters', 'parameters', countParameters(config).total, 'count', 'config.json');
  r.metric('layers', 'layers', config.nLayer, 'count', 'config.json');
  r.metric('width', 'width (embedding size)', config.nEmbd, 'count', 'config.json');
  r.metric('context', 'context length', config.blockSize, 'count', 'config.json');
}

/** pretrain and the other stages that log training to metrics.jsonl. */
function readTraining(r: StageReader): void {
  const rows = readMetricsLines(r.file('metrics.jsonl'), r.runDir);
  if (rows.length === 0) return;
  const m = 'metrics.jsonl';
  const lastVal = lastWith(rows, 'val_loss');
  if (lastVal) {
    r.metric('valLoss', 'validation loss (last evaluation)', lastVal.val_loss, 'number', m);
    r.metric('perplexity', 'validation perplexity (last evaluation)', lastVal.ppl, 'number', m);
    r.metric('bitsPerByte', 'validation bits per byte (last evaluation)', lastVal.bpb, 'number', m);
    const vals = rows.map((x) => num(x.val_loss)).filter((x): x is number => x !== undefined);
    r.metric('bestValLoss', 'best validation loss', Math.min(...vals), 'number', m);
    if (typeof lastVal.sample === 'string')
      r.stage.samples.push({
        prompt: str(r.params.samplePrompt) ?? '',
        text: lastVal.sample,
        note: `${m}, step ${String(lastVal.step)}`,
      });
  }
  const lastTrain = lastWith(rows, 'loss');
  if (lastTrain) {
    r.metric('steps', 'steps', lastTrain.step ?? lastTrain.iteration, 'count', m);
    r.metric('trainLoss', 'training loss (last log)', lastTrain.loss, 'number', m);
  }
  const speed = lastWith(rows, 'tokens_per_s');
  if (speed) r.metric('tokensPerSec', 'tokens/s (last log)', speed.tokens_per_s, 'number', m);
  const mfu = lastWith(rows, 'mfu');
  if (mfu) r.metric('mfu', 'model FLOPs utilization (last log)', mfu.mfu, 'percent', m);
  const precision = [...rows].reverse().find((x) => typeof x.precision === 'string');
  if (precision) r.metric('precision', 'precision', precision.precision, 'text', m);
  metricsCharts(r, rows);
}

function readPredict(r: StageReader): void {
  const p = r.json('predictions.json');
  if (!p || !Array.isArray(p.results)) return;
  p.results.filter(isObj).forEach((res, i) => {
    const top = (Array.isArray(res.predictions) ? res.predictions.filter(isObj) : [])
      .filter((x) => typeof x.token === 'string' && num(x.prob) !== undefined)
      .map((x) => ({ token: x.token as string, prob: x.prob as number }));
    const prompt = str(res.prompt) ?? '';
    r.stage.predictions.push({ prompt, top });
    if (top[0]) {
      r.metric(
        `top1.${i}.token`,
        `most likely next token after ${JSON.stringify(prompt)}`,
        top[0].token,
        'text',
        'predictions.json',
      );
      r.metric(
        `top1.${i}.prob`,
        `its probability (${JSON.stringify(top[0].token)})`,
        top[0].prob,
        'percent',
        'predictions.json',
      );
    }
  });
}

function readSamples(r: StageReader): void {
  const s = r.json('samples.json');
  if (!s || !Array.isArray(s.samples)) return;
  for (const x of s.samples.filter(isObj))
    if (typeof x.text === 'string')
      r.stage.samples.push({ prompt: str(x.prompt) ?? '', text: x.text, note: 'samples.json' });
}

function readChatSample(r: StageReader): void {
  const a = r.json('answers.json');
  if (!a || !Array.isArray(a.answers)) return;
  const answers = a.answers.filter(isObj);
  for (const x of answers)
    r.stage.samples.push({
      prompt: str(x.question) ?? '',
      text: str(x.answer) ?? '',
      ...(typeof x.expected === 'string' ? { expected: x.expected } : {}),
      note: 'answers.json',
    });
  const judged = answers.filter((x) => typeof x.exactMatch === 'boolean');
  if (judged.length > 0)
    r.metric(
      'exactMatch',
      `answers equal to the expected (${judged.filter((x) => x.exactMatch).length}/${judged.length})`,
      judged.filter((x) => x.exactMatch).length / judged.length,
      'percent',
      'answers.json',
    );
}

function readClassify(r: StageReader): void {
  const rep = r.json('report.json');
  if (!rep) return;
  const labels = Array.isArray(rep.labels) ? rep.labels.map(String) : [];
  r.metric('steps', 'steps', rep.steps, 'count', 'report.json');
  for (const split of ['test', 'val'] as const) {
    const s = rep[split];
    if (!isObj(s)) continue;
    const name = split === 'test' ? 'test' : 'validation';
    r.metric(`${split}.accuracy`, `${name} accuracy`, s.accuracy, 'percent', 'report.json');
    r.metric(`${split}.n`, `${name} examples`, s.n, 'count', 'report.json');
    const per = Array.isArray(s.perClass) ? s.perClass.filter(isObj) : [];
    per.forEach((c, i) => {
      r.metric(`${split}.f1.${i}`, `${name} F1 of ${str(c.label) ?? `class ${i}`}`, c.f1, 'number', 'report.json');
    });
    const f1s = per.map((c) => num(c.f1)).filter((x): x is number => x !== undefined);
    if (f1s.length > 0 && f1s.length === per.length)
      r.metric(
        `${split}.macroF1`,
        `${name} macro F1 (mean of the per-class F1)`,
        f1s.reduce((a, b) => a + b, 0) / f1s.length,
        'number',
        'report.json',
      );
    if (Array.isArray(s.confusion))
      r.stage.confusion.push({
        split: name,
        labels,
        rows: s.confusion.map((row) => (Array.isArray(row) ? row.map((x) => num(x) ?? 0) : [])),
      });
  }
  metricsCharts(r, readMetricsLines(r.file('metrics.jsonl'), r.runDir));
}

function readSft(r: StageReader): void {
  const e = r.json('eval.json');
  if (e) {
    r.metric(
      'exactMatch',
      `exact match (${String(e.responses ?? '?')} held-out answers)`,
      e.exactMatch,
      'percent',
      'eval.json',
    );
    r.metric('rougeL', 'ROUGE-L F1', e.rougeL, 'number', 'eval.json');
    r.metric('valLoss', 'validation loss', e.valLoss, 'number', 'eval.json');
    r.metric('trainLoss', 'training loss (last)', e.trainLoss, 'number', 'eval.json');
    r.metric('steps', 'steps', e.steps, 'count', 'eval.json');
  }
  const path = r.file('responses.jsonl');
  for (const row of readMetricsLines(path, r.runDir).slice(0, 5))
    r.stage.samples.push({
      prompt: str(row.prompt) ?? '',
      text: str(row.response) ?? '',
      ...(typeof row.reference === 'string' ? { expected: row.reference } : {}),
      note: 'responses.jsonl',
    });
  metricsCharts(r, readMetricsLines(r.file('metrics.jsonl'), r.runDir));
}

function readReward(r: StageReader): void {
  const e = r.json('eval.json');
  if (e) {
    const val = isObj(e.val) ? e.val : {};
    r.metric(
      'accuracy',
      `held-out pair accuracy (${String(val.pairs ?? '?')} pairs)`,
      val.accuracy,
      'percent',
      'eval.json',
    );
    r.metric('bestAccuracy', 'best held-out pair accuracy', e.bestValAccuracy, 'percent', 'eval.json');
    r.metric('margin', 'mean reward margin (chosen - rejected)', val.margin, 'number', 'eval.json');
    r.metric('steps', 'steps', e.steps, 'count', 'eval.json');
  }
  metricsCharts(r, readMetricsLines(r.file('metrics.jsonl'), r.runDir));
}

function readDpo(r: StageReader): void {
  const e = r.json('eval.json');
  if (e) {
    for (const [when, label] of [
      ['initial', 'before'],
      ['final', 'after'],
    ] as const) {
      const x = isObj(e[when]) ? (e[when] as Json) : {};
      r.metric(`${label}.margin`, `held-out reward margin ${label}`, x.margin, 'number', 'eval.json');
      r.metric(`${label}.accuracy`, `held-out preference accuracy ${label}`, x.accuracy, 'percent', 'eval.json');
      r.metric(`${label}.chosen`, `held-out chosen reward ${label}`, x.chosen, 'number', 'eval.json');
      r.metric(`${label}.rejected`, `held-out rejected reward ${label}`, x.rejected, 'number', 'eval.json');
    }
    r.metric('steps', 'steps', e.steps, 'count', 'eval.json');
  }
  metricsCharts(r, readMetricsLines(r.file('metrics.jsonl'), r.runDir));
}

function readPpo(r: StageReader): void {
  const e = r.json('eval.json');
  if (e) {
    const h = isObj(e.heldOut) ? e.heldOut : {};
    const before = isObj(h.before) ? h.before : {};
    const after = isObj(h.after) ? h.after : {};
    r.metric('before.reward', 'held-out mean reward before', before.reward, 'number', 'eval.json');
    r.metric('after.reward', 'held-out mean reward after', after.reward, 'number', 'eval.json');
    r.metric('before.length', 'held-out mean length before (tokens)', before.length, 'number', 'eval.json');
    r.metric('after.length', 'held-out mean length after (tokens)', after.length, 'number', 'eval.json');
    r.metric('iterations', 'iterations', e.iterations, 'count', 'eval.json');
  }
  metricsCharts(r, readMetricsLines(r.file('metrics.jsonl'), r.runDir));
}

function readEvalMc(r: StageReader): void {
  const e = r.json('report.json');
  if (!e) return;
  r.metric(
    'accuracy',
    `accuracy (${String(e.correct ?? '?')}/${String(e.n ?? '?')})`,
    e.accuracy,
    'percent',
    'report.json',
    e.ci,
  );
  r.metric(
    'accuracyNorm',
    `accuracy, log-prob per byte (${String(e.correctNorm ?? '?')}/${String(e.n ?? '?')})`,
    e.accuracyNorm,
    'percent',
    'report.json',
    e.ciNorm,
  );
  r.metric('chance', 'chance', e.chance, 'percent', 'report.json');
  r.metric('items', 'items', e.n, 'count', 'report.json');
  const cats = Array.isArray(e.categories) ? e.categories.filter(isObj) : [];
  cats.forEach((c, i) => {
    r.metric(
      `categories.${i}.accuracy`,
      `accuracy on ${str(c.category) ?? `category ${i}`} (${String(c.correct ?? '?')}/${String(c.n ?? '?')})`,
      c.accuracy,
      'percent',
      'report.json',
      c.ci,
    );
  });
}

function readDomain(r: StageReader): void {
  const e = r.json('domain-report.json');
  if (e) {
    for (const part of ['domain', 'general'] as const) {
      const x = isObj(e[part]) ? (e[part] as Json) : null;
      if (!x) continue;
      for (const when of ['before', 'after'] as const) {
        const s = isObj(x[when]) ? (x[when] as Json) : {};
        r.metric(
          `${part}.${when}.perplexity`,
          `${part} text perplexity ${when}`,
          s.ppl,
          'number',
          'domain-report.json',
        );
        r.metric(
          `${part}.${when}.bitsPerByte`,
          `${part} text bits per byte ${when}`,
          s.bitsPerByte,
          'number',
          'domain-report.json',
        );
      }
    }
  }
  readTraining(r);
}

const READERS: Record<string, (r: StageReader) => void> = {
  data: readData,
  tokenizer: readTokenizer,
  model: readModel,
  pretrain: readTraining,
  predict: readPredict,
  sample: readSamples,
  'chat-sample': readChatSample,
  classify: readClassify,
  sft: readSft,
  reward: readReward,
  dpo: readDpo,
  ppo: readPpo,
  'eval-mc': readEvalMc,
  domain: readDomain,
};

/** The stage list of a recipe.json: [{ name, type, params }]; a UserError when the file is not one. */
function recipeStages(recipe: unknown, path: string): { name: string; type: string; params: Json }[] {
  if (!isObj(recipe) || !Array.isArray(recipe.stages))
    throw new UserError(`report: ${path}: expected a recipe state with a "stages" list`);
  return recipe.stages.map((s, i) => {
    if (!isObj(s) || typeof s.name !== 'string' || typeof s.type !== 'string' || !/^(?!\.+$)[\w.-]+$/.test(s.name))
      throw new UserError(`report: ${path}: stages[${i}]: expected { "name", "type" } with a plain stage name`);
    return { name: s.name, type: s.type, params: isObj(s.params) ? s.params : {} };
  });
}

/** Reads a recipe run directory (what `llmforge run` writes) into its report card; see the file comment. */
export function collectReport(runDir: string): ReportCard {
  if (!existsSync(runDir)) throw new UserError(`report: ${runDir}: no such directory`);
  if (!statSync(runDir).isDirectory())
    throw new UserError(`report: ${runDir}: expected a recipe run directory, received a file`);
  const recipePath = join(runDir, 'recipe.json');
  if (!existsSync(recipePath))
    throw new UserError(
      `report: ${runDir} is not a recipe run (no recipe.json); give the out directory of \`llmforge run\`, e.g. runs/demo`,
    );
  const recipe = readJson(recipePath, runDir);
  const stages = recipeStages(recipe, recipePath);
  const r = recipe as Json;
  return {
    format: 'llmforge-report',
    dir: runDir,
    name: basename(runDir.replace(/[/\\]+$/, '')) || runDir,
    recipe: str(r.source) ?? null,
    description: str(r.description) ?? null,
    seed: num(r.seed) ?? null,
    stages: stages.map(({ name, type, params }) => {
      const dir = join(runDir, name);
      const started = readStageJson(join(dir, '.started'), runDir);
      const complete = readStageJson(join(dir, '.complete'), runDir);
      const stage: ReportStage = {
        name,
        type,
        status: complete ? 'complete' : started ? 'started' : 'pending',
        startedAt: str(started?.startedAt) ?? null,
        finishedAt: str(complete?.finishedAt) ?? null,
        seconds: num(complete?.seconds) ?? null,
        metrics: [],
        charts: [],
        samples: [],
        predictions: [],
        confusion: [],
      };
      const reader = new StageReader(runDir, dir, stage, params);
      if (existsSync(dir)) READERS[type]?.(reader);
      if (stage.seconds !== null) reader.metric('wallTime', 'wall time', stage.seconds, 'seconds', '.complete');
      return stage;
    }),
  };
}
