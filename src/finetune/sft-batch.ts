/**
 * Tokenized SFT examples -> model batches, two ways: padding (each row one example, right-padded to the longest in
 * the batch, padded targets -100) and packing (several examples per row of T tokens, placed first-fit in order, each
 * with its own segment id so attention never crosses examples and positions restart per example; the unused tail
 * is its own segment 0 with targets -100).
 */
import type { SftExample } from './sft-tokenize.ts';

export interface SftBatch {
  ids: Int32Array;
  targets: Int32Array;
  /** Segment id per token (packing), or null (padding). */
  segments: Int32Array | null;
  B: number;
  T: number;
}

/** Examples right-padded into one batch (B = examples.length, T = the longest). */
export function padSftBatch(examples: readonly SftExample[], padId: number): SftBatch {
  if (examples.length === 0) throw new RangeError('padSftBatch: no examples');
  const B = examples.length;
  const T = Math.max(1, ...examples.map((e) => e.ids.length));
  const ids = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(-100);
  examples.forEach((e, b) => {
    ids.set(e.ids, b * T);
    targets.set(e.targets, b * T);
  });
  return { ids, targets, segments: null, B, T };
}

/** Rows of exactly T tokens holding whole examples (first fit, in order); an example longer than T is an error. */
export function packRows(examples: readonly SftExample[], T: number, padId: number): SftBatch[] {
  const rows: { ids: Int32Array; targets: Int32Array; segments: Int32Array; used: number; count: number }[] = [];
  examples.forEach((e, i) => {
    const n = e.ids.length;
    if (n > T) throw new RangeError(`packRows: example ${i} has ${n} tokens, more than the row length ${T}`);
    if (n === 0) return;
    let row = rows.find((r) => r.used + n <= T);
    if (!row) {
      row = {
        ids: new Int32Array(T).fill(padId),
        targets: new Int32Array(T).fill(-100),
        segments: new Int32Array(T),
        used: 0,
        count: 0,
      };
      rows.push(row);
    }
    row.ids.set(e.ids, row.used);
    row.targets.set(e.targets, row.used);
    row.count += 1;
    row.segments.fill(row.count, row.used, row.used + n);
    row.used += n;
  });
  return rows.map((r) => ({ ids: r.ids, targets: r.targets, segments: r.segments, B: 1, T }));
}

/** Stacks single-row batches of equal T into batches of up to B rows. */
export function stackRows(rows: readonly SftBatch[], B: number): SftBatch[] {
  const out: SftBatch[] = [];
  for (let i = 0; i < rows.length; i += B) {
    const group = rows.slice(i, i + B);
    const T = group[0]!.T;
    const ids = new Int32Array(group.length * T);
    const targets = new Int32Array(group.length * T);
    const segments = new Int32Array(group.length * T);
    group.forEach((r, b) => {
      ids.set(r.ids, b * T);
      targets.set(r.targets, b * T);
      segments.set(r.segments ?? new Int32Array(T).fill(1), b * T);
    });
    out.push({ ids, targets, segments, B: group.length, T });
  }
  return out;
}
