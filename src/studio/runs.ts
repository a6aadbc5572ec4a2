/**
 * What the studio knows about the runs under its runs directory, read from the files alone (no process table, no
 * lock files). A run is a direct subdirectory holding `metrics.jsonl`, a checkpoint state (`checkpoints/latest/*state.json`)
 * or recipe state (`recipe.json`, whose stages keep `.started` / `.complete` markers, see src/recipes/runner.ts).
 * Status is inferred, in this order: finished (recipe: every stage has `.complete`; run: the checkpoint's step has
 * reached its config's `steps`, or the run wrote its final `eval.json` or `model/`), running (not finished and a
 * file of the run changed within `activeWindowMs`), stopped (not finished, quiet, with a checkpoint to resume from:
 * Ctrl-C or a crash after a checkpoint, the files cannot tell which), failed (not finished, quiet, nothing to resume
 * from). Reading is cheap: only small state files and the last 64 KiB of metrics.jsonl are read.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type RunStatus = 'running' | 'finished' | 'stopped' | 'failed';
export type StageStatus = RunStatus | 'pending';

export interface StageSummary {
  name: string;
  type: string;
  status: StageStatus;
  step: number | null;
  steps: number | null;
}

export interface RunSummary {
  /** The run directory's name (one path segment under the runs directory). */
  name: string;
  /** 'recipe', or the checkpoint state's format ('llmforge-train-state', 'llmforge-sft-state', ...), or 'run'. */
  kind: string;
  status: RunStatus;
  /** Why the status was inferred, in a few words. */
  reason: string;
  /** ISO time: a recipe's first stage start, else the run directory's creation (or its oldest file) time. */
  startedAt: string | null;
  /** ISO time of the newest write seen. */
  updatedAt: string | null;
  /** The model preset or architecture, e.g. "char-tiny (gpt2, 1 layers, 32 wide, context 16)". */
  model: string | null;
  /** The last step in metrics.jsonl. */
  step: number | null;
  /** The step count the run aims at (the checkpoint's config.steps), when known. */
  steps: number | null;
  /** A recipe run's stages, in order. */
  stages?: StageSummary[];
}

export interface RunDetail extends RunSummary {
  /** recipe.json for a recipe run; else the checkpoint state's config, model and run fields. */
  config: Record<string, unknown> | null;
  /** The last metrics record, and the last one holding an evaluation (a key starting with val_ or test_). */
  last: Record<string, unknown> | null;
  lastEval: Record<string, unknown> | null;
  /** The metrics.jsonl files the metrics endpoint tails: "" for the run's own, else the stage name. */
  metrics: string[];
}

export interface RunsOptions {
  /** A run with a write this recent (ms) and not finished is running (default 120 000). */
  activeWindowMs?: number;
  now?: number;
}

const TAIL_BYTES = 64 * 1024;

