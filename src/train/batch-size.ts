/**
 * A check that a training batch can be allocated before any of it is: B sequences of T tokens give logits of
 * B x T x vocabSize floats (and their gradient), which must fit in one typed array and, twice over, in this
 * machine's memory. A mistyped `--batch 1e9` is then one line saying which value is too large, what it would need
 * and the largest batch that fits, instead of `RangeError: Invalid typed array length` deep in the data loader.
 */
import { totalmem } from 'node:os';
import { UserError } from '../util/user-error.ts';

/** The most elements one typed array holds (V8 on 64-bit machines). */
const MAX_ELEMENTS = 2 ** 32 - 1;

function gb(bytes: number): string {
  return `${(bytes / 2 ** 30).toPrecision(3)} GiB`;
}

/**
 * Throws a UserError `<where>: batchSize B x context T x vocabSize V ...` when a batch of B sequences of T tokens
 * over a vocabulary of V cannot be allocated (`memoryBytes` defaults to this machine's memory).
 */
export function checkBatchFits(where: string, B: number, T: number, V: number, memoryBytes = totalmem()): void {
  const perSequence = T * V;
  const logits = B * perSequence;
  const maxB = Math.max(0, Math.floor(Math.min(MAX_ELEMENTS / perSequence, memoryBytes / (8 * perSequence))));
  const fix = maxB >= 1 ? `use a batchSize of at most ${maxB} (more with gradAccum)` : 'use a shorter context';
  if (logits > MAX_ELEMENTS)
    throw new UserError(
      `${where}: batchSize ${B} x context ${T} x vocabSize ${V} = ${logits.toExponential(2)} logits per micro-batch, more than one array holds (${MAX_ELEMENTS}); ${fix}`,
    );
  if (8 * logits > memoryBytes)
    throw new UserError(
      `${where}: batchSize ${B} x context ${T} x vocabSize ${V} needs ${gb(8 * logits)} for the logits and their gradient alone, more than this machine's ${gb(memoryBytes)}; ${fix}`,
    );
}
