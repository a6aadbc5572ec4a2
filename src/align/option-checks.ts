/**
 * Validation shared by the alignment runs' option resolvers (reward-options.ts, dpo-options.ts, ppo-options.ts):
 * train/option-check.ts's OptionCheck (one-line errors `<where>: <name> must be <expected>, received <value>`,
 * the name spelled as the caller's front end spells it) with what these options also need: any integer (a seed),
 * ranges, paths, true/false and free-form problems found while the run starts. `flagCheck` spells fields as
 * command-line flags (`--batch-size`), `paramCheck` as recipe parameters (`batchSize`).
 */
import { flagName, OptionCheck, OptionError } from '../train/option-check.ts';

/** What a front end hands a resolver: the `needed` fields, and any others (left out or undefined: the default). */
export type OptionsInput<O, Needed extends keyof O> = Pick<O, Needed> & {
  [K in Exclude<keyof O, Needed>]?: O[K] | undefined;
};

/** `defaults` with every field of `input` that is not undefined put over it. */
export function withDefaults(defaults: object, input: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) out[k] = v;
  return out;
}

export class AlignOptionCheck extends OptionCheck {
  /** Throws `<where>: <message>` as a user error. */
  problem(message: string): never {
    throw new OptionError(this.where === '' ? message : `${this.where}: ${message}`);
  }

  /** A finite number passing `ok`, else `<name> must be <expected>`. */
  number(field: string, value: unknown, ok: (n: number) => boolean, expected: string): number {
    if (!(typeof value === 'number' && Number.isFinite(value) && ok(value))) this.fail(field, expected, value);
    return value as number;
  }

  /** Any integer (a seed). */
  integer(field: string, value: unknown): number {
    return this.number(field, value, Number.isInteger, 'an integer');
  }

  /** A number in [lo, hi) or, with `closed`, [lo, hi]. */
  range(field: string, value: unknown, lo: number, hi: number, closed = false): number {
    return this.number(
      field,
      value,
      (n) => n >= lo && (closed ? n <= hi : n < hi),
      `in [${lo}, ${hi}${closed ? ']' : ')'}`,
    );
  }

  /** A non-empty string naming a file or directory. */
  path(field: string, value: unknown): string {
    if (!(typeof value === 'string' && value !== '')) this.fail(field, 'a path', value);
    return value as string;
  }

  boolean(field: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(field, 'true or false', value);
    return value;
  }
}

/** Fields spelled as command-line flags (camelCase -> --kebab-case; `renames` maps a field to another flag). */
export function flagCheck(where: string, renames: Record<string, string> = {}): AlignOptionCheck {
  return new AlignOptionCheck(where, (f) => (renames[f] !== undefined ? `--${renames[f]}` : flagName(f)));
}

/** Fields spelled as a recipe stage's parameters (`renames` maps a field to another parameter name). */
export function paramCheck(where = '', renames: Record<string, string> = {}): AlignOptionCheck {
  return new AlignOptionCheck(where, (f) => renames[f] ?? f);
}
