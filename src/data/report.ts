/**
 * Human-readable summaries of a prepared dataset for the terminal: the cleaning report (documents kept and
 * dropped per reason, PII replacements per kind), tokens per source with mixture weights and epochs, and the
 * tokens, bytes, documents and shards of each split.
 */
import type { DatasetMeta } from './meta.ts';

const n = (x: number): string => x.toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function formatDataReport(meta: DatasetMeta): string {
  const c = meta.cleaning;
  const lines: string[] = [];
  const dropped = Object.entries(c.dropped).filter(([, v]) => (v ?? 0) > 0);
  const droppedTotal = dropped.reduce((a, [, v]) => a + (v ?? 0), 0);
  lines.push(`cleaning: ${n(c.documents)} documents read, ${n(c.kept)} kept, ${n(droppedTotal)} dropped`);
  for (const [reason, v] of dropped) lines.push(`  dropped ${reason.padEnd(16)} ${n(v ?? 0)}`);
  const pii = Object.entries(c.pii).filter(([, v]) => v > 0);
  if (pii.length > 0) lines.push(`  pii replaced: ${pii.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  lines.push('sources:');
  const width = Math.max(6, ...meta.sources.map((s) => s.name.length));
  lines.push(
    `  ${'name'.padEnd(width)}  ${'docs kept'.padStart(11)}  ${'weight'.padStart(6)}  ${'available'.padStart(11)}  ${'train tok'.padStart(11)}  ${'share'.padStart(6)}  ${'epochs'.padStart(6)}  ${'val tok'.padStart(9)}`,
  );
  for (const s of meta.sources) {
    lines.push(
      `  ${s.name.padEnd(width)}  ${`${n(s.kept)}/${n(s.documents)}`.padStart(11)}  ${(s.weight === null ? '-' : s.weight.toFixed(2)).padStart(6)}  ${n(s.availableTokens).padStart(11)}  ` +
        `${n(s.trainTokens).padStart(11)}  ${pct(s.share).padStart(6)}  ${s.epochs.toFixed(2).padStart(6)}  ${n(s.valTokens).padStart(9)}`,
    );
  }
  for (const split of ['train', 'val'] as const) {
    const s = meta.splits[split];
    const bpt = s.tokens > 0 ? (s.bytes / s.tokens).toFixed(2) : '-';
    lines.push(
      `${split.padEnd(5)}: ${n(s.tokens)} tokens, ${n(s.bytes)} bytes (${bpt} bytes/token), ${n(s.documents)} documents, ${s.shards.length} shard(s)`,
    );
  }
  lines.push(
    `vocabulary ${n(meta.vocabSize)} (${meta.dtype}), document separator: ${meta.eosId !== null ? `EOS id ${meta.eosId}` : String(meta.options.separator ?? 'none')}`,
  );
  return lines.join('\n');
}
