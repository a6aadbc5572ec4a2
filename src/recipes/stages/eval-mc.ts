/**
 * Stage `eval-mc`: multiple-choice accuracy of an earlier model by log-likelihood, as `llmforge eval mc`, on the toy
 * world's fact test (`data: toy-world`: every fact probe with same-sort wrong answers) or a JSONL file of items.
 * Logs accuracy and length-normalized accuracy with 95% Wilson intervals and chance level, per category when items
 * name one, and writes them to `<dir>/report.json`.
 */
import { join } from 'node:path';
import { toyWorldMcItems } from '../../data/toy-world-mc.ts';
import { loadMcItems, type McItem } from '../../eval/mc-items.ts';
import { scoreMultipleChoice } from '../../eval/multiple-choice.ts';
import { wilsonInterval, type Interval } from '../../eval/wilson.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { Progress } from '../../util/progress.ts';
import { defineStage } from '../registry.ts';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ci = (c: Interval): string => `[${(100 * c.low).toFixed(1)}, ${(100 * c.high).toFixed(1)}]`;

export const evalMcStage = defineStage({
  type: 'eval-mc',
  summary: 'Multiple-choice accuracy (with 95% intervals) of a model on the toy-world fact test or an items file',
  params: {
    model: {
      type: 'string',
      help: 'an earlier model-producing stage (pretrain, sft, dpo, ppo, ...) or a model directory',
    },
    data: {
      type: 'string',
      help: 'toy-world, or a JSONL file of items {"question"|"context", "choices", "answer"}',
      default: 'toy-world',
    },
    choices: {
      type: 'integer',
      help: 'options per toy-world item (the answer and same-sort wrong ones)',
      default: 4,
      min: 2,
    },
    itemSeed: { type: 'integer', help: 'seed of the toy-world items (wrong answers and their order)', default: 11 },
    batchSize: { type: 'integer', help: 'sequences per forward pass (0: automatic)', default: 0, min: 0 },
  },
  refs: { model: 'model' },
  outputs: (ctx) => ({ report: join(ctx.dir, 'report.json') }),
  run(ctx, p) {
    const items: McItem[] =
      p.data === 'toy-world'
        ? toyWorldMcItems({ choices: p.choices, seed: p.itemSeed }).map(({ question, ...rest }) => ({
            context: question,
            ...rest,
          }))
        : loadMcItems(p.data);
    const { model, tokenizer, modelDir } = loadModelDir(ctx.input(p.model, 'model'));
    const total = items.reduce((s, it) => s + it.choices.length, 0);
    ctx.log(`model ${modelDir}: ${items.length} items, ${total} choices from ${p.data}`);
    const progress = new Progress({ label: 'eval mc', total, unit: 'choices', silent: ctx.quiet });
    const r = scoreMultipleChoice(model, tokenizer, items, {
      ...(p.batchSize > 0 ? { batchSize: p.batchSize } : {}),
      onProgress: (done) => progress.update(done),
    });
    progress.finish(total);
    const chance = items.reduce((s, it) => s + 1 / it.choices.length, 0) / items.length;
    ctx.log(`acc       ${r.correct}/${r.n} = ${pct(r.accuracy)}  95% CI ${ci(r.ci)}`);
    ctx.log(
      `acc_norm  ${r.correctNorm}/${r.n} = ${pct(r.accuracyNorm)}  95% CI ${ci(r.ciNorm)}  (log-prob per byte of the choice)`,
    );
    ctx.log(
      `chance    ${pct(chance)}${r.truncated > 0 ? `; ${r.truncated} sequence(s) cut on the left to fit the context` : ''}`,
    );
    const names = [...new Set(items.map((it) => it.category).filter((c): c is string => c !== undefined))];
    const width = Math.max(0, ...names.map((c) => c.length));
    const categories = names.map((category) => {
      const preds = r.items.filter((_, i) => items[i]!.category === category);
      const correct = preds.filter((x) => x.pred === x.answer).length;
      const interval = wilsonInterval(correct, preds.length);
      ctx.log(
        `  ${category.padEnd(width)} ${String(correct).padStart(4)}/${String(preds.length).padEnd(4)} = ${pct(correct / preds.length).padStart(6)}  95% CI ${ci(interval)}`,
      );
      return { category, n: preds.length, correct, accuracy: correct / preds.length, ci: interval };
    });
    const { items: _, ...summary } = r;
    writeJsonAtomic(join(ctx.dir, 'report.json'), { model: modelDir, data: p.data, chance, ...summary, categories });
  },
});
