/**
 * How the CLI ends on an error: a UserError (a bad option, a malformed input file, a missing model, from however
 * deep inside) becomes one line `error: <message>` on stderr and an exit status (its exitCode, default 2); anything
 * else is a bug, so it is rethrown for Node to print with its stack trace.
 */
import { UserError } from '../util/user-error.ts';

/** Writes a user error's one line and returns the exit status; rethrows every other error unchanged. */
export function reportCliError(
  err: unknown,
  write: (text: string) => void = (text) => process.stderr.write(text),
): number {
  if (!(err instanceof UserError)) throw err;
  write(`error: ${err.message}\n`);
  return err.exitCode ?? 2;
}
