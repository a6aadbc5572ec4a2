/**
 * User-facing errors of the data pipeline: an Error flagged `userError`, which the CLI prints as one line
 * (`error: ...`) without a stack trace.
 */
export class DataError extends Error {
  readonly userError = true;
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export function userError(message: string): DataError {
  return new DataError(message);
}
