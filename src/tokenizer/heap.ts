/** A binary max-heap of numeric (priority, tie-break key) entries, used by BPE training to pick the next merge. */
export class MaxHeap {
  private pri: number[] = [];
  private key: number[] = [];

  get size(): number {
    return this.pri.length;
  }

  /** Higher priority first; among equal priorities, the smaller key first. */
  private above(i: number, j: number): boolean {
    return this.pri[i]! > this.pri[j]! || (this.pri[i] === this.pri[j] && this.key[i]! < this.key[j]!);
  }

  private swap(i: number, j: number): void {
    [this.pri[i], this.pri[j]] = [this.pri[j]!, this.pri[i]!];
    [this.key[i], this.key[j]] = [this.key[j]!, this.key[i]!];
  }

  push(priority: number, key: number): void {
    this.pri.push(priority);
    this.key.push(key);
    let i = this.pri.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the top entry, or undefined when empty. */
  pop(): [number, number] | undefined {
    const n = this.pri.length;
    if (n === 0) return undefined;
    const top: [number, number] = [this.pri[0]!, this.key[0]!];
    this.swap(0, n - 1);
    this.pri.pop();
    this.key.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < n - 1 && this.above(l, best)) best = l;
      if (r < n - 1 && this.above(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}
