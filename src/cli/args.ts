/**
 * A small, strict command-line parser: each command declares its options (name, type, default, help), and the
 * parser accepts `--name value`, `--name=value` and boolean `--flag`, rejects unknown options with a suggestion,
 * and renders `--help` text from the same declarations. An option declared `repeatable` collects every value given
 * (read them with `optionValues`); any other option given twice is a usage error naming it, never a silent
 * last-one-wins.
 */
import { parseCount } from '../models/units.ts';
import { UserError } from '../util/user-error.ts';

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean';
  help: string;
  default?: string | number | boolean;
  /** Placeholder shown in help (e.g. N, FILE). */
  arg?: string;
  /** A string option that may be given more than once: the parsed value is the list of all values, in order. */
  repeatable?: boolean;
  /** A number option that is a count: it also takes K, M, B (or G) and T suffixes, as "175B" (models/units parseCount). */
  count?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Extra help text (examples). */
  details?: string;
}

export class UsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Parsed {
  /** A repeatable option's value is a string[] (absent: its default or undefined). */
  options: Record<string, string | number | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return bestDist <= 2 ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i]![j] = Math.min(
        dp[i - 1]![j]! + 1,
        dp[i]![j - 1]! + 1,
        dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return dp[a.length]![b.length]!;
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const options: Parsed['options'] = {};
  for (const [k, o] of Object.entries(spec.options)) options[k] = o.default;
  const positionals: string[] = [];
  let help = false;
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const o = spec.options[name];
    if (!o) {
      const hint = closest(name, Object.keys(spec.options));
      throw new UsageError(
        `${spec.name}: unknown option --${name}${hint ? ` (did you mean --${hint}?)` : ''}. See \`llmforge ${spec.name} --help\`.`,
      );
    }
    let raw: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (o.type !== 'boolean' && raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new UsageError(`${spec.name}: --${name} needs a value (${o.arg ?? o.type})`);
    }
    const first = given.get(name);
    if (first !== undefined && !o.repeatable) {
      const both = o.type === 'boolean' ? '' : ` ("${first}", then "${raw}")`;
      throw new UsageError(`${spec.name}: --${name} given twice${both}; it takes one value, give it once`);
    }
    given.set(name, raw ?? '');
    if (o.type === 'boolean') {
      if (raw === undefined) options[name] = true;
      else if (raw === 'true' || raw === 'false') options[name] = raw === 'true';
      else throw new UsageError(`${spec.name}: --${name} expects true or false, received "${raw}"`);
    } else if (o.type === 'number' && o.count) {
      const v = parseCount(raw!);
      if (v === undefined)
        throw new UsageError(
          `${spec.name}: --${name} expects a number (a count: 300e9, 300B; K, M, B, T suffixes), received "${raw}"`,
        );
      options[name] = v;
    } else if (o.type === 'number') {
      const v = Number(raw);
      if (raw!.trim() === '' || !Number.isFinite(v))
        throw new UsageError(`${spec.name}: --${name} expects a number, received "${raw}"`);
      options[name] = v;
    } else if (o.repeatable) {
      options[name] = first === undefined ? [raw!] : [...(options[name] as string[]), raw!];
    } else {
      options[name] = raw;
    }
  }
  return { options, positionals, help };
}

/** Every value of option `name` in the order given: [] when absent, one value for a plain string option. */
export function optionValues(args: Parsed, name: string): string[] {
  const v = args.options[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [String(v)];
}

export function renderHelp(spec: CommandSpec): string {
  const lines = [`llmforge ${spec.name}: ${spec.summary}`, '', `Usage: ${spec.usage}`, ''];
  const entries = Object.entries(spec.options);
  if (entries.length > 0) {
    lines.push('Options:');
    const heads = entries.map(([k, o]) => `  --${k}${o.type === 'boolean' ? '' : ` ${o.arg ?? o.type.toUpperCase()}`}`);
    const width = Math.max(...heads.map((h) => h.length)) + 2;
    entries.forEach(([, o], i) => {
      const def = o.default === undefined || o.default === false ? '' : ` (default: ${o.default})`;
      lines.push(`${heads[i]!.padEnd(width)}${o.help}${def}${o.repeatable ? ' (repeatable)' : ''}`);
    });
    lines.push(`${'  --help'.padEnd(width)}Show this help`);
  }
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n');
}
