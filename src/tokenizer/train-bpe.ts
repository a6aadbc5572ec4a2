/**
 * Byte-level BPE training. Text is pre-tokenized and only word counts are kept, so corpora larger than memory
 * stream through `WordCounter` chunk by chunk. Training counts every adjacent pair once, then for each merge
 * updates only the words containing the merged pair (their pair counts are adjusted incrementally); a max-heap
 * with lazy invalidation picks the most frequent pair. Ties break deterministically toward the pair with the
 * smaller (left id, right id). The base vocabulary is the 256 bytes (id = byte), merges follow in order, then
 * the special tokens.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Progress } from '../util/progress.ts';
import { ByteLevelBpe } from './bpe.ts';
import { BYTE_TO_CHAR } from './byte-unicode.ts';
import { MaxHeap } from './heap.ts';
import { pretokenize, pretokenizerRegex, type PretokenizerName } from './pretokenize.ts';
import { Tokenizer } from './tokenizer.ts';

const KEY = 2 ** 21;
const encoder = new TextEncoder();

export interface TrainBpeOptions {
  /** Final vocabulary size, special tokens included (>= 256 + specials). */
  vocabSize: number;
  /** Stop when the best pair occurs fewer times than this (default 2). */
  minFrequency?: number;
  /** Special tokens appended after the merges (default ['<|endoftext|>']). */
  specialTokens?: string[];
  pretokenizer?: PretokenizerName;
  /** Show a progress line on stderr (default false). */
  progress?: boolean;
}

/** Accumulates pre-tokenized word counts from text chunks. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  private readonly re: RegExp;
  bytes = 0;
  constructor(readonly pretokenizer: PretokenizerName = 'gpt2') {
    this.re = pretokenizerRegex(pretokenizer);
  }

  add(text: string): void {
    this.bytes += text.length;
    for (const w of pretokenize(text, this.re)) this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
  }

  /** Streams a file (gzip if it ends in .gz), splitting chunks at line ends so words are not cut. */
  async addFile(path: string): Promise<void> {
    let stream: NodeJS.ReadableStream = createReadStream(path);
    if (path.endsWith('.gz')) stream = stream.pipe(createGunzip());
    const decoder = new TextDecoder('utf-8');
    let carry = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = carry + decoder.decode(chunk, { stream: true });
      const cut = text.lastIndexOf('\n');
      if (cut < 0) {
        carry = text;
        continue;
      }
      this.add(text.slice(0, cut + 1));
      carry = text.slice(cut + 1);
    }
    this.add(carry + decoder.decode());
  }
}

/** Learns merges from word counts and returns the tokenizer. */
export function trainBpe(counts: ReadonlyMap<string, number>, opts: TrainBpeOptions): Tokenizer {
  const specials = opts.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = opts.minFrequency ?? 2;
  const numMerges = opts.vocabSize - 256 - specials.length;
  if (!Number.isInteger(opts.vocabSize) || numMerges < 0) {
    throw new RangeError(
      `trainBpe: vocabSize must be an integer >= 256 + ${specials.length} special tokens, received ${opts.vocabSize}`,
    );
  }

  // Words as symbol arrays (ids), with their frequencies.
  const words: Int32Array[] = [];
  const freqs: number[] = [];
  for (const [w, f] of counts) {
    const bytes = encoder.encode(w);
    if (bytes.length < 2) continue; // a single byte has no pair to merge
    words.push(Int32Array.from(bytes));
    freqs.push(f);
  }
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  words.forEach((s, wi) => {
    for (let i = 0; i < s.length - 1; i++) {
      const k = s[i]! * KEY + s[i + 1]!;
      pairCount.set(k, (pairCount.get(k) ?? 0) + freqs[wi]!);
      let set = pairWords.get(k);
      if (!set) {
        set = new Set();
        pairWords.set(k, set);
      }
      set.add(wi);
    }
  });
  const heap = new MaxHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  const tokens: string[] = [...BYTE_TO_CHAR];
  const tokenIds = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const merges: [string, string][] = [];
  const targetTokens = 256 + numMerges;
  const progress = new Progress({ label: 'bpe', total: numMerges, unit: 'merges', silent: !opts.progress });
  while (tokens.length < targetTokens) {
    const top = heap.pop();
    if (!top) break;
    const [c, k] = top;
    const current = pairCount.get(k) ?? 0;
    if (current !== c) {
      if (current > 0) heap.push(current, k); // stale entry: requeue at its true count
      continue;
    }
    if (c < minFrequency) break;
    const a = Math.floor(k / KEY);
    const b = k % KEY;
    // Two different merges can spell the same string ("a"+"bc", "ab"+"c"): the token is then reused.
    const text = tokens[a]! + tokens[b]!;
    let id = tokenIds.get(text);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(text);
      tokenIds.set(text, id);
    }
    merges.push([tokens[a]!, tokens[b]!]);

    const touched = new Set<number>();
    for (const wi of pairWords.get(k) ?? []) {
      const s = words[wi]!;
      const f = freqs[wi]!;
      // Remove this word's pairs, merge, add its new pairs back.
      for (let i = 0; i < s.length - 1; i++) {
        const pk = s[i]! * KEY + s[i + 1]!;
        pairCount.set(pk, pairCount.get(pk)! - f);
      }
      const merged: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i < s.length - 1 && s[i] === a && s[i + 1] === b) {
          merged.push(id);
          i++;
        } else {
          merged.push(s[i]!);
        }
      }
      const ns = Int32Array.from(merged);
      words[wi] = ns;
      for (let i = 0; i < ns.length - 1; i++) {
        const pk = ns[i]! * KEY + ns[i + 1]!;
        pairCount.set(pk, (pairCount.get(pk) ?? 0) + f);
        let set = pairWords.get(pk);
        if (!set) {
          set = new Set();
          pairWords.set(pk, set);
        }
        set.add(wi);
        touched.add(pk);
      }
    }
    pairCount.delete(k);
    pairWords.delete(k);
    for (const pk of touched) {
      const pc = pairCount.get(pk)!;
      if (pc > 0) heap.push(pc, pk);
    }
    if (merges.length % 64 === 0) progress.update(tokens.length - 256);
  }
  progress.finish(tokens.length - 256);

  const vocab = tokenIds;
  const specialMap = new Map(specials.map((s, i) => [s, tokens.length + i]));
  return new Tokenizer(new ByteLevelBpe(vocab, merges, 'trainBpe'), {
    pretokenizer: opts.pretokenizer ?? 'gpt2',
    specialTokens: specialMap,
  });
}

/** Counts words in files (streamed) and trains. */
export async function trainBpeFromFiles(paths: readonly string[], opts: TrainBpeOptions): Promise<Tokenizer> {
  const counter = new WordCounter(opts.pretokenizer ?? 'gpt2');
  for (const p of paths) await counter.addFile(p);
  return trainBpe(counter.counts, opts);
}
