/**
 * The saved checkpoints of a training run, for scoring a model across training (`llmforge eval facts
 * --checkpoints`): every directory under `<run>/checkpoints/` that holds a model (config.json), with the update step
 * from its state.json, ordered by step. llmforge's trainer keeps `latest` (overwritten every checkpoint interval),
 * `best` (lowest validation loss) and, with keepEvery, the snapshots `step-<N>`; other directories placed there are
 * found too. Names ending in `.prev` or starting with `.` are the trainer's atomic-replace
 * leftovers and are skipped.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE } from '../models/model-io.ts';
import { UserError } from '../util/user-error.ts';

export class CheckpointListError extends UserError {}

export interface RunCheckpoint {
  /** Directory name under checkpoints/ ("best", "latest", ...). */
  name: string;
  dir: string;
  /** Optimizer updates done (state.json's step), or null when the directory has no readable state.json. */
  step: number | null;
}

/** The update step in `dir`/state.json, or null when there is none or it cannot be read. */
export function checkpointStep(dir: string): number | null {
  const path = join(dir, 'state.json');
  if (!existsSync(path)) return null;
  try {
    const step = (JSON.parse(readFileSync(path, 'utf8')) as { step?: unknown }).step;
    return typeof step === 'number' && Number.isInteger(step) ? step : null;
  } catch {
    return null;
  }
}

/** The run's checkpoints, by step (unknown steps last), `best` before `latest` at equal steps. */
export function listCheckpoints(run: string): RunCheckpoint[] {
  const root = join(run, 'checkpoints');
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new CheckpointListError(
      `${run}: not a training run (no checkpoints/ directory); --checkpoints takes the --out directory of \`llmforge train\` or a recipe's pretrain stage (e.g. runs/demo/pretrain)`,
    );
  }
  const out = readdirSync(root)
    .filter((name) => !name.startsWith('.') && !name.endsWith('.prev') && existsSync(join(root, name, CONFIG_FILE)))
    .map((name) => ({ name, dir: join(root, name), step: checkpointStep(join(root, name)) }));
  if (out.length === 0) throw new CheckpointListError(`${root}: no checkpoint directories with a ${CONFIG_FILE}`);
  const key = (c: RunCheckpoint): number => c.step ?? Number.MAX_SAFE_INTEGER;
  return out.sort((a, b) => key(a) - key(b) || a.name.localeCompare(b.name));
}
