/**
 * Typed stage parameters: each stage type declares its parameters (type, default, help), the recipe loader checks
 * a stage's YAML mapping against that declaration and fills in defaults, and `ParamsOf` gives the stage's `run`
 * the checked values with their TypeScript types. Errors name the field and say what was expected and received.
 */
import { UserError, type UserErrorOptions } from '../util/user-error.ts';

/** The TypeScript type of each parameter type (exported so that the package's declaration files can name it). */
export interface TypeMap {
  string: string;
  number: number;
  integer: number;
  boolean: boolean;
  'string[]': string[];
  object: Record<string, unknown>;
}
export type ParamType = keyof TypeMap;

export interface ParamSpec<T extends ParamType = ParamType> {
  type: T;
  help: string;
  /** Value when the recipe leaves the parameter out; a parameter without a default is required. */
  default?: TypeMap[T];
  /** Smallest allowed value (number and integer). */
  min?: number;
  /** Without a default: true leaves the parameter undefined when the recipe omits it (the stage's run fills it). */
  optional?: boolean;
}

export type ParamSchema = Record<string, ParamSpec>;
export type ParamsOf<S extends ParamSchema> = {
  [K in keyof S]: S[K] extends { optional: true } ? TypeMap[S[K]['type']] | undefined : TypeMap[S[K]['type']];
};

/** A user mistake in a recipe or a --set override: the CLI prints it as one `error: ...` line. */
export class RecipeError extends UserError {
  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options);
    this.name = 'RecipeError';
  }
}

const EXPECTED: Record<ParamType, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  'string[]': 'a list of strings',
  object: 'a mapping',
};

/** How a received value reads in an error message. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/** Checks one value against its spec; returns an error message (without the field name) or null. */
export function checkValue(spec: ParamSpec, v: unknown): string | null {
  const bad = `expected ${EXPECTED[spec.type]}, received ${describeValue(v)}`;
  switch (spec.type) {
    case 'string':
      return typeof v === 'string' ? null : bad;
    case 'boolean':
      return typeof v === 'boolean' ? null : bad;
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v) || (spec.type === 'integer' && !Number.isInteger(v))) return bad;
      return spec.min !== undefined && v < spec.min
        ? `expected ${EXPECTED[spec.type]} >= ${spec.min}, received ${v}`
        : null;
    case 'string[]':
      return Array.isArray(v) && v.every((s) => typeof s === 'string') ? null : bad;
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? null : bad;
  }
}

/**
 * Validates a stage's parameters: unknown keys and type mismatches are reported through `fail(key, message)`
 * (which throws, naming the file and field); missing parameters take their defaults.
 */
export function validateParams(
  schema: ParamSchema,
  raw: Record<string, unknown>,
  fail: (key: string, message: string) => never,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const spec = schema[k];
    if (!spec) fail(k, `unknown parameter; valid parameters: ${Object.keys(schema).join(', ')}`);
    const msg = checkValue(spec, v);
    if (msg) fail(k, msg);
    out[k] = v;
  }
  for (const [k, spec] of Object.entries(schema)) {
    if (k in out) continue;
    if (spec.default === undefined && spec.optional === true) continue;
    if (spec.default === undefined) fail(k, `missing required parameter (${spec.help})`);
    out[k] = structuredClone(spec.default);
  }
  return out;
}
