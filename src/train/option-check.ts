/**
 * Checks for the typed options objects of the run functions (runPretraining, runClassification, runSft,
 * runDomainAdaptation): each failure is one line naming the field, what was expected and what was received. The
 * field is named the way the caller's user wrote it: a CLI passes its command (`finetune sft`) and a namer that
 * gives the flag (`--batch-size`), a recipe stage passes no prefix and the parameter names as they are.
 */
import { UserError } from '../util/user-error.ts';

export class OptionError extends UserError {}

export class OptionCheck {
  /**
   * `where` prefixes every message ('' for none); `label` turns a field of the options object into the name the
   * user knows (default: the field itself).
   */
  constructor(
    readonly where = '',
    readonly label: (field: string) => string = (f) => f,
  ) {}

  /** The field as the user knows it, prefixed by `where` (for messages built elsewhere, e.g. precision). */
  named(field: string): string {
    return `${this.where === '' ? '' : `${this.where}: `}${this.label(field)}`;
  }

  /** Throws `<where>: <field> must be <expected>, received <value>`. */
  fail(field: string, expected: string, received: unknown): never {
    throw new OptionError(
      `${this.named(field)} must be ${expected}, received ${typeof received === 'string' ? JSON.stringify(received) : String(received)}`,
    );
  }

  /** One of `allowed`; `expected` words the message (default: 'one of a, b, c'). */
  oneOf<T extends string>(
    field: string,
    value: unknown,
    allowed: readonly T[],
    expected = `one of ${allowed.join(', ')}`,
  ): T {
    if (!allowed.includes(value as T)) this.fail(field, expected, value);
    return value as T;
  }

  /** An integer >= min (1: 'a positive integer', 0: 'a non-negative integer'). */
  int(field: string, value: unknown, min: number): number {
    const n = value as number;
    if (!(typeof n === 'number' && Number.isInteger(n) && n >= min))
      this.fail(
        field,
        min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`,
        value,
      );
    return n;
  }

  positive(field: string, value: unknown): number {
    const n = value as number;
    if (!(typeof n === 'number' && Number.isFinite(n) && n > 0)) this.fail(field, 'a positive number', value);
    return n;
  }

  nonNegative(field: string, value: unknown): number {
    const n = value as number;
    if (!(typeof n === 'number' && Number.isFinite(n) && n >= 0)) this.fail(field, 'a non-negative number', value);
    return n;
  }

  /** A share in [0, 1). */
  fraction(field: string, value: unknown): number {
    const n = value as number;
    if (!(typeof n === 'number' && n >= 0 && n < 1)) this.fail(field, 'in [0, 1)', value);
    return n;
  }

  string(field: string, value: unknown): string {
    if (typeof value !== 'string') this.fail(field, 'a string', value);
    return value as string;
  }
}

/** camelCase field -> --kebab-case flag, the CLI's usual spelling. */
export function flagName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
