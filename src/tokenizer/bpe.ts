/**
 * The byte-level BPE model: a vocabulary of byte-string tokens (stored in GPT-2's byte <-> unicode form) and an
 * ordered merge list. Encoding a word starts from one token per byte and repeatedly applies the best-ranked
 * (earliest learned) adjacent merge, the same rule as GPT-2, tiktoken and Hugging Face tokenizers. Pairs are
 * looked up by numeric keys over token ids, not strings.
 */
import { BYTE_TO_CHAR } from './byte-unicode.ts';
import { UserError } from '../util/user-error.ts';

const KEY = 2 ** 21; // ids are below 2^21, so a * KEY + b is an exact, unique double

export class TokenizerFormatError extends UserError {}

export class ByteLevelBpe {
  readonly tokenToId: ReadonlyMap<string, number>;
  /** Token string (byte-unicode form) per id; '' for ids with no token (holes). */
  readonly idToToken: readonly string[];
  readonly merges: readonly (readonly [string, string])[];
  private readonly byteIds = new Int32Array(256);
  /** pair key -> rank * KEY + merged id */
  private readonly pairs = new Map<number, number>();

  /**
   * `source` names where the data came from, for error messages. `unkId` lets a vocabulary lack some single-byte
   * tokens (toy vocabularies saved by Hugging Face's slow GPT2Tokenizer): such bytes encode as that id.
   */
  constructor(
    vocab: ReadonlyMap<string, number>,
    merges: readonly (readonly [string, string])[],
    source = 'tokenizer',
    opts: { unkId?: number } = {},
  ) {
    this.tokenToId = vocab;
    this.merges = merges;
    let maxId = -1;
    for (const id of vocab.values()) {
      if (!Number.isInteger(id) || id < 0 || id >= KEY)
        throw new TokenizerFormatError(`${source}: token id ${id} is not an integer in [0, ${KEY})`);
      maxId = Math.max(maxId, id);
    }
    const idToToken = new Array<string>(maxId + 1).fill('');
    for (const [tok, id] of vocab) idToToken[id] = tok;
    this.idToToken = idToToken;
    for (let b = 0; b < 256; b++) {
      const id = vocab.get(BYTE_TO_CHAR[b]!) ?? opts.unkId;
      if (id === undefined) {
        throw new TokenizerFormatError(
          `${source}: the vocabulary lacks the single-byte token for byte ${b} ("${BYTE_TO_CHAR[b]}"); byte-level BPE needs all 256`,
        );
      }
      this.byteIds[b] = id;
    }
    merges.forEach(([a, b], rank) => {
      const ia = vocab.get(a);
      const ib = vocab.get(b);
      const im = vocab.get(a + b);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new TokenizerFormatError(
          `${source}: merge ${rank + 1} ("${a} ${b}") uses token "${missing}", which is not in the vocabulary`,
        );
      }
      const key = ia * KEY + ib;
      if (!this.pairs.has(key)) this.pairs.set(key, rank * KEY + im);
    });
  }

  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** Token ids for one pre-tokenized word given as UTF-8 bytes. */
  encodeBytes(bytes: Uint8Array): number[] {
    const n = bytes.length;
    if (n === 0) return [];
    const ids = new Array<number>(n);
    for (let i = 0; i < n; i++) ids[i] = this.byteIds[bytes[i]!]!;
    let len = n;
    while (len > 1) {
      // Find the best-ranked adjacent pair.
      let best = Infinity;
      let bestMerged = -1;
      let bestA = -1;
      let bestB = -1;
      for (let i = 0; i < len - 1; i++) {
        const v = this.pairs.get(ids[i]! * KEY + ids[i + 1]!);
        if (v !== undefined && v < best) {
          best = v;
          bestA = ids[i]!;
          bestB = ids[i + 1]!;
          bestMerged = v % KEY;
        }
      }
      if (bestMerged < 0) break;
      // Merge every occurrence of that pair, left to right.
      let w = 0;
      for (let r = 0; r < len; r++) {
        if (r < len - 1 && ids[r] === bestA && ids[r + 1] === bestB) {
          ids[w++] = bestMerged;
          r++;
        } else {
          ids[w++] = ids[r]!;
        }
      }
      len = w;
    }
    ids.length = len;
    return ids;
  }
}