function readJson(path: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The complete JSON records in the last `TAIL_BYTES` of a metrics file, oldest first. */
export function tailRecords(path: string): Record<string, unknown>[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(path).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    const lines = buf.subarray(0, n).toString('utf8').split('\n');
    if (start > 0) lines.shift(); // the first line is probably cut
    const out: Record<string, unknown>[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (typeof v === 'object' && v !== null) out.push(v as Record<string, unknown>);
      } catch {
        // a line being written, or torn by a crash
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The checkpoint state of a run directory (checkpoints/latest/state.json or another *state.json there). */
function checkpointState(dir: string): { state: Record<string, unknown>; path: string } | null {
  const latest = join(dir, 'checkpoints', 'latest');
  if (!isDir(latest)) return null;
  const names = readdirSync(latest).filter((n) => n.endsWith('state.json'));
  names.sort((a, b) => (a === 'state.json' ? -1 : b === 'state.json' ? 1 : a.localeCompare(b)));
  for (const n of names) {
    const state = readJson(join(latest, n));
    if (state) return { state, path: join(latest, n) };
  }
  return null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function describeModel(state: Record<string, unknown> | null): string | null {
  if (!state) return null;
  const m = state.model as Record<string, unknown> | undefined;
  const run = state.run as Record<string, unknown> | undefined;
  const preset = typeof run?.model === 'string' ? run.model : typeof run?.preset === 'string' ? run.preset : null;
  const arch =
    m && typeof m.arch === 'string' ? `${m.arch}, ${m.nLayer} layers, ${m.nEmbd} wide, context ${m.blockSize}` : null;
  if (preset && arch) return `${preset} (${arch})`;
  return preset ?? arch;
}

function lastStep(records: Record<string, unknown>[]): number | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const s = num(records[i]!.step);
    if (s !== null) return s;
  }
  return null;
}

interface DirFacts {
  status: RunStatus;
  reason: string;
  state: Record<string, unknown> | null;
  step: number | null;
  steps: number | null;
  newest: number;
  records: Record<string, unknown>[];
}

/** The status of one training directory (a plain run, or a recipe stage that has started). */
function inspectDir(dir: string, now: number, windowMs: number, extraFiles: string[] = []): DirFacts {
  const cp = checkpointState(dir);
  const metricsPath = join(dir, 'metrics.jsonl');
  const records = tailRecords(metricsPath);
  const state = cp?.state ?? null;
  const step = lastStep(records) ?? num(state?.step);
  const steps = num((state?.config as Record<string, unknown> | undefined)?.steps);
  const newest = Math.max(
    mtime(metricsPath),
    cp ? mtime(cp.path) : 0,
    mtime(join(dir, 'samples.jsonl')),
    ...extraFiles.map(mtime),
  );
  const base = { state, step, steps, newest, records };
  const cpStep = num(state?.step);
  if (cpStep !== null && steps !== null && steps > 0 && cpStep >= steps)
    return { ...base, status: 'finished', reason: `checkpoint at step ${cpStep} of ${steps}` };
  if (existsSync(join(dir, 'eval.json')) || existsSync(join(dir, 'model', 'config.json')))
    return { ...base, status: 'finished', reason: 'final eval.json or model/ written' };
  if (newest > 0 && now - newest < windowMs)
    return { ...base, status: 'running', reason: `written ${Math.round((now - newest) / 1000)} s ago` };
  if (cp) return { ...base, status: 'stopped', reason: `quiet, checkpoint at step ${cpStep ?? '?'} to resume from` };
  return { ...base, status: 'failed', reason: 'quiet, unfinished, no checkpoint' };
}

function iso(ms: number): string | null {
  return ms > 0 ? new Date(ms).toISOString() : null;
}

function createdAt(dir: string, files: string[]): number {
  try {
    const b = statSync(dir).birthtimeMs;
    if (b > 0) return b;
  } catch {
    // fall through
  }
  const times = files.map(mtime).filter((t) => t > 0);
  return times.length > 0 ? Math.min(...times) : 0;
}

interface Inspected {
  summary: RunSummary;
  config: Record<string, unknown> | null;
  records: Record<string, unknown>[];
  metrics: string[];
}

function inspectRecipe(name: string, dir: string, recipe: Record<string, unknown>, now: number, windowMs: number) {
  const stages = Array.isArray(recipe.stages) ? (recipe.stages as Record<string, unknown>[]) : [];
  const out: StageSummary[] = [];
  let newest = mtime(join(dir, 'recipe.json'));
  let started = 0;
  let model: string | null = null;
  let records: Record<string, unknown>[] = [];
  const metrics: string[] = [];
  for (const s of stages) {
    const sname = typeof s.name === 'string' ? s.name : '';
    const type = typeof s.type === 'string' ? s.type : '?';
    if (sname === '' || sname.includes('/') || sname.includes('\\') || sname === '..' || sname === '.') continue;
    const sdir = join(dir, sname);
    const startedMarker = readJson(join(sdir, '.started'));
    const t = typeof startedMarker?.startedAt === 'string' ? Date.parse(startedMarker.startedAt) : Number.NaN;
    if (started === 0 && Number.isFinite(t)) started = t;
    if (existsSync(join(sdir, 'metrics.jsonl'))) metrics.push(sname);
    if (existsSync(join(sdir, '.complete'))) {
      const facts = inspectDir(sdir, now, windowMs);
      newest = Math.max(newest, mtime(join(sdir, '.complete')));
      model = describeModel(facts.state) ?? model;
      if (facts.records.length > 0) records = facts.records;
      out.push({ name: sname, type, status: 'finished', step: facts.step, steps: facts.steps });
    } else if (startedMarker) {
      const facts = inspectDir(sdir, now, windowMs, [join(sdir, '.started')]);
      newest = Math.max(newest, facts.newest);
      model = describeModel(facts.state) ?? model;
      if (facts.records.length > 0) records = facts.records;
      // a stage is never "finished" without its .complete marker: the runner writes it last
      const status: RunStatus = facts.status === 'finished' ? 'running' : facts.status;
      out.push({ name: sname, type, status, step: facts.step, steps: facts.steps });
    } else {
      out.push({ name: sname, type, status: 'pending', step: null, steps: null });
    }
  }
  if (model === null) {
    for (const s of stages) {
      const p = s.params as Record<string, unknown> | undefined;
      if (typeof p?.model === 'string') {
        model = p.model;
        break;
      }
    }
  }
  let status: RunStatus;
  let reason: string;
  const open = out.find((s) => s.status !== 'finished');
  if (open === undefined) {
    status = 'finished';
    reason = `all ${out.length} stages complete`;
  } else if (out.some((s) => s.status === 'running')) {
    status = 'running';
    reason = `stage ${out.find((s) => s.status === 'running')!.name} is being written`;
  } else if (open.status === 'pending') {
    const recent = now - newest < windowMs;
    status = recent ? 'running' : 'stopped';
    reason = recent ? `stage ${open.name} about to start` : `quiet before stage ${open.name}`;
  } else {
    status = open.status as RunStatus;
    reason = `stage ${open.name}: ${open.status}`;
  }
  const cur = [...out].reverse().find((s) => s.step !== null);
  const summary: RunSummary = {
    name,
    kind: 'recipe',
    status,
    reason,
    startedAt: iso(started || createdAt(dir, [join(dir, 'recipe.json')])),
    updatedAt: iso(newest),
    model,
    step: cur?.step ?? null,
    steps: cur?.steps ?? null,
    stages: out,
  };
  return { summary, config: recipe, records, metrics };
}

function inspect(runsDir: string, name: string, opts: RunsOptions): Inspected | null {
  const dir = join(runsDir, name);
  if (!isDir(dir)) return null;
  const now = opts.now ?? Date.now();
  const windowMs = opts.activeWindowMs ?? 120_000;
  const recipe = readJson(join(dir, 'recipe.json'));
  if (recipe) return inspectRecipe(name, dir, recipe, now, windowMs);
  const hasMetrics = existsSync(join(dir, 'metrics.jsonl'));
  if (!hasMetrics && !checkpointState(dir)) return null;
  const f = inspectDir(dir, now, windowMs);
  const state = f.state;
  const config = state
    ? Object.fromEntries(['config', 'model', 'run', 'precision'].filter((k) => k in state).map((k) => [k, state[k]]))
    : null;
  const summary: RunSummary = {
    name,
    kind: typeof state?.format === 'string' ? state.format : 'run',
    status: f.status,
    reason: f.reason,
    startedAt: iso(createdAt(dir, [join(dir, 'metrics.jsonl')])),
    updatedAt: iso(f.newest),
    model: describeModel(state),
    step: f.step,
    steps: f.steps,
  };
  return { summary, config, records: f.records, metrics: hasMetrics ? [''] : [] };
}

/** Every run directly under `runsDir`, sorted by name. A missing runs directory has none. */
export function listRuns(runsDir: string, opts: RunsOptions = {}): RunSummary[] {
  let names: string[];
  try {
    names = readdirSync(runsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const r = inspect(runsDir, n, opts);
    return r ? [r.summary] : [];
  });
}

/** One run's summary, config and last metrics; null when `name` is not a run under `runsDir`. */
export function runDetail(runsDir: string, name: string, opts: RunsOptions = {}): RunDetail | null {
  if (!isRunName(name)) return null;
  const r = inspect(runsDir, name, opts);
  if (!r) return null;
  const isEval = (rec: Record<string, unknown>) => Object.keys(rec).some((k) => /^(val|test)_/.test(k));
  return {
    ...r.summary,
    config: r.config,
    last: r.records.at(-1) ?? null,
    lastEval: [...r.records].reverse().find(isEval) ?? null,
    metrics: r.metrics,
  };
}

/** A run name is one plain path segment (no separators, not "." or "..", no NUL). */
export function isRunName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}
