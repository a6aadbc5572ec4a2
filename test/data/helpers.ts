/**
 * Shared fixtures for the data tests: temporary directories (removed when the test file is done) and seeded random
 * word documents.
 */
import type { Rng } from '../../src/tensor/random.ts';
import { tempDir as removedTempDir } from '../helpers/temp-dir.ts';

export function tempDir(tag = 'data'): string {
  return removedTempDir(tag);
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'so', 'ta', 'vi', 'pe', 'do', 'gu', 'ha', 'ji', 'fo', 'be', 'zu'];

/** A seeded random pseudo-word (2-4 syllables). */
export function randomWord(rng: Rng): string {
  let w = '';
  const n = 2 + rng.int(3);
  for (let i = 0; i < n; i++) w += SYLLABLES[rng.int(SYLLABLES.length)]!;
  return w;
}

/** A document of `n` random words, as sentences. */
export function randomDoc(rng: Rng, n: number): string {
  const ws: string[] = [];
  for (let i = 0; i < n; i++) ws.push(randomWord(rng));
  return `${ws.join(' ')}.`;
}
