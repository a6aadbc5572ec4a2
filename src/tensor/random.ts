/**
 * Seeded random numbers: a small, fast PRNG (xoshiro128**, seeded through splitmix32) that produces the same
 * stream on every platform and backend, with uniform and Gaussian (Box-Muller) draws. All random tensor creation
 * and data sampling goes through an `Rng`, so a run is reproducible from its seed and its state can be saved.
 */

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

export class Rng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.s = new Uint32Array(4);
    let st = seed | 0;
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(st);
      st = next;
      this.s[i] = out;
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** A uniform uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** A standard normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** The generator's full state, for checkpoints. */
  getState(): { s: number[]; spare: number | null } {
    return { s: Array.from(this.s), spare: this.spare };
  }

  /** Restores a getState() snapshot; anything else (see rngStateProblem) throws rather than seeding zeros. */
  setState(state: { s: number[]; spare: number | null }): void {
    const problem = rngStateProblem(state);
    if (problem !== undefined) throw new TypeError(`Rng.setState: ${problem}`);
    this.s = Uint32Array.from(state.s);
    this.spare = state.spare ?? null;
  }
}

/**
 * What is wrong with `state` as an Rng.getState() snapshot, or undefined when it is one: `s` must be 4 integers in
 * [0, 2^32), not all zero (xoshiro's one fixed point, which would draw only zeros), and `spare` null or a finite
 * number. Readers of saved states use it to name the file at fault.
 */
export function rngStateProblem(state: unknown): string | undefined {
  const st = state as { s?: unknown; spare?: unknown } | null;
  if (typeof st !== 'object' || st === null)
    return `expected {"s": [4 uint32 words], "spare": ...}, received ${JSON.stringify(state)}`;
  const w = st.s;
  if (!Array.isArray(w) || w.length !== 4) return `"s" must be 4 uint32 words, received ${JSON.stringify(w)}`;
  if (!w.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 2 ** 32))
    return `"s" must be 4 uint32 words, received ${JSON.stringify(w)}`;
  if (w.every((x) => x === 0)) return '"s" is all zeros, which is no generator state (it would draw only zeros)';
  if (st.spare !== null && st.spare !== undefined && !(typeof st.spare === 'number' && Number.isFinite(st.spare)))
    return `"spare" must be null or a finite number, received ${JSON.stringify(st.spare)}`;
  return undefined;
}

/**
 * Shuffles `a` in place and returns it: Fisher-Yates from the end, swapping a[i] with a[rng.int(i + 1)] for i = n - 1
 * down to 1 (n - 1 draws). Every seeded shuffle in llmforge (data splits, epoch orders, decks) is this one order, so
 * a seed gives the same split and batch order it always has.
 */
export function shuffleInPlace<A extends { length: number; [i: number]: unknown }>(a: A, rng: Rng): A {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** A shuffled copy of `items` (shuffleInPlace on a copy); `items` is left as it was. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  return shuffleInPlace([...items], rng);
}

/** The indices 0..n-1 in an order fixed by `seed` (shuffleInPlace with a fresh Rng): per-epoch batch orders. */
export function permutation(n: number, seed: number): number[] {
  return shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    new Rng(seed),
  );
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
