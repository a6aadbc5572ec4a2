/**
 * `llmforge run <recipe.yaml>`: runs a recipe's stages in order, skipping stages whose artifacts are complete.
 * Overrides are `key=value` arguments after the recipe (`--set` before the first one reads well but is optional,
 * because the argument parser takes each flag once): top-level keys (`steps=50`) or stage parameters
 * (`stages.pretrain.steps=50`). `runRecipeFile` is shared with `llmforge start`.
 */
import { backend, cpuInfo } from '../../backend/index.ts';
import { loadRecipe } from '../../recipes/recipe.ts';
import { runRecipe } from '../../recipes/runner.ts';
import { registerBuiltinStages } from '../../recipes/stages/index.ts';
import { stageTypeNames, getStageType } from '../../recipes/registry.ts';
import { optionValues, UsageError, type OptionSpec, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';

/** Options shared by `run` and `start`. */
export const RUN_OPTIONS: Record<string, OptionSpec> = {
  set: {
    type: 'string',
    help: 'Override a setting: key=value; more key=value arguments may follow (see below)',
    arg: 'KEY=VALUE',
    repeatable: true,
  },
  'from-stage': { type: 'string', help: 'Rerun this stage and every stage after it, even if complete', arg: 'NAME' },
  force: { type: 'boolean', help: 'Rerun every stage' },
  'dry-run': {
    type: 'boolean',
    help: 'Show which stages would run (with their resolved parameters) and which are complete; run nothing',
  },
  quiet: {
    type: 'boolean',
    help: 'Less output: no progress lines and no trainer log (stage headers and results stay)',
  },
};

export const SET_HELP = [
  'Overrides: --set key=value [key=value ...]. Every key=value argument is an override, with or without --set, and',
  '--set may be repeated (--set a=1 --set b=2); all of them apply, in order. Keys are top-level settings and',
  'variables (out=runs/x, seed=3, steps=50) or stage parameters (stages.pretrain.lr=0.001, stages.model.config.nLayer=2);',
  'values are typed from the parameter (numbers, true/false, lists as [a, b]). Unknown keys are an error listing the valid ones.',
].join('\n');

/** Loads `recipePath` with the overrides from `args.positionals[skip..]` and --set, and runs it. */
export async function runRecipeFile(recipePath: string, args: Parsed, skip: number): Promise<void> {
  registerBuiltinStages();
  const sets: string[] = [];
  sets.push(...optionValues(args, 'set'));
  for (const p of args.positionals.slice(skip)) {
    if (!p.includes('='))
      throw new UsageError(`run: unexpected argument "${p}"; overrides are key=value (see \`llmforge run --help\`)`);
    sets.push(p);
  }
  const recipe = loadRecipe(recipePath, { set: sets });
  const cpu = cpuInfo();
  process.stdout.write(
    `recipe ${recipe.source}${recipe.description ? `: ${recipe.description}` : ''}\n` +
      `out ${recipe.out}, seed ${recipe.seed}, stages ${recipe.stages.map((s) => s.name).join(' -> ')}\n` +
      `backend=${backend().name} isa=${cpu?.isa ?? 'n/a'} threads=${backend().numThreads()}\n`,
  );
  const opts: Parameters<typeof runRecipe>[1] = {
    force: args.options.force === true,
    quiet: args.options.quiet === true,
    dryRun: args.options['dry-run'] === true,
  };
  if (typeof args.options['from-stage'] === 'string') opts.fromStage = args.options['from-stage'];
  const t0 = performance.now();
  const outcomes = await runRecipe(recipe, opts);
  if (opts.dryRun) return;
  const ran = outcomes.filter((o) => o.status === 'ran').length;
  process.stdout.write(
    `\nrecipe done in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${ran} stage(s) ran, ${outcomes.length - ran} skipped; artifacts in ${recipe.out}\n`,
  );
  if (ran === 0)
    process.stdout.write(
      'every stage was already complete: --force reruns them all, --from-stage NAME reruns from one stage (with npm: npm start -- --force)\n',
    );
}

function stageTypesHelp(): string {
  registerBuiltinStages();
  return ['Stage types:', ...stageTypeNames().map((t) => `  ${t.padEnd(12)}${getStageType(t)!.summary}`)].join('\n');
}

export const runCommand: Command = {
  spec: {
    name: 'run',
    summary: 'Run a recipe (YAML pipeline of stages), skipping stages already complete',
    usage: 'llmforge run <recipe.yaml> [--set key=value [key=value ...]] [--from-stage NAME] [--force] [--dry-run]',
    options: RUN_OPTIONS,
    get details() {
      return `${SET_HELP}\n\n${stageTypesHelp()}\n\nExamples:\n  llmforge run recipes/demo.yaml\n  llmforge run recipes/demo.yaml --set steps=200 stages.corpus.documents=500 out=runs/quick\n  llmforge run recipes/demo.yaml --from-stage pretrain\n  llmforge run recipes/demo.yaml --dry-run --set steps=300`;
    },
  },
  async run(args) {
    const recipe = args.positionals[0];
    if (recipe === undefined) throw new UsageError('run: give a recipe file, e.g. `llmforge run recipes/demo.yaml`');
    await runRecipeFile(recipe, args, 1);
  },
};
