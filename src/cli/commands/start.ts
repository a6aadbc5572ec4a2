/**
 * `llmforge start` (what `npm start` runs): the lifecycle demo, i.e. `llmforge run recipes/demo.yaml` with the
 * recipe found next to the installed package, so it works from any directory. Nothing is downloaded: the corpus
 * is the generated toy world.
 */
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.ts';
import { RUN_OPTIONS, runRecipeFile, SET_HELP } from './run.ts';

export const DEMO_RECIPE = fileURLToPath(new URL('../../../recipes/demo.yaml', import.meta.url));

export const startCommand: Command = {
  spec: {
    name: 'start',
    summary:
      'The lifecycle demo: llmforge run recipes/demo.yaml (toy-world corpus, tokenizer, pretraining, predictions)',
    usage: 'llmforge start [--set key=value [key=value ...]] [--from-stage NAME] [--force] [--dry-run]',
    options: RUN_OPTIONS,
    details: `${SET_HELP}\n\nExamples:\n  llmforge start\n  llmforge start --set steps=300`,
  },
  async run(args) {
    const rel = relative(process.cwd(), DEMO_RECIPE);
    await runRecipeFile(rel.startsWith('..') || isAbsolute(rel) ? DEMO_RECIPE : rel, args, 0);
  },
};
