/** The shape of a CLI command: its declared options (for parsing and --help) and what it runs. */
import type { CommandSpec, Parsed } from './args.ts';

export interface Command {
  spec: CommandSpec;
  run(args: Parsed): Promise<void> | void;
}
