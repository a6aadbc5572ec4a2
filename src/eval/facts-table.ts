/**
 * The table `llmforge eval facts` prints: one row per model or checkpoint (its step and name), one column per fact
 * category (a fact kind in trained phrasings, then the same kind in held-out phrasings), each cell the percentage of
 * probes answered, so a skill's emergence across training reads down a column.
 */

/** A tally of one fact kind in one kind of phrasing (what scoreFacts in fact-check.ts returns). */
export interface FactTally {
  kind: string;
  heldOut: boolean;
  correct: number;
  total: number;
}

export interface FactsRow {
  /** Row label, e.g. "latest" or a model directory. */
  label: string;
  step: number | null;
  scores: readonly FactTally[];
}

/** Category names in column order: each kind (first-seen order) trained, then its held-out phrasings. */
export function factCategories(rows: readonly FactsRow[]): { kind: string; heldOut: boolean; name: string }[] {
  const kinds = [...new Set(rows.flatMap((r) => r.scores.map((s) => s.kind)))];
  return kinds.flatMap((kind) =>
    [false, true]
      .filter((heldOut) => rows.some((r) => r.scores.some((s) => s.kind === kind && s.heldOut === heldOut)))
      .map((heldOut) => ({ kind, heldOut, name: heldOut ? `${kind}*` : kind })),
  );
}

/** Lines of the table; `*` marks held-out phrasings; a cell is the percentage answered, "-" when not probed. */
export function formatFactsTable(rows: readonly FactsRow[]): string[] {
  const cats = factCategories(rows);
  const labelWidth = Math.max(10, ...rows.map((r) => r.label.length));
  const width = Math.max(6, ...cats.map((c) => c.name.length));
  const header = `${'step'.padStart(6)}  ${'checkpoint'.padEnd(labelWidth)}  ${cats.map((c) => c.name.padStart(width)).join('  ')}  ${'all'.padStart(width)}`;
  const lines = [header];
  for (const r of rows) {
    const cells = cats.map((c) => {
      const s = r.scores.find((x) => x.kind === c.kind && x.heldOut === c.heldOut);
      return (s && s.total > 0 ? `${((100 * s.correct) / s.total).toFixed(0)}%` : '-').padStart(width);
    });
    const correct = r.scores.reduce((a, s) => a + s.correct, 0);
    const total = r.scores.reduce((a, s) => a + s.total, 0);
    const all = total > 0 ? `${((100 * correct) / total).toFixed(0)}%` : '-';
    lines.push(
      `${(r.step === null ? '?' : String(r.step)).padStart(6)}  ${r.label.padEnd(labelWidth)}  ${cells.join('  ')}  ${all.padStart(width)}`,
    );
  }
  return lines;
}
