/**
 * Classification metrics from predicted and true label indices: a confusion matrix (rows true, columns predicted),
 * accuracy, and precision, recall and F1 per class (0 where undefined, e.g. a class never predicted), plus a plain
 * text table for the terminal.
 */

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  perClass: ClassMetrics[];
  /** confusion[t][p]: examples of true class t predicted as p. */
  confusion: number[][];
  n: number;
}

export function classificationReport(
  truth: readonly number[],
  pred: readonly number[],
  labels: readonly string[],
): ClassificationReport {
  if (truth.length !== pred.length)
    throw new RangeError(`classificationReport: ${truth.length} true labels but ${pred.length} predictions`);
  const K = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    const p = pred[i]!;
    confusion[t]![p]! += 1;
    if (t === p) correct++;
  });
  const perClass = labels.map((label, k) => {
    const tp = confusion[k]![k]!;
    const predicted = confusion.reduce((s, row) => s + row[k]!, 0);
    const support = confusion[k]!.reduce((s, v) => s + v, 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  return { accuracy: truth.length > 0 ? correct / truth.length : 0, perClass, confusion, n: truth.length };
}

/** Flat fields for a metrics.jsonl record, prefixed (e.g. `test_accuracy`, `test_f1_spam`, `test_confusion`). */
export function reportFields(r: ClassificationReport, prefix: string): Record<string, number | string> {
  const out: Record<string, number | string> = { [`${prefix}_accuracy`]: r.accuracy };
  for (const c of r.perClass) {
    out[`${prefix}_precision_${c.label}`] = c.precision;
    out[`${prefix}_recall_${c.label}`] = c.recall;
    out[`${prefix}_f1_${c.label}`] = c.f1;
  }
  out[`${prefix}_confusion`] = JSON.stringify(r.confusion);
  return out;
}

export function formatClassificationReport(r: ClassificationReport): string {
  const w = Math.max(8, ...r.perClass.map((c) => c.label.length));
  const lines = [
    `accuracy ${(r.accuracy * 100).toFixed(2)}% on ${r.n} examples`,
    `${'class'.padEnd(w)}  precision  recall  f1      support`,
  ];
  for (const c of r.perClass) {
    lines.push(
      `${c.label.padEnd(w)}  ${c.precision.toFixed(4).padStart(9)}  ${c.recall.toFixed(4).padStart(6)}  ${c.f1.toFixed(4)}  ${String(c.support).padStart(7)}`,
    );
  }
  lines.push(`confusion (rows true, columns predicted: ${r.perClass.map((c) => c.label).join(', ')})`);
  for (const [i, row] of r.confusion.entries())
    lines.push(`${r.perClass[i]!.label.padEnd(w)}  ${row.map((v) => String(v).padStart(6)).join(' ')}`);
  return lines.join('\n');
}
