/**
 * The one error class for user mistakes (a bad option, a malformed input file, a missing model directory): the CLI
 * prints a UserError as a single line `error: <message>` and exits with its `exitCode` (default 2), while any other
 * error is a bug and keeps its stack trace. Domain errors (SafetensorsError, DataError, RecipeError, ...) extend it,
 * so a catch site tests `instanceof UserError` and nothing else marks an error as the user's. The message should name
 * the file, field or option, what was expected and what was received. The `name` stays 'Error' unless a subclass
 * sets its own, so `String(err)` reads as it did before the class existed.
 */
export interface UserErrorOptions {
  /** The process exit status the CLI uses for this error (default 2; 130 for a run stopped by Ctrl-C). */
  exitCode?: number;
  /** The underlying error, kept for debugging; it is not printed. */
  cause?: unknown;
}

export class UserError extends Error {
  /** The process exit status the CLI uses (2 when unset). */
  exitCode: number | undefined;
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode;
  }
}

/** Whether `e` is a user mistake (one line, no stack) rather than a bug. */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
