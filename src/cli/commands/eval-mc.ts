/**
 * `llmforge eval mc`: multiple-choice accuracy of a model by log-likelihood (src/eval/multiple-choice.ts) on a JSONL
 * file of items or the toy world's fact test (`--data toy-world`). Prints accuracy and length-normalized accuracy
 * with 95% Wilson intervals, per category when items name one, and writes per-item predictions to --output JSONL.
 */
import { writeFileSync } from 'node:fs';
import { toyWorldMcItems } from '../../data/toy-world-mc.ts';
import { loadMcItems, type McItem } from '../../eval/mc-items.ts';
import { scoreMultipleChoice, type McResult } from '../../eval/multiple-choice.ts';
import { wilsonInterval, type Interval } from '../../eval/wilson.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { Progress } from '../../util/progress.ts';
import { UsageError, type Parsed } from '../args.ts';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ci = (c: Interval): string => `[${(100 * c.low).toFixed(1)}, ${(100 * c.high).toFixed(1)}]`;

function readItems(spec: string): McItem[] {
  if (spec === 'toy-world') return toyWorldMcItems().map(({ question, ...rest }) => ({ context: question, ...rest }));
  return loadMcItems(spec);
}

/** Rows of the per-category table (categories in first-seen order), or none when no item names a category. */
function categoryLines(items: readonly McItem[], r: McResult): string[] {
  const cats = [...new Set(items.map((it) => it.category).filter((c): c is string => c !== undefined))];
  if (cats.length === 0) return [];
  const width = Math.max(8, ...cats.map((c) => c.length));
  const lines = [
    `${'category'.padEnd(width)}  ${'items'.padStart(5)}  ${'acc'.padStart(6)}  ${'acc_norm'.padStart(8)}  acc 95% CI`,
  ];
  for (const c of cats) {
    const preds = r.items.filter((_, i) => items[i]!.category === c);
    const k = preds.filter((p) => p.pred === p.answer).length;
    const kn = preds.filter((p) => p.predNorm === p.answer).length;
    lines.push(
      `${c.padEnd(width)}  ${String(preds.length).padStart(5)}  ${pct(k / preds.length).padStart(6)}  ${pct(kn / preds.length).padStart(8)}  ${ci(wilsonInterval(k, preds.length))}`,
    );
  }
  return lines;
}

export function evalMc(args: Parsed): void {
  const o = args.options;
  if (typeof o.model !== 'string')
    throw new UsageError('eval mc: --model <model dir | run dir | hf://owner/name> is required');
  if (typeof o.data !== 'string')
    throw new UsageError(
      'eval mc: --data <items.jsonl | toy-world> is required (items: {"question"|"context", "choices": [...], "answer": index or text})',
    );
  const batchSize = o['batch-size'];
  if (batchSize !== undefined && !(typeof batchSize === 'number' && Number.isInteger(batchSize) && batchSize >= 1))
    throw new UsageError(`eval mc: --batch-size must be a positive integer, received ${String(batchSize)}`);
  const items = readItems(o.data);
  const { model, tokenizer, modelDir } = loadModelDir(o.model);
  const choices = items.reduce((s, it) => s + it.choices.length, 0);
  const json = o.json === true;
  if (!json)
    process.stdout.write(
      `model ${modelDir} (${model.config.arch}, ${model.numParameters().toLocaleString('en-US')} parameters); ${items.length.toLocaleString('en-US')} items, ${choices.toLocaleString('en-US')} choices from ${o.data}\n`,
    );
  let progress: Progress | null = null;
  const r = scoreMultipleChoice(model, tokenizer, items, {
    ...(batchSize !== undefined ? { batchSize } : {}),
    onProgress: (done, total) => {
      progress ??= new Progress({ label: 'eval mc', total, unit: 'choices', silent: o.quiet === true });
      progress.update(done);
    },
  });
  (progress as Progress | null)?.finish(choices);
  if (typeof o.output === 'string') {
    const lines = r.items.map((p, i) => {
      const it = items[i]!;
      return JSON.stringify({
        index: i,
        ...(it.category !== undefined ? { category: it.category } : {}),
        context: it.context,
        choices: it.choices,
        answer: p.answer,
        pred: p.pred,
        pred_norm: p.predNorm,
        correct: p.pred === p.answer,
        correct_norm: p.predNorm === p.answer,
        logprobs: p.logprobs.map((x) => Number(x.toFixed(6))),
        normalized: p.normalized.map((x) => Number(x.toFixed(6))),
      });
    });
    writeFileSync(o.output, `${lines.join('\n')}\n`);
  }
  if (json) {
    const { items: _, ...summary } = r;
    process.stdout.write(`${JSON.stringify({ model: modelDir, data: o.data, ...summary }, null, 2)}\n`);
    return;
  }
  const chance = items.reduce((s, it) => s + 1 / it.choices.length, 0) / items.length;
  process.stdout.write(`acc       ${r.correct}/${r.n} = ${pct(r.accuracy)}  95% CI ${ci(r.ci)}\n`);
  process.stdout.write(
    `acc_norm  ${r.correctNorm}/${r.n} = ${pct(r.accuracyNorm)}  95% CI ${ci(r.ciNorm)}  (log-prob per byte of the choice)\n`,
  );
  process.stdout.write(
    `chance    ${pct(chance)}${r.truncated > 0 ? `; ${r.truncated} sequence(s) cut on the left to fit the context` : ''}\n`,
  );
  for (const line of categoryLines(items, r)) process.stdout.write(`${line}\n`);
  if (typeof o.output === 'string') process.stdout.write(`wrote ${r.n} predictions to ${o.output}\n`);
}
