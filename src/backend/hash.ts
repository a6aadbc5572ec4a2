/**
 * Counter-based 32-bit hash shared by both backends (mirrored in native/src/hash.h). Dropout masks are drawn
 * from hash32(seed, index), so the native and reference backends drop exactly the same elements and a run is
 * reproducible without storing masks.
 */

/** MurmurHash3's 32-bit finalizer: a bijective mix of all input bits (also used by MinHash). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A well-mixed uint32 from a uint32 seed and an element index (< 2^32). */
export function hash32(seed: number, index: number): number {
  const h = fmix32((index + Math.imul(seed >>> 0, 0x9e3779b9)) >>> 0);
  return fmix32((h ^ (seed >>> 0)) >>> 0);
}

/** The keep threshold for dropout probability p: an element is kept iff hash32(seed, i) >= threshold. */
export function dropoutThreshold(p: number): number {
  return Math.min(Math.floor(p * 4294967296), 4294967295);
}
