/**
 * The run directory rules every trainer shares (pretraining, finetune sft/classify/domain, reward, DPO, PPO), so
 * that nothing a run saved is lost: claimOutputDir refuses a new run in a directory that already holds a checkpoint
 * (the fix, --resume or a new --out, is in the one-line error) and gives a resume the checkpoint to continue;
 * latestCheckpointDir finds that checkpoint, `checkpoints/latest`, or `latest.prev` when a crash fell between the
 * two renames of replaceDirAtomic; stopRequested is the check a trainer makes between updates (it lets a pending
 * Ctrl-C handler run, then reads the stop signal), and interruptOnSigint is the Ctrl-C handler the command line and
 * recipes install: the first Ctrl-C asks the run to finish its update, save a checkpoint and stop (exit 130), a
 * second one quits at once, leaving the previous checkpoint intact.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/user-error.ts';

export class RunDirError extends UserError {}

/** `<out>/checkpoints/latest`, where every trainer keeps the checkpoint a resume continues. */
export function latestPath(out: string): string {
  return join(out, 'checkpoints', 'latest');
}

/**
 * The checkpoint a resume of the run in `out` reads: `checkpoints/latest`, or `checkpoints/latest.prev` when only
 * that is left (a crash between the two renames of an atomic replacement); null when there is neither.
 */
export function latestCheckpointDir(out: string): string | null {
  const latest = latestPath(out);
  if (existsSync(latest)) return latest;
  return existsSync(`${latest}.prev`) ? `${latest}.prev` : null;
}

/**
 * Claims `out` for a run. A new run (`resume` false) is refused when `out` already holds a checkpoint, before
 * anything is written; a resume gets the checkpoint to continue from (latest or latest.prev), or null when there
 * is none yet (the run then starts from the beginning). `where` prefixes the error (a command or a stage).
 */
export function claimOutputDir(out: string, resume: boolean, where = ''): string | null {
  const checkpoint = latestCheckpointDir(out);
  if (!resume && checkpoint !== null)
    throw new RunDirError(
      `${where === '' ? '' : `${where}: `}${checkpoint}: this run directory already has a checkpoint; pass --resume to continue it, or choose a new --out`,
    );
  return resume ? checkpoint : null;
}

/**
 * Called by a trainer between updates: lets pending signal handlers (Ctrl-C) run, then says whether `signal` asks
 * the run to stop. The trainer then saves its latest checkpoint and returns with `stopped` set.
 */
export async function stopRequested(signal: AbortSignal | undefined): Promise<boolean> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  return signal?.aborted === true;
}

/** Exit status of a run stopped by Ctrl-C, as shells report SIGINT. */
export const INTERRUPTED_EXIT_CODE = 130;

export interface Interrupt {
  /** Aborted by the first Ctrl-C. */
  signal: AbortSignal;
  /** Removes the handler (call when the run returns or throws). */
  release(): void;
}

/**
 * Installs the Ctrl-C handler of a training run: the first SIGINT aborts the returned signal (the trainer finishes
 * its update, saves and stops), a second one quits at once with status 130. `say` gets the notices (default: stderr).
 */
export function interruptOnSigint(say: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Interrupt {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      say('\ninterrupt: finishing this update and saving a checkpoint (Ctrl-C again to quit without saving)');
      controller.abort();
    } else {
      say('interrupt: quitting without saving; the previous checkpoint is intact');
      process.exit(INTERRUPTED_EXIT_CODE);
    }
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => void process.off('SIGINT', onSigint) };
}
