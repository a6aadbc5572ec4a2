/**
 * User-facing errors of the data pipeline: a DataError is a UserError, which the CLI prints as one line
 * (`error: ...`) without a stack trace.
 */
import { UserError } from '../util/user-error.ts';

export class DataError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}
