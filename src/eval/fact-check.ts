/**
 * Scores what a model learned of the toy world: for each probe (a prompt and its expected next word, in trained
 * and held-out phrasings) the model continues the prompt greedily for a few tokens, and the probe counts as known
 * when the continuation starts with the answer as a whole word. Results are tallied per fact kind and phrasing.
 */
import { generate } from '../generate/generate.ts';
import type { LanguageModel } from '../models/model.ts';
import type { FactProbe } from '../data/toy-world.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { UserError } from '../util/user-error.ts';

export interface FactScore {
  kind: string;
  heldOut: boolean;
  correct: number;
  total: number;
  /** A few prompts answered wrongly, with what the model said. */
  misses: { prompt: string; answer: string; said: string }[];
}

/** True when `text` (a greedy continuation) begins with the answer as a whole word. */
export function answers(text: string, answer: string): boolean {
  const t = text.trimStart();
  return t.startsWith(answer) && !/^[\p{L}\p{N}]/u.test(t.slice(answer.length));
}

/** A probe the model's tokenizer cannot encode (e.g. a character vocabulary without its letters): a user error. */
function encodeProbe(tokenizer: TextTokenizer, text: string, what: string): number[] {
  try {
    return tokenizer.encode(text);
  } catch (e) {
    throw new UserError(
      `facts: cannot tokenize ${what} with the model's tokenizer (${(e as Error).message}); pass probes it can encode with --facts`,
    );
  }
}

export function scoreFacts(model: LanguageModel, tokenizer: TextTokenizer, probes: readonly FactProbe[]): FactScore[] {
  const groups = new Map<string, FactScore>();
  for (const p of probes) {
    const key = `${p.kind}/${p.heldOut}`;
    let g = groups.get(key);
    if (!g) {
      g = { kind: p.kind, heldOut: p.heldOut, correct: 0, total: 0, misses: [] };
      groups.set(key, g);
    }
    const maxNewTokens = encodeProbe(tokenizer, ` ${p.answer}`, `the answer "${p.answer}"`).length + 1;
    const said = generate(model, encodeProbe(tokenizer, p.prompt, `the probe "${p.prompt}"`), {
      maxNewTokens,
      temperature: 0,
      tokenizer,
    }).text;
    g.total++;
    if (answers(said, p.answer)) g.correct++;
    else if (g.misses.length < 3) g.misses.push({ prompt: p.prompt, answer: p.answer, said });
  }
  return [...groups.values()];
}

/** One line per kind: trained and held-out phrasings side by side. */
export function formatFactScores(scores: readonly FactScore[]): string[] {
  const kinds = [...new Set(scores.map((s) => s.kind))];
  const cell = (s: FactScore | undefined) =>
    s ? `${`${s.correct}/${s.total}`.padStart(7)} (${((100 * s.correct) / s.total).toFixed(0).padStart(3)}%)` : '-';
  return [
    `  ${'facts'.padEnd(8)} ${'trained phrasings'.padEnd(18)} held-out phrasings`,
    ...kinds.map(
      (k) =>
        `  ${k.padEnd(8)} ${cell(scores.find((s) => s.kind === k && !s.heldOut)).padEnd(18)} ${cell(scores.find((s) => s.kind === k && s.heldOut))}`,
    ),
  ];
}
