/**
 * Recipe files: a YAML mapping with top-level settings (`out`, `seed`, an optional `description`, and any named
 * variables) and a list of `stages`, each `{name, type, ...params}`. Loading applies `--set key=value` overrides
 * (top-level keys such as `steps=50`, or stage parameters such as `stages.pretrain.steps=50`, typed from the
 * stage's parameter declaration or the existing value), then substitutes `${var}` references from the top-level
 * settings, then checks every stage against its registered type. Mistakes are one line naming the file, the
 * field and its line, what was expected and what was received.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { LineCounter, parse as parseYaml, parseDocument } from 'yaml';
import { getStageType, stageTypeNames } from './registry.ts';
import {
  describeValue,
  RecipeError,
  validateParams,
  type ParamSchema,
  type ParamsOf,
  type ParamType,
} from './schema.ts';
import { UserError } from '../util/user-error.ts';

export type Scalar = string | number | boolean;

export interface RecipeStage {
  /** Position in the recipe (0-based). */
  index: number;
  name: string;
  type: string;
  /** Checked parameters, defaults filled in, variables substituted. */
  params: Record<string, unknown>;
}

export interface Recipe {
  /** The file the recipe came from (as given). */
  source: string;
  description: string;
  /** Output directory of the run; each stage writes under `<out>/<stage name>/`. */
  out: string;
  seed: number;
  /** Named top-level variables (after overrides and substitution). */
  vars: Record<string, Scalar>;
  stages: RecipeStage[];
}

export interface LoadRecipeOptions {
  /** `key=value` overrides, applied before substitution. */
  set?: readonly string[];
}

