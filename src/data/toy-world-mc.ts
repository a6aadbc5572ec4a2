/**
 * A multiple-choice test built from the toy world's fact tables, for `llmforge eval mc --data toy-world`: every
 * fact probe (trained and held-out phrasings) becomes an item whose choices are the right answer and up to three
 * wrong answers of the same sort (another capital, another country, another animal sound, another colour, another
 * direction), in a seeded random order. Each item names its category (fact kind, and "held-out" for unseen
 * phrasings) so accuracy can be reported per category.
 */
import { Rng, shuffleInPlace } from '../tensor/random.ts';
import { CAPITALS, toyWorldProbes, type FactProbe } from './toy-world.ts';

export interface ToyMcItem {
  question: string;
  choices: string[];
  answer: number;
  category: string;
}

const DIRECTIONS = ['east', 'west', 'north', 'south'];

/** The answers of the same sort as `p`'s: the pool its wrong choices come from (the answer itself included). */
function pool(p: FactProbe, probes: readonly FactProbe[]): string[] {
  if (p.kind === 'sun') return DIRECTIONS;
  if (p.kind === 'capital') {
    const countries = CAPITALS.map((c) => c.country);
    return countries.includes(p.answer) ? countries : CAPITALS.map((c) => c.capital);
  }
  return [...new Set(probes.filter((q) => q.kind === p.kind).map((q) => q.answer))];
}

/** Items for every probe, `choices` (default 4) options each, deterministic for a seed. */
export function toyWorldMcItems(opts: { choices?: number; seed?: number } = {}): ToyMcItem[] {
  const k = opts.choices ?? 4;
  if (!(Number.isInteger(k) && k >= 2))
    throw new RangeError(`toyWorldMcItems: choices must be an integer >= 2, received ${k}`);
  const rng = new Rng(opts.seed ?? 11);
  const probes = toyWorldProbes();
  return probes.map((p) => {
    const wrong = pool(p, probes).filter((a) => a !== p.answer);
    shuffleInPlace(wrong, rng);
    const choices = wrong.slice(0, k - 1);
    const answer = rng.int(choices.length + 1);
    choices.splice(answer, 0, p.answer);
    return { question: p.prompt, choices, answer, category: p.heldOut ? `${p.kind} held-out` : p.kind };
  });
}
