/**
 * Runs a recipe's stages in order. Each stage writes its artifacts under `<out>/<stage name>/` and, last, a
 * `.complete` marker holding a hash of its type, parameters, the recipe seed and the previous stage's hash. A
 * rerun skips a stage whose marker holds the same hash and whose outputs exist ("skip <stage> (complete)"); the
 * first stage that changed, and every stage after it, runs again. A stage interrupted with the same parameters
 * keeps its directory (its `.started` marker matches) so it can resume, e.g. from a training checkpoint; any other
 * rerun starts from an emptied directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../util/progress.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import type { Recipe } from './recipe.ts';
import { getStageType, type StageContext } from './registry.ts';
import { RecipeError, type ParamSchema, type ParamsOf } from './schema.ts';

type AnyParams = ParamsOf<ParamSchema>;

export interface RunRecipeOptions {
  /** Rerun this stage and every stage after it even if complete. */
  fromStage?: string;
  /** Rerun every stage. */
  force?: boolean;
  /** Where report lines go (default: stdout). */
  log?: (line: string) => void;
  /** Minimal output from the stages (tests). */
  quiet?: boolean;
  /** Only report what would run ("run <stage>: <params>") and what would be skipped; write nothing. */
  dryRun?: boolean;
}

export interface StageOutcome {
  name: string;
  type: string;
  status: 'skipped' | 'ran' | 'would-run';
  seconds: number;
  outputs: Record<string, string>;
}

interface Marker {
  hash: string;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** The hash that decides whether a stage's artifacts are current. */
export function stageHash(type: string, params: Record<string, unknown>, seed: number, previous: string): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical({ type, params, seed, previous })))
    .digest('hex');
}

function readMarker(path: string): Marker | null {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof m === 'object' && m !== null && typeof (m as Marker).hash === 'string' ? (m as Marker) : null;
  } catch {
    return null;
  }
}

/** Empties a stage directory, refusing to touch a directory this runner did not create. */
function clearStageDir(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes('.started') && !entries.includes('.complete')) {
    throw new RecipeError(
      `${dir} exists and is not a stage directory of a llmforge run (no .started or .complete marker); remove it or choose another out`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

export async function runRecipe(recipe: Recipe, opts: RunRecipeOptions = {}): Promise<StageOutcome[]> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const names = recipe.stages.map((s) => s.name);
  let forcedFrom = opts.force ? 0 : recipe.stages.length;
  if (opts.fromStage !== undefined) {
    const at = names.indexOf(opts.fromStage);
    if (at < 0)
      throw new RecipeError(
        `--from-stage ${opts.fromStage}: no such stage in ${recipe.source}; stages: ${names.join(', ')}`,
      );
    forcedFrom = Math.min(forcedFrom, at);
  }
  if (!opts.dryRun) {
    mkdirSync(recipe.out, { recursive: true });
    writeJsonAtomic(join(recipe.out, 'recipe.json'), recipe);
  }

  const contexts = new Map<string, { ctx: StageContext; params: Record<string, unknown> }>();
  const outcomes: StageOutcome[] = [];
  let previous = '';
  let dirty = false;
  for (const stage of recipe.stages) {
    const type = getStageType(stage.type);
    if (!type)
      throw new RecipeError(`${recipe.source}: stages[${stage.index}].type: unknown stage type "${stage.type}"`);
    const dir = join(recipe.out, stage.name);
    const hash = stageHash(stage.type, stage.params, recipe.seed, previous);
    previous = hash;
    const started = readMarker(join(dir, '.started'));
    const marker = readMarker(join(dir, '.complete'));
    const forced = stage.index >= forcedFrom;
    const ctx: StageContext = {
      out: recipe.out,
      dir,
      name: stage.name,
      seed: recipe.seed,
      // Interrupted: started with these parameters and never completed.
      resuming: !forced && started?.hash === hash && marker?.hash !== hash,
      quiet: opts.quiet ?? false,
      log,
      input(ref, kind) {
        const earlier = contexts.get(ref);
        if (!earlier) return ref;
        const path = getStageType(recipe.stages[names.indexOf(ref)]!.type)!.outputs(
          earlier.ctx,
          earlier.params as AnyParams,
        )[kind];
        if (path === undefined)
          throw new RecipeError(
            `${recipe.source}: stage "${stage.name}" needs a ${kind} from stage "${ref}", which has none`,
          );
        return path;
      },
    };
    contexts.set(stage.name, { ctx, params: stage.params });
    const params = stage.params as AnyParams;
    const outputs = type.outputs(ctx, params);
    if (!dirty && !forced && marker?.hash === hash && Object.values(outputs).every((p) => existsSync(p))) {
      log(`skip ${stage.name} (complete)`);
      outcomes.push({ name: stage.name, type: stage.type, status: 'skipped', seconds: 0, outputs });
      continue;
    }
    dirty = true;
    if (opts.dryRun) {
      log(
        `${ctx.resuming ? 'resume' : 'run'} ${stage.name} (${stage.type}): ${Object.entries(stage.params)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(' ')}`,
      );
      outcomes.push({ name: stage.name, type: stage.type, status: 'would-run', seconds: 0, outputs });
      continue;
    }
    if (!ctx.resuming) clearStageDir(dir);
    mkdirSync(dir, { recursive: true });
    rmSync(join(dir, '.complete'), { force: true });
    writeJsonAtomic(join(dir, '.started'), {
      hash,
      stage: stage.name,
      type: stage.type,
      startedAt: new Date().toISOString(),
    });
    log(`\n== ${stage.name} (${stage.type}) ${'='.repeat(Math.max(3, 60 - stage.name.length - stage.type.length))}`);
    if (ctx.resuming) log(`resuming the interrupted run in ${dir}`);
    const t0 = performance.now();
    await type.run(ctx, params);
    const seconds = (performance.now() - t0) / 1000;
    const missing = Object.entries(outputs).filter(([, p]) => !existsSync(p));
    if (missing.length > 0)
      throw new Error(
        `stage ${stage.name} (${stage.type}) finished without writing ${missing.map(([k, p]) => `${k} (${p})`).join(', ')}`,
      );
    writeJsonAtomic(join(dir, '.complete'), {
      hash,
      stage: stage.name,
      type: stage.type,
      params: stage.params,
      seed: recipe.seed,
      outputs,
      seconds,
      finishedAt: new Date().toISOString(),
    });
    log(`done ${stage.name} in ${seconds < 60 ? `${seconds.toFixed(1)} s` : formatDuration(seconds)}`);
    outcomes.push({ name: stage.name, type: stage.type, status: 'ran', seconds, outputs });
  }
  return outcomes;
}
