/**
 * The sampling flags of `generate` and `chat` (--temperature, --top-k, --top-p, --repetition-penalty, --seed,
 * --max-tokens) checked in one place, before a model is loaded or anything is printed, so a bad value is one
 * `error:` line naming the flag and nothing on stdout. Only the flags present in the parsed options are checked.
 */
import { UsageError } from './args.ts';

type Options = Record<string, unknown>;

interface Rule {
  ok: (v: number) => boolean;
  expected: string;
}

const RULES: Record<string, Rule> = {
  temperature: { ok: (v) => Number.isFinite(v) && v >= 0, expected: 'a number >= 0 (0 = greedy)' },
  'top-k': { ok: (v) => Number.isInteger(v) && v >= 0, expected: 'an integer >= 0 (0 = all tokens)' },
  'top-p': { ok: (v) => Number.isFinite(v) && v > 0 && v <= 1, expected: 'a number in (0, 1] (1 = off)' },
  'repetition-penalty': { ok: (v) => Number.isFinite(v) && v > 0, expected: 'a number > 0 (1 = off)' },
  seed: { ok: (v) => Number.isSafeInteger(v), expected: 'an integer' },
};

/**
 * Throws a UsageError for the first sampling flag of `options` out of range. `maxTokens` says what --max-tokens
 * may be: 'positive' (chat) or 'non-negative' (generate; 0 prints the prompt alone).
 */
export function checkSamplingFlags(command: string, options: Options, maxTokens: 'positive' | 'non-negative'): void {
  for (const [flag, rule] of Object.entries(RULES)) {
    const v = options[flag];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !rule.ok(v))
      throw new UsageError(`${command}: --${flag} must be ${rule.expected}, received ${String(v)}`);
  }
  const m = options['max-tokens'];
  if (m === undefined) return;
  const min = maxTokens === 'positive' ? 1 : 0;
  if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < min)
    throw new UsageError(`${command}: --max-tokens must be an integer >= ${min}, received ${String(m)}`);
}
