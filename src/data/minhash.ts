/**
 * Near-duplicate detection with MinHash over word shingles and LSH banding. A document's signature holds, for each
 * of `numPerm` hash functions (h1 + i*h2, Kirsch-Mitzenmacher, finalized with murmur3's fmix32), the smallest hash
 * of its word n-gram shingles; two signatures agree in a position with probability equal to the documents' Jaccard
 * similarity. The index splits signatures into `bands` bands; documents sharing a band become candidates, and a
 * candidate whose estimated Jaccard reaches `threshold` makes the new document a near duplicate.
 */
import { fmix32 } from '../backend/hash.ts';
import { words } from './filters.ts';

export interface MinHashOptions {
  /** Hash functions per signature (default 128). */
  numPerm: number;
  /** LSH bands; numPerm must be a multiple (default 32, i.e. 4 rows per band). */
  bands: number;
  /** Words per shingle (default 5). */
  shingle: number;
  /** Estimated Jaccard similarity at or above which a document is a near duplicate (default 0.8). */
  threshold: number;
}

export const DEFAULT_MINHASH: MinHashOptions = { numPerm: 128, bands: 32, shingle: 5, threshold: 0.8 };

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The MinHash signature of a text's word shingles (lower-cased words, so case and punctuation do not matter). */
export function minhashSignature(text: string, opts: MinHashOptions = DEFAULT_MINHASH): Uint32Array {
  const ws = words(text).map(fnv1a);
  const n = Math.max(1, Math.min(opts.shingle, ws.length));
  const sig = new Uint32Array(opts.numPerm).fill(0xffffffff);
  for (let i = 0; i + n <= ws.length; i++) {
    let h = 0x9747b28c;
    for (let k = 0; k < n; k++) h = fmix32((h ^ ws[i + k]!) + k);
    const h1 = h;
    const h2 = fmix32(h ^ 0x5bd1e995) | 1;
    for (let p = 0; p < opts.numPerm; p++) {
      const v = fmix32((h1 + Math.imul(p, h2)) | 0);
      if (v < sig[p]!) sig[p] = v;
    }
  }
  return sig;
}

/** Estimated Jaccard similarity: the fraction of positions where two signatures agree. */
export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}

/** An LSH index of the signatures of kept documents. */
export class NearDupIndex {
  private readonly rows: number;
  private readonly buckets: Map<number, number[]>[];
  private sigs: Uint32Array;
  private count = 0;

  constructor(readonly opts: MinHashOptions = DEFAULT_MINHASH) {
    if (
      !Number.isInteger(opts.numPerm) ||
      !Number.isInteger(opts.bands) ||
      opts.bands < 1 ||
      opts.numPerm % opts.bands !== 0
    ) {
      throw new RangeError(
        `NearDupIndex: numPerm (${opts.numPerm}) must be a positive multiple of bands (${opts.bands})`,
      );
    }
    this.rows = opts.numPerm / opts.bands;
    this.buckets = Array.from({ length: opts.bands }, () => new Map<number, number[]>());
    this.sigs = new Uint32Array(opts.numPerm * 1024);
  }

  get size(): number {
    return this.count;
  }

  private bandKey(sig: Uint32Array, band: number): number {
    let h = band;
    for (let r = 0; r < this.rows; r++) h = fmix32(h ^ sig[band * this.rows + r]!);
    return h;
  }

  /** The best estimated Jaccard against indexed documents that share a band (0 when none do). */
  bestMatch(sig: Uint32Array): number {
    const seen = new Set<number>();
    let best = 0;
    const P = this.opts.numPerm;
    for (let b = 0; b < this.opts.bands; b++) {
      const list = this.buckets[b]!.get(this.bandKey(sig, b));
      if (!list) continue;
      for (const id of list) {
        if (seen.has(id)) continue;
        seen.add(id);
        let eq = 0;
        for (let i = 0; i < P; i++) if (this.sigs[id * P + i] === sig[i]) eq++;
        best = Math.max(best, eq / P);
        if (best >= this.opts.threshold) return best;
      }
    }
    return best;
  }

  add(sig: Uint32Array): void {
    const P = this.opts.numPerm;
    if ((this.count + 1) * P > this.sigs.length) {
      const grown = new Uint32Array(this.sigs.length * 2);
      grown.set(this.sigs);
      this.sigs = grown;
    }
    this.sigs.set(sig, this.count * P);
    for (let b = 0; b < this.opts.bands; b++) {
      const key = this.bandKey(sig, b);
      const list = this.buckets[b]!.get(key);
      if (list) list.push(this.count);
      else this.buckets[b]!.set(key, [this.count]);
    }
    this.count++;
  }

  /** True when `sig` is a near duplicate of an indexed document; otherwise indexes it and returns false. */
  checkAndAdd(sig: Uint32Array): boolean {
    if (this.bestMatch(sig) >= this.opts.threshold) return true;
    this.add(sig);
    return false;
  }
}