type Path = (string | number)[];
const RESERVED = new Set(['out', 'seed', 'description', 'stages']);
const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const VAR_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function fieldName(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function loadRecipe(path: string, opts: LoadRecipeOptions = {}): Recipe {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RecipeError(
      `${path}: cannot read the recipe (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return parseRecipe(text, path, opts);
}

/** Parses and checks a recipe's text; `source` names it in errors. */
export function parseRecipe(text: string, source: string, opts: LoadRecipeOptions = {}): Recipe {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!.message.split('\n')[0]!.replace(/:$/, '');
    throw new RecipeError(`${source}: invalid YAML: ${first}`);
  }
  const setBy = new Map<string, string>();
  const fail = (path: Path, message: string): never => {
    const key = fieldName(path);
    // The line of the field, or of its nearest enclosing node when the field is missing.
    let range: [number, number, number] | undefined;
    for (let n = path.length; n >= 0 && range === undefined; n--)
      range = (doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined)?.range;
    const by = setBy.get(key);
    const where = by !== undefined ? ` (set by --set ${by})` : range ? ` (line ${lines.linePos(range[0]).line})` : '';
    throw new RecipeError(`${source}: ${key === '' ? '' : `${key}: `}${message}${where}`);
  };

  let raw: unknown;
  try {
    // The yaml library refuses alias expansions past its limit (a "billion laughs" file) here, with a ReferenceError.
    raw = doc.toJS();
  } catch (e) {
    throw new RecipeError(`${source}: invalid YAML: ${(e as Error).message}`);
  }
  if (!isMapping(raw))
    return fail([], `expected a mapping with out, seed, variables and stages, received ${describeValue(raw)}`);

  // Top-level settings and variables.
  const top: Record<string, unknown> = { out: `runs/${basename(source, extname(source))}`, seed: 0, description: '' };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'stages') continue;
    if (!isScalar(v)) fail([k], `expected a string, number or boolean, received ${describeValue(v)}`);
    top[k] = v;
  }
  const stagesRaw = raw.stages;
  if (!Array.isArray(stagesRaw))
    return fail(['stages'], `expected a list of stages, received ${describeValue(stagesRaw)}`);
  if (stagesRaw.length === 0) return fail(['stages'], 'expected at least one stage, received an empty list');

  const stages = stagesRaw.map((s: unknown, i): { name: string; type: string; params: Record<string, unknown> } => {
    if (!isMapping(s))
      return fail(['stages', i], `expected a mapping {name, type, ...parameters}, received ${describeValue(s)}`);
    const { name, type, ...params } = s;
    if (typeof name !== 'string' || !STAGE_NAME.test(name)) {
      return fail(
        ['stages', i, 'name'],
        `expected a stage name (letters, digits, - and _), received ${describeValue(name)}`,
      );
    }
    if (typeof type !== 'string' || !getStageType(type)) {
      return fail(
        ['stages', i, 'type'],
        `expected a stage type (${stageTypeNames().join(', ')}), received ${describeValue(type)}`,
      );
    }
    return { name, type, params };
  });
  stages.forEach((s, i) => {
    if (stages.findIndex((o) => o.name === s.name) !== i)
      fail(['stages', i, 'name'], `duplicate stage name "${s.name}"`);
  });

  for (const assignment of opts.set ?? []) applyOverride(assignment, top, stages, setBy, source);

  // ${var} substitution: variables may refer to other variables.
  const resolved = new Map<string, Scalar>();
  const resolveVar = (name: string, path: Path, stack: string[]): Scalar => {
    const done = resolved.get(name);
    if (done !== undefined) return done;
    const v = top[name];
    if (!isScalar(v) || name === 'description') {
      const names = Object.keys(top).filter((k) => k !== 'description');
      return fail(path, `unknown variable \${${name}}; variables: ${names.join(', ')}`);
    }
    if (stack.includes(name)) return fail([name], `variable refers to itself: ${[...stack, name].join(' -> ')}`);
    const value = typeof v === 'string' ? substitute(v, [name], [...stack, name]) : v;
    if (!isScalar(value)) return fail([name], 'expected a scalar');
    resolved.set(name, value);
    return value;
  };
  const substitute = (v: unknown, path: Path, stack: string[] = []): unknown => {
    if (typeof v === 'string') {
      const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v);
      if (whole) return resolveVar(whole[1]!, path, stack);
      return v.replace(VAR_REF, (_, name: string) => String(resolveVar(name, path, stack)));
    }
    if (Array.isArray(v)) return v.map((x, i) => substitute(x, [...path, i], stack));
    if (isMapping(v))
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, [...path, k], stack)]));
    return v;
  };

  const vars: Record<string, Scalar> = {};
  for (const k of Object.keys(top)) if (!RESERVED.has(k)) vars[k] = resolveVar(k, [k], []);
  const out = resolveVar('out', ['out'], []);
  const seed = resolveVar('seed', ['seed'], []);
  if (typeof out !== 'string' || out === '') fail(['out'], `expected a directory path, received ${describeValue(out)}`);
  if (typeof seed !== 'number' || !Number.isInteger(seed))
    fail(['seed'], `expected an integer, received ${describeValue(seed)}`);
  const description = typeof top.description === 'string' ? top.description : String(top.description);

  const names = stages.map((s) => s.name);
  const checked = stages.map((s, i): RecipeStage => {
    const type = getStageType(s.type)!;
    const params = substitute(s.params, ['stages', i]) as Record<string, unknown>;
    const valid = validateParams(type.params, params, (key, message) => fail(['stages', i, key], message));
    try {
      type.check?.(valid as ParamsOf<ParamSchema>);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      fail(['stages', i], `${s.type} stage "${s.name}": ${(e as Error).message}`);
    }
    for (const [param] of Object.entries(type.refs ?? {})) {
      const ref = valid[param];
      const at = names.indexOf(ref as string);
      if (at >= i) fail(['stages', i, param], `stage "${String(ref)}" must come before stage "${s.name}"`);
    }
    for (const [path, ref] of type.nestedRefs?.(valid as ParamsOf<ParamSchema>) ?? []) {
      if (names.indexOf(ref) >= i) fail(['stages', i, ...path], `stage "${ref}" must come before stage "${s.name}"`);
    }
    return { index: i, name: s.name, type: s.type, params: valid };
  });
  return { source, description, out: out as string, seed: seed as number, vars, stages: checked };
}

/** Converts an override's text to the type its target expects. */
function typedValue(raw: string, type: ParamType | undefined, existing: unknown, assignment: string): unknown {
  const t: string =
    type ??
    (existing === undefined ? 'yaml' : Array.isArray(existing) || isMapping(existing) ? 'yaml' : typeof existing);
  const bad = (what: string): never => {
    throw new RecipeError(`--set ${assignment}: expected ${what}, received ${JSON.stringify(raw)}`);
  };
  switch (t) {
    case 'number':
    case 'integer': {
      const n = Number(raw);
      return raw.trim() === '' || !Number.isFinite(n) ? bad(t === 'integer' ? 'an integer' : 'a number') : n;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : bad('true or false');
    case 'string':
      return raw;
    default:
      try {
        return parseYaml(raw) as unknown;
      } catch {
        return bad('a YAML value (e.g. [a, b] or {k: v})');
      }
  }
}

function applyOverride(
  assignment: string,
  top: Record<string, unknown>,
  stages: { name: string; type: string; params: Record<string, unknown> }[],
  setBy: Map<string, string>,
  source: string,
): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new RecipeError(`--set ${assignment}: expected key=value`);
  const key = assignment.slice(0, eq);
  const raw = assignment.slice(eq + 1);
  const parts = key.split('.');
  if (parts[0] !== 'stages') {
    if (parts.length > 1 || !(key in top)) {
      const valid = Object.keys(top).filter((k) => k !== 'description');
      throw new RecipeError(
        `--set ${assignment}: unknown key "${key}" in ${source}; valid keys: ${valid.join(', ')}, or stages.<stage>.<parameter> for stages ${stages.map((s) => s.name).join(', ')}`,
      );
    }
    top[key] = typedValue(raw, key === 'seed' ? 'integer' : undefined, top[key], assignment);
    setBy.set(key, assignment);
    return;
  }
  const [, stageName, param, ...rest] = parts;
  const index = stages.findIndex((s) => s.name === stageName);
  if (index < 0 || param === undefined) {
    throw new RecipeError(
      `--set ${assignment}: unknown stage "${stageName ?? ''}" in ${source}; stages: ${stages.map((s) => s.name).join(', ')}`,
    );
  }
  const stage = stages[index]!;
  const schema = getStageType(stage.type)!.params;
  const spec = schema[param];
  if (!spec) {
    throw new RecipeError(
      `--set ${assignment}: unknown key "${key}"; valid parameters of stage ${stage.name} (${stage.type}): ${Object.keys(schema).join(', ')}`,
    );
  }
  if (rest.length === 0) {
    stage.params[param] = typedValue(raw, spec.type, stage.params[param], assignment);
  } else {
    if (spec.type !== 'object')
      throw new RecipeError(`--set ${assignment}: stages.${stage.name}.${param} is ${spec.type}, not a mapping`);
    stage.params[param] ??= structuredClone(spec.default ?? {});
    let obj = stage.params[param] as Record<string, unknown>;
    for (const k of rest.slice(0, -1)) {
      if (!isMapping(obj[k])) obj[k] = {};
      obj = obj[k] as Record<string, unknown>;
    }
    const last = rest[rest.length - 1]!;
    obj[last] = typedValue(raw, undefined, obj[last], assignment);
  }
  setBy.set(fieldName(['stages', index, param]), assignment);
}
