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
  private used: Float32Array[] = [];
  /** Buffers a leaf took as its gradient, by their ArrayBuffer. */
  private readonly pinned = new Map<ArrayBufferLike, Tensor>();
  /** ArrayBuffers this arena handed out in the current run. */
  private readonly owned = new Set<ArrayBufferLike>();
  readonly stats: ArenaStats = { fresh: 0, freshBytes: 0, reused: 0 };

  constructor(private readonly opts: { poison?: boolean } = {}) {}

  /**
   * Recycles the storage of the previous run (except gradients still held by their leaves), then runs fn with
   * this arena serving allocations. Runs do not nest with other arenas' runs.
   */
  run<T>(fn: () => T): T {
    if (active !== null) throw new Error('StorageArena.run: another arena run is already active; arena runs cannot nest');
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
    this.used.push(out);
    this.owned.add(out.buffer);
    return out;
  }

  /** Called by autograd when `leaf.grad` takes storage `data`: keeps it out of the free lists while it stays so. */
  pinGrad(leaf: Tensor, data: ArrayBufferView): void {
    if (this.owned.has(data.buffer)) this.pinned.set(data.buffer, leaf);
  }

  /** Number of buffers held (handed out plus free); for tests and profiles. */
  get size(): number {
    let n = this.used.length;
    for (const l of this.free.values()) n += l.length;
    return n;
  }

  /**
   * Returns the previous run's storage to the free lists. Free buffers that the previous run did not take are
   * dropped (left to the GC), so with changing shapes the arena holds at most about one run's worth of storage.
   */
  private recycle(): void {
    const kept: Float32Array[] = [];
    this.owned.clear();
    this.free.clear();
    for (const b of this.used) {
      const leaf = this.pinned.get(b.buffer);
      if (leaf !== undefined) {
        if (leaf.grad !== null && leaf.grad.data.buffer === b.buffer) {
          kept.push(b);
          this.owned.add(b.buffer);
          continue;
        }
        this.pinned.delete(b.buffer);
      }
      let list = this.free.get(b.length);
      if (list === undefined) this.free.set(b.length, (list = []));
      list.push(b);
    }
    this.used = kept;
  }
}

/** The arena of the run in progress, or null. */
export function activeArena(): StorageArena | null {
  return active;
}
