/**
 * A step arena: reuses float32 storage across training steps. A training step allocates the same buffers every
 * time (activations, saved statistics, gradients: ~30 MB for the small T1 model); without an arena each is a fresh
 * zero-filled typed array that V8 must later collect (page faults, external-memory GCs). Inside `arena.run(fn)`
 * every allocation of `allocStorage` comes from the arena's free lists; the next `run` first recycles everything
 * handed out by the previous one. So a tensor computed in one run (the loss, the logits, any activation) is only
 * valid until the next run starts: read what you keep (`loss.item()`) or `clone()` it.
 * The exception is a parameter's gradient: when a leaf takes an arena buffer as its `.grad`, the buffer stays out
 * of the free lists for as long as it is that leaf's gradient (gradient accumulation across runs stays correct).
 * Float64 mode (gradient checks) never uses the arena. With `poison`, reused buffers that the caller promised to
 * overwrite are filled with NaN first, so a kernel that reads storage it did not write shows up in tests.
 */
import type { Tensor } from './tensor.ts';

export interface ArenaStats {
  /** Fresh allocations (cache misses) since the arena was created, and their bytes. */
  fresh: number;
  freshBytes: number;
  /** Allocations served from the free lists. */
  reused: number;
}

let active: StorageArena | null = null;

export class StorageArena {
  /** Free buffers by length (the previous run's storage). */
  private readonly free = new Map<number, Float32Array[]>();
  /** Buffers handed out since the last recycle. */
  private used = new Set<Float32Array>();
  /** Buffers a leaf took as its gradient, by their ArrayBuffer. */
  private readonly pinned = new Map<ArrayBufferLike, Tensor>();
  /** Run number in which a buffer was released early (such buffers stay on the free lists for the next run). */
  private readonly releasedIn = new WeakMap<Float32Array, number>();
  private runs = 0;
  /** The buffers handed out in the current run, by their ArrayBuffer. */
  private readonly owned = new Map<ArrayBufferLike, Float32Array>();
  readonly stats: ArenaStats = { fresh: 0, freshBytes: 0, reused: 0 };

  constructor(private readonly opts: { poison?: boolean } = {}) {}

  /**
   * Recycles the storage of the previous run (except gradients still held by their leaves), then runs fn with
   * this arena serving allocations. Runs do not nest with other arenas' runs.
   */
  run<T>(fn: () => T): T {
    if (active !== null)
      throw new Error('StorageArena.run: another arena run is already active; arena runs cannot nest');
    this.recycle();
    active = this;
    try {
      return fn();
    } finally {
      active = null;
    }
  }

  /** A buffer of n floats: zero-filled when zero, else with unspecified contents (the caller overwrites it). */
  alloc(n: number, zero: boolean): Float32Array {
    const list = this.free.get(n);
    let out = list !== undefined ? list.pop() : undefined;
    if (out === undefined) {
      out = new Float32Array(n);
      this.stats.fresh++;
      this.stats.freshBytes += out.byteLength;
    } else {
      this.stats.reused++;
      if (zero) out.fill(0);
      else if (this.opts.poison) out.fill(Number.NaN);
    }
    this.used.add(out);
    this.owned.set(out.buffer, out);
    return out;
  }

  /**
   * Returns storage of the current run to the free lists before the run ends (autograd does this for gradients no
   * longer referenced, so a backward pass reuses its own dead gradients). Ignores storage it did not hand out
   * and pinned gradients.
   */
  release(buffer: ArrayBufferLike): void {
    const b = this.owned.get(buffer);
    if (b === undefined || this.pinned.has(buffer)) return;
    this.owned.delete(buffer);
    this.used.delete(b);
    this.releasedIn.set(b, this.runs);
    this.pushFree(b);
  }

  /** Called by autograd when `leaf.grad` takes storage `data`: keeps it out of the free lists while it stays so. */
  pinGrad(leaf: Tensor, data: ArrayBufferView): void {
    if (this.owned.has(data.buffer)) this.pinned.set(data.buffer, leaf);
  }

  /** Number of buffers held (handed out plus free); for tests and profiles. */
  get size(): number {
    let n = this.used.size;
    for (const l of this.free.values()) n += l.length;
    return n;
  }

  /**
   * Returns the previous run's storage to the free lists. Free buffers that the previous run neither took nor
   * released are dropped (left to the GC), so with changing shapes the arena holds about one run's worth of storage.
   */
  private recycle(): void {
    const kept = new Set<Float32Array>();
    this.owned.clear();
    const previous = [...this.free.values()].flat().filter((b) => this.releasedIn.get(b) === this.runs);
    this.runs++;
    this.free.clear();
    for (const b of previous) this.pushFree(b);
    for (const b of this.used) {
      const leaf = this.pinned.get(b.buffer);
      if (leaf !== undefined) {
        if (leaf.grad !== null && leaf.grad.data.buffer === b.buffer) {
          kept.add(b);
          this.owned.set(b.buffer, b);
          continue;
        }
        this.pinned.delete(b.buffer);
      }
      this.pushFree(b);
    }
    this.used = kept;
  }

  private pushFree(b: Float32Array): void {
    let list = this.free.get(b.length);
    if (list === undefined) {
      list = [];
      this.free.set(b.length, list);
    }
    list.push(b);
  }
}

/**
 * Reference counts of the gradient buffers of one backward pass inside an arena run: a buffer whose last gradient
 * entry is consumed, and that no leaf holds, goes back to the arena at once, so later gradients of the same pass
 * reuse it (without this an arena step would keep every gradient of the pass alive to its end).
 */
export class GradStorage {
  private readonly refs = new Map<ArrayBufferLike, number>();
  private readonly held = new Set<ArrayBufferLike>();

  constructor(private readonly arena: StorageArena) {}

  /** Never release this buffer (the caller's seed gradient, a leaf's gradient). */
  hold(data: ArrayBufferView): void {
    this.held.add(data.buffer);
  }

  /** A gradient entry starts (+1) or stops (-1) referencing this storage. */
  ref(data: ArrayBufferView, delta: 1 | -1): void {
    this.refs.set(data.buffer, (this.refs.get(data.buffer) ?? 0) + delta);
  }

  /** Releases the storage if no gradient entry references it and nothing holds it. */
  drop(data: ArrayBufferView): void {
    const b = data.buffer;
    if (!this.held.has(b) && (this.refs.get(b) ?? 0) <= 0) this.arena.release(b);
  }
}

/** The arena of the run in progress, or null. */
export function activeArena(): StorageArena | null {
  return active;
}
