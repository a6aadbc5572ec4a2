/**
 * `llmforge report <run> [--out report.md|report.html] [--json]`: the report card of a recipe run (the out directory
 * of `llmforge run` / `llmforge start`), each stage's headline figures read from the files the stages wrote, as
 * Markdown or as one self-contained HTML file with SVG loss curves (src/report/). The file is written atomically;
 * without --out the Markdown goes to stdout, and --json prints the card as one JSON object.
 */
import { extname } from 'node:path';
import { collectReport } from '../../report/card.ts';
import { renderHtml, renderMarkdown } from '../../report/render.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const reportCommand: Command = {
  spec: {
    name: 'report',
    summary: 'Report card of a recipe run as Markdown or one self-contained HTML file',
    usage: 'llmforge report <run dir> [--out report.md|report.html] [--json]',
    options: {
      out: {
        type: 'string',
        help: 'Write the report here: .md for Markdown, .html for one HTML file with SVG charts (default: Markdown to stdout)',
        arg: 'FILE',
      },
      json: { type: 'boolean', help: 'Print the report card as one JSON object (stable metric keys) instead' },
    },
    details: [
      'Each stage of the run gets its headline figures, read from the files it wrote: data tokens and sources,',
      'tokenizer vocabulary and compression, validation loss, perplexity and bits per byte, multiple-choice',
      'accuracy with 95% intervals, classifier accuracy, F1 and confusion matrix, SFT exact match and ROUGE-L,',
      'reward accuracy, DPO/PPO reward before and after, samples and wall time. Every figure has a stable key',
      '(e.g. pretrain.valLoss); in the HTML it is an element with data-testid="report-metric", data-key and data-value.',
      '',
      'Examples:',
      '  llmforge report runs/demo --out report.md',
      '  llmforge report runs/demo --out report.html',
      '  llmforge report runs/demo --json',
    ].join('\n'),
  },
  run(args) {
    const [dir, ...rest] = args.positionals;
    if (dir === undefined)
      throw new UsageError('report: expected a recipe run directory, e.g. `llmforge report runs/demo --out report.md`');
    if (rest.length > 0) throw new UsageError(`report: unexpected argument "${rest[0]}"; give one run directory`);
    const out = args.options.out;
    if (out !== undefined && typeof out !== 'string') throw new UsageError('report: --out expects a file name');
    const ext = out === undefined ? '.md' : extname(out).toLowerCase();
    if (ext !== '.md' && ext !== '.html' && ext !== '.htm')
      throw new UsageError(
        `report: --out ${out}: expected a file ending in .md or .html, received "${extname(out!) || 'no extension'}"`,
      );
    if (out !== undefined && args.options.json) throw new UsageError('report: give --out or --json, not both');
    const card = collectReport(dir);
    if (args.options.json) {
      process.stdout.write(`${JSON.stringify(card)}\n`);
      return;
    }
    const text = ext === '.md' ? renderMarkdown(card) : renderHtml(card);
    if (out === undefined) {
      process.stdout.write(text);
      return;
    }
    writeFileAtomic(out, text);
    const figures = card.stages.reduce((n, s) => n + s.metrics.length, 0);
    process.stdout.write(`wrote ${out}: ${card.stages.length} stages, ${figures} figures\n`);
  },
};
