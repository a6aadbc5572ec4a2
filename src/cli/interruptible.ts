/**
 * Ctrl-C for the training commands (finetune sft/classify/domain, reward train, dpo, ppo): runs a trainer with the
 * shared SIGINT handler (src/train/run-dir.ts interruptOnSigint: the first Ctrl-C finishes the update and saves a
 * checkpoint, a second quits at once), and when the run stopped early prints where the checkpoint is and the
 * command that resumes it (the same command line with --resume), then exits with status 130 as shells report SIGINT.
 */
import { INTERRUPTED_EXIT_CODE, interruptOnSigint, latestPath } from '../train/run-dir.ts';

/** This process's command line as `llmforge ...`, with --resume added when it is not there. */
export function resumeCommand(argv: readonly string[] = process.argv.slice(2)): string {
  const args = argv.includes('--resume') ? [...argv] : [...argv, '--resume'];
  const quote = (a: string): string => (/^[\w./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return `llmforge ${args.map(quote).join(' ')}`;
}

/**
 * Runs `fn` with a Ctrl-C handler whose signal it passes on; a result with `stopped` set prints the checkpoint and
 * the resume command and exits 130. `out` is the run directory (for the message).
 */
export async function runInterruptible<T extends { stopped: boolean; step?: number }>(
  out: string,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const interrupt = interruptOnSigint();
  let result: T;
  try {
    result = await fn(interrupt.signal);
  } finally {
    interrupt.release();
  }
  if (result.stopped) {
    process.stdout.write(
      `stopped${result.step !== undefined ? ` at step ${result.step}` : ''}; checkpoint saved to ${latestPath(out)}\nresume with: ${resumeCommand()}\n`,
    );
    process.exit(INTERRUPTED_EXIT_CODE);
  }
  return result;
}
