/**
 * `llmforge eval facts`: how many toy-world facts a model answers with its greedy next words, per fact kind and
 * phrasing (trained vs held-out), scored by src/eval/fact-check.ts (as the recipes' predict stage scores them). Several
 * models may be given, and `--checkpoints` scores every checkpoint saved in a training run, printing a table of
 * step x category in which skills can be watched emerging.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toyWorldProbes, type FactProbe } from '../../data/toy-world.ts';
import { checkpointStep, listCheckpoints } from '../../eval/checkpoints.ts';
import { formatFactsTable, type FactsRow } from '../../eval/facts-table.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { scoreFacts } from '../../eval/fact-check.ts';
import { UsageError, type Parsed } from '../args.ts';

function readProbes(path: string): FactProbe[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(
      `eval facts: --facts ${path}: cannot read it as JSON (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const probes = (doc as { probes?: unknown }).probes;
  const ok = (p: unknown): boolean =>
    typeof p === 'object' &&
    p !== null &&
    typeof (p as FactProbe).prompt === 'string' &&
    typeof (p as FactProbe).answer === 'string' &&
    typeof (p as FactProbe).kind === 'string' &&
    typeof (p as FactProbe).heldOut === 'boolean';
  if (!Array.isArray(probes) || probes.length === 0)
    throw new UsageError(
      `eval facts: --facts ${path}: expected a "probes" array (a corpus stage's facts.json), received ${JSON.stringify(probes)?.slice(0, 40) ?? 'none'}`,
    );
  const bad = probes.findIndex((p) => !ok(p));
  if (bad >= 0)
    throw new UsageError(
      `eval facts: --facts ${path}: probes[${bad}] must be {kind, prompt, answer, heldOut}, received ${JSON.stringify(probes[bad]).slice(0, 60)}`,
    );
  return probes as FactProbe[];
}

export function evalFacts(args: Parsed): void {
  const o = args.options;
  const specs = typeof o.model === 'string' ? o.model.split(',').filter((s) => s !== '') : [];
  if (specs.length === 0)
    throw new UsageError(
      'eval facts: --model <model dir | run dir>[,...] is required (with --checkpoints: training run directories)',
    );
  const probes = typeof o.facts === 'string' ? readProbes(o.facts) : toyWorldProbes();
  const targets = specs.flatMap((spec) =>
    o.checkpoints === true
      ? listCheckpoints(spec).map((c) => ({
          label: specs.length > 1 ? join(spec, c.name) : c.name,
          dir: c.dir,
          step: c.step,
        }))
      : [{ label: spec, dir: spec, step: null as number | null }],
  );
  const quiet = o.quiet === true;
  const rows: FactsRow[] = [];
  for (const t of targets) {
    const { model, tokenizer, modelDir } = loadModelDir(t.dir);
    if (!quiet) process.stderr.write(`scoring ${modelDir} on ${probes.length} fact probes\n`);
    rows.push({
      label: t.label,
      step: t.step ?? checkpointStep(modelDir),
      scores: scoreFacts(model, tokenizer, probes),
    });
  }
  if (o.json === true) {
    process.stdout.write(
      `${JSON.stringify({ probes: probes.length, rows: rows.map((r) => ({ ...r, scores: r.scores.map(({ kind, heldOut, correct, total }) => ({ kind, heldOut, correct, total })) })) }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(
    `toy-world facts answered by greedy next words (${probes.length} probes; * = held-out phrasings the corpus never uses)\n`,
  );
  for (const line of formatFactsTable(rows)) process.stdout.write(`${line}\n`);
  if (
    o.checkpoints === true &&
    targets.every(
      (t) => t.label === 'best' || t.label === 'latest' || t.label.endsWith('/best') || t.label.endsWith('/latest'),
    )
  ) {
    process.stdout.write(
      '(only checkpoints/latest and checkpoints/best here; train with --keep-every N to keep a snapshot every N steps)\n',
    );
  }
}
