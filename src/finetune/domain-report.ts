/**
 * The before/after report of a domain-adaptation run: perplexity and bits per byte of the base and of the adapted
 * model on held-out domain text (did it learn the domain?) and, when given, on general text (did it forget?), with
 * the relative change, as the JSON written to `<out>/domain-report.json` and as a small table for the terminal.
 */
import type { TextPerplexityResult } from '../eval/perplexity.ts';

/** One perplexity measurement, as stored in the report. */
export interface PplStats {
  /** Tokens scored. */
  tokens: number;
  /** Mean negative log-likelihood per token, in nats. */
  meanNll: number;
  ppl: number;
  bitsPerByte: number;
}

export interface BeforeAfter {
  /** Where the text came from (a path or toy-world:N). */
  text: string;
  before: PplStats;
  after: PplStats;
  /** after.ppl / before.ppl - 1 (negative: better). */
  pplChange: number;
}

export interface DomainReport {
  format: 'llmforge-domain-report';
  /** The base model directory. */
  base: string;
  /** The adapted model directory (what `--model <out>` loads). */
  model: string;
  /** Perplexity windows. */
  eval: { context: number; stride: number };
  training: {
    steps: number;
    lr: number;
    batchSize: number;
    context: number;
    trainTokens: number;
    seconds: number;
    finalValLoss: number | null;
  };
  domain: BeforeAfter;
  /** Null when no general text was given. */
  general: BeforeAfter | null;
}

export function pplStats(r: TextPerplexityResult): PplStats {
  return { tokens: r.scored, meanNll: r.meanNll, ppl: r.ppl, bitsPerByte: r.bitsPerByte };
}

export function beforeAfter(text: string, before: PplStats, after: PplStats): BeforeAfter {
  return { text, before, after, pplChange: after.ppl / before.ppl - 1 };
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const sig = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
/** The perplexity ratio as a factor: "x2.41" when it rose, "/1,250" when it fell (a percentage hides large drops). */
const factor = (change: number): string => (change >= 0 ? `x${sig(1 + change)}` : `/${sig(1 / (1 + change))}`);
const num = (x: number): string => (x >= 1e5 ? x.toExponential(2) : x.toFixed(2));

/** The report as aligned lines: one row for the domain text, one for the general text (or a note). */
export function formatDomainReport(r: DomainReport): string {
  const rows: string[][] = [['', 'text', 'tokens', 'ppl before', '', 'after', 'change', 'bits/byte before -> after']];
  const add = (kind: string, b: BeforeAfter, note: string): void => {
    rows.push([
      kind,
      b.text,
      b.before.tokens.toLocaleString('en-US'),
      num(b.before.ppl),
      '->',
      num(b.after.ppl),
      `${pct(b.pplChange)} (${factor(b.pplChange)})${note}`,
      `${b.before.bitsPerByte.toFixed(3)} -> ${b.after.bitsPerByte.toFixed(3)}`,
    ]);
  };
  add('domain', r.domain, '');
  if (r.general) add('general', r.general, r.general.pplChange > 0 ? ' (forgetting)' : '');
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const right = new Set([2, 3, 5]);
  const lines = rows.map((row) =>
    row
      .map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.unshift(
    `perplexity of ${r.base} (before) and ${r.model} (after); windows of ${r.eval.context} tokens, stride ${r.eval.stride}`,
  );
  if (!r.general)
    lines.push('general: no general text given (--general <file> or toy-world), so forgetting is not measured');
  return lines.join('\n');
}
