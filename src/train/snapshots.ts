/**
 * Kept snapshots of a training run (config keepEvery / keepLast): immutable checkpoint directories
 * `<out>/checkpoints/step-<N>` holding the model, state.json and tokenizer at update N (no optimizer state, like
 * `best`), so a run can be scored across training (`llmforge eval facts --checkpoints`). A snapshot is written
 * once through replaceDirAtomic (complete or absent, never torn) and never rewritten: a step whose snapshot already
 * exists (a resumed run passing it again) keeps the old one. Pruning deletes the oldest beyond keepLast by first
 * renaming each to a dot-name, which checkpoint listings skip, so a crash mid-delete leaves nothing half-visible.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const PATTERN = /^step-(\d+)$/;

/** The snapshot directory of update `step` under a run's checkpoints/ directory. */
export function snapshotDir(checkpoints: string, step: number): string {
  return join(checkpoints, `step-${step}`);
}

/** The update step of a snapshot directory name ("step-200" -> 200), or null for other names. */
export function snapshotStep(name: string): number | null {
  const m = PATTERN.exec(name);
  return m ? Number(m[1]) : null;
}

/** The snapshots under `checkpoints`, oldest step first. */
export function listSnapshots(checkpoints: string): { step: number; dir: string }[] {
  if (!existsSync(checkpoints)) return [];
  const out: { step: number; dir: string }[] = [];
  for (const name of readdirSync(checkpoints)) {
    const step = snapshotStep(name);
    if (step !== null) out.push({ step, dir: join(checkpoints, name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * Writes the snapshot of `step` with `write(dir)` (which must write atomically, as saveCheckpoint does) unless it
 * exists; returns its directory, or null when it was already there.
 */
export function keepSnapshot(checkpoints: string, step: number, write: (dir: string) => void): string | null {
  const dir = snapshotDir(checkpoints, step);
  if (existsSync(dir)) return null;
  write(dir);
  return dir;
}

/** Deletes the oldest snapshots beyond the newest `keepLast` (0: keep all); returns the deleted directories. */
export function pruneSnapshots(checkpoints: string, keepLast: number): string[] {
  if (keepLast <= 0) return [];
  const all = listSnapshots(checkpoints);
  const doomed = all.slice(0, Math.max(0, all.length - keepLast));
  for (const { step, dir } of doomed) {
    const hidden = join(checkpoints, `.step-${step}.del-${process.pid}`);
    renameSync(dir, hidden);
    rmSync(hidden, { recursive: true, force: true });
  }
  for (const name of readdirSync(checkpoints)) {
    if (/^\.step-\d+\.del-/.test(name)) rmSync(join(checkpoints, name), { recursive: true, force: true }); // left by a crash
  }
  return doomed.map((d) => d.dir);
}
