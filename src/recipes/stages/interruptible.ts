/**
 * Ctrl-C for the training stages of a recipe (sft, classify, domain, reward, dpo, ppo; pretrain has its own
 * handler): runs the stage's trainer with the shared SIGINT handler (src/train/run-dir.ts), so the first Ctrl-C
 * finishes the update and saves a checkpoint; a stopped run ends the recipe with status 130 and a line saying that
 * running the recipe again resumes the stage from that checkpoint (the runner marks it interrupted, not complete).
 */
import { interruptOnSigint, latestPath } from '../../train/run-dir.ts';
import type { StageContext } from '../registry.ts';
import { RecipeError } from '../schema.ts';

export async function runStageInterruptible<T extends { stopped: boolean; step?: number }>(
  ctx: StageContext,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const interrupt = interruptOnSigint();
  let result: T;
  try {
    result = await fn(interrupt.signal);
  } finally {
    interrupt.release();
  }
  if (result.stopped)
    throw new RecipeError(
      `stage ${ctx.name}: stopped${result.step !== undefined ? ` at step ${result.step}` : ''}; run the recipe again to resume from ${latestPath(ctx.dir)}`,
      { exitCode: 130 },
    );
  return result;
}
