/**
 * A synthetic preference set and a tiny base for the reward-model tests: each prompt asks about a thing; both
 * responses are a few random words about it, and the chosen one carries a polite marker ("please", "thanks") where
 * the rejected one carries a rude one ("idiot", "shut up"), at a random word position. Written as Alpaca-style
 * {instruction, input, chosen, rejected} JSON, with a freshly initialised one-layer character-level GPT-2 (context
 * 64) saved beside it as a model directory.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../../src/models/create.ts';
import { saveModel } from '../../src/models/model-io.ts';
import { resolveModelConfig } from '../../src/models/presets.ts';
import { Rng } from '../../src/tensor/random.ts';
import { CharTokenizer } from '../../src/tokenizer/char.ts';
import { saveTextTokenizer } from '../../src/tokenizer/text-tokenizer.ts';

const THINGS = ['cats', 'rain', 'tea', 'maps', 'bikes', 'stars', 'bread', 'rivers', 'clocks', 'songs'];
const WORDS = ['it', 'is', 'nice', 'big', 'old', 'fun', 'red', 'a', 'lot', 'of', 'so', 'very', 'good', 'warm'];
const POLITE = ['please', 'thanks'];
const RUDE = ['idiot', 'shut up'];

export interface PreferenceRecord {
  instruction: string;
  input: string;
  chosen: string;
  rejected: string;
}

/** `n` pairs from a seeded generator. */
export function syntheticPreferences(n: number, seed: number): PreferenceRecord[] {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  return Array.from({ length: n }, () => {
    const thing = pick(THINGS);
    const words = Array.from({ length: 3 + rng.int(3) }, () => pick(WORDS));
    const at = rng.int(words.length + 1);
    const say = (marker: string): string => [...words.slice(0, at), marker, ...words.slice(at)].join(' ');
    return { instruction: `tell me about ${thing}`, input: '', chosen: say(pick(POLITE)), rejected: say(pick(RUDE)) };
  });
}

/** Writes `<dir>/prefs.json` (n pairs) and the tiny base `<dir>/base`; returns their paths. */
export function tinyPreferenceSetup(
  dir: string,
  n = 160,
  seed = 11,
): { data: string; base: string; records: PreferenceRecord[] } {
  const records = syntheticPreferences(n, seed);
  const data = join(dir, 'prefs.json');
  writeFileSync(data, JSON.stringify(records, null, 1));
  const tok = CharTokenizer.fromText(
    `abcdefghijklmnopqrstuvwxyz <>|_\n${records.map((r) => r.instruction + r.chosen + r.rejected).join('')}`,
  );
  const base = join(dir, 'base');
  saveModel(
    base,
    createModel(
      resolveModelConfig({
        arch: 'gpt2',
        vocabSize: tok.vocabSize,
        blockSize: 64,
        nLayer: 1,
        nHead: 2,
        nEmbd: 32,
        dropout: 0,
      }),
      new Rng(5),
    ),
  );
  saveTextTokenizer(base, tok);
  return { data, base, records };
}
