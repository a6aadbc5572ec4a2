/**
 * Stage `pretrain`: trains a model on a prepared dataset with the trainer (src/train), writing metrics.jsonl and
 * checkpoints/{latest,best} in the stage directory. It starts from an earlier `model` stage's weights (`init`) or
 * from a preset; every trainer setting (steps, lr, batchSize, evalInterval, ...) is a parameter of the stage. At
 * each evaluation it shows the model's top guesses for the `watch` prompts, so the facts can be seen being
 * learned. Interrupted (Ctrl-C), it saves a checkpoint, and the next run of the recipe resumes from it.
 */
import { join } from 'node:path';
import { predictNext } from '../../generate/predict.ts';
import {
  DEFAULT_PRETRAIN_OPTIONS,
  resolvePretrainOptions,
  runPretraining,
  type PretrainOptions,
} from '../../train/pretrain-run.ts';
import { defineStage } from '../registry.ts';
import { RecipeError, type ParamSpec } from '../schema.ts';
import { modelConfigFor } from './model.ts';
import { predictionLine } from './show.ts';

/** Every trainer setting as an optional stage parameter; left out, runPretraining's default applies. */
const TRAIN_PARAMS: Record<string, ParamSpec> = Object.fromEntries(
  Object.entries(DEFAULT_PRETRAIN_OPTIONS.train).map(([k, v]): [string, ParamSpec] => {
    const help = `trainer setting (TrainConfig; default ${k === 'minLr' ? 'lr / 10' : JSON.stringify(v)})`;
    return [k, { type: typeof v === 'number' ? 'number' : 'string', help, optional: true }];
  }),
);

const OWN_PARAMS = {
  data: { type: 'string', help: 'an earlier data stage, or a prepared dataset directory' },
  init: {
    type: 'string',
    help: 'an earlier model stage or a model directory to start from ("": a fresh model from preset)',
    default: '',
  },
  preset: { type: 'string', help: 'model preset when init is ""', default: 'toy' },
  config: { type: 'object', help: 'model config overrides when init is ""', default: {} },
  watch: { type: 'string[]', help: 'prompts whose top next tokens are shown at each evaluation', default: [] },
  watchTop: { type: 'integer', help: 'tokens shown per watched prompt', default: 3, min: 1 },
} satisfies Record<string, ParamSpec>;

type Params = { [K in keyof typeof OWN_PARAMS]: unknown } & Record<string, unknown>;

/** The stage's parameters as runPretraining's options (paths are the stage's inputs, resolved by `input`). */
function pretrainOptions(p: Params, out: string, input: (ref: string, kind: string) => string): PretrainOptions {
  const { data, init, preset, config, watch: _w, watchTop: _t, ...rest } = p;
  const train = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return {
    out,
    data: input(data as string, 'data'),
    train,
    showConfig: false,
    ...(init !== ''
      ? { initFrom: input(init as string, 'model') }
      : { preset: preset as string, model: config as Record<string, never> }),
  };
}

export const pretrainStage = defineStage({
  type: 'pretrain',
  summary: 'Pretrain a model on a prepared dataset (resumes its own checkpoint when interrupted)',
  params: { ...TRAIN_PARAMS, ...OWN_PARAMS } as typeof OWN_PARAMS & Record<string, ParamSpec>,
  refs: { data: 'data', init: 'model' },
  check(p) {
    resolvePretrainOptions(
      { ...pretrainOptions(p, '', (ref) => ref), resume: false, initFrom: '' },
      { trainSource: 'trainer settings' },
    );
    if (p.init === '') modelConfigFor(p.preset, p.config, 256);
  },
  outputs: (ctx) => ({
    model: join(ctx.dir, 'checkpoints', 'best'),
    latest: join(ctx.dir, 'checkpoints', 'latest'),
    metrics: join(ctx.dir, 'metrics.jsonl'),
  }),
  async run(ctx, p) {
    const abort = new AbortController();
    const onSigint = (): void => {
      process.stdout.write('\nstopping after this update and saving a checkpoint (Ctrl-C again quits at once)\n');
      abort.abort();
    };
    process.once('SIGINT', onSigint);
    let result: Awaited<ReturnType<typeof runPretraining>>;
    try {
      result = await runPretraining(
        {
          ...pretrainOptions(p, ctx.dir, (ref, kind) => ctx.input(ref, kind as 'data')),
          resume: ctx.resuming ? 'auto' : false,
          quiet: ctx.quiet,
          signal: abort.signal,
          run: { recipeStage: ctx.name },
          onEval(info, tokenizer) {
            for (const prompt of p.watch)
              ctx.log(`  ${predictionLine(prompt, predictNext(info.model, tokenizer, prompt, p.watchTop))}`);
          },
        },
        { where: `stage ${ctx.name}`, trainSource: `stage ${ctx.name}` },
      );
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (result.stopped) {
      // Exit status 130: interrupted by Ctrl-C, as shells report SIGINT.
      throw new RecipeError(
        `stage ${ctx.name}: stopped at step ${result.step}/${result.config.steps}; run the recipe again to resume from ${result.checkpointDir}`,
        { exitCode: 130 },
      );
    }
  },
});
