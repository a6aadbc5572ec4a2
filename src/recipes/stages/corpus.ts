/**
 * Stage `corpus`: writes the procedural toy-world corpus (src/data/toy-world.ts) as `corpus.jsonl` (or
 * `corpus.txt`, one document per line), and `facts.json` with the fact tables and probe prompts, so later stages
 * and readers can check what a model learned.
 */
import { join } from 'node:path';
import { TOY_WORLD, toyWorldProbes, writeToyWorld } from '../../data/toy-world.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

export const corpusStage = defineStage({
  type: 'corpus',
  summary: 'Generate the toy-world corpus (countries and capitals, animal sounds, colours, stories, dialogues)',
  params: {
    documents: { type: 'integer', help: 'number of documents', default: 4000, min: 1 },
    seed: { type: 'integer', help: 'generator seed', default: 0 },
    format: { type: 'string', help: 'jsonl ({"text": ...} per line) or txt (one document per line)', default: 'jsonl' },
  },
  check(p) {
    if (p.format !== 'jsonl' && p.format !== 'txt')
      throw new RecipeError(`format must be jsonl or txt, received "${p.format}"`);
  },
  outputs: (ctx, p) => ({ corpus: join(ctx.dir, `corpus.${p.format}`), facts: join(ctx.dir, 'facts.json') }),
  run(ctx, p) {
    const report = writeToyWorld(join(ctx.dir, `corpus.${p.format}`), { documents: p.documents, seed: p.seed });
    writeJsonAtomic(join(ctx.dir, 'facts.json'), { ...TOY_WORLD, probes: toyWorldProbes() });
    ctx.log(`wrote ${report.documents} documents (${(report.bytes / 1e3).toFixed(0)} kB) to ${report.path}`);
  },
});
