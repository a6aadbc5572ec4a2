/**
 * Where an alignment run (runRewardTraining, runDpo, runPpo) sends its text: `log` takes the running commentary
 * (data and model summary, evaluations, notes), `report` the closing summary lines, and `quiet` turns the progress
 * bar off. The command line writes the commentary to stderr or stdout and the summary to stdout; a recipe stage
 * sends both to the run's log. `check` spells the options as the front end does, in errors found at run time, and
 * `signal` (the front end's Ctrl-C) stops the run after its current update with a checkpoint saved.
 */
import type { AlignOptionCheck } from './option-checks.ts';

export interface RunOutput {
  log(line: string): void;
  /** Closing summary lines (default: log). */
  report?(line: string): void;
  /** No progress bar. */
  quiet?: boolean;
  /** Names the options as the front end spells them (default: the options' own field names, no prefix). */
  check?: AlignOptionCheck;
  /** Aborted (Ctrl-C): the current update finishes, checkpoints/latest is saved and the result says stopped. */
  signal?: AbortSignal;
}
