/**
 * Stage `pretrain`: trains a model on a prepared dataset with the trainer (src/train), writing metrics.jsonl and
 * checkpoints/{latest,best} in the stage directory. It starts from an earlier `model` stage's weights (`init`) or
 * from a preset; every trainer setting (steps, lr, batchSize, evalInterval, ...) is a parameter of the stage. At
 * each evaluation it shows the model's top guesses for the `watch` prompts, so the facts can be seen being
 * learned. Interrupted (Ctrl-C), it saves a checkpoint, and the next run of the recipe resumes from it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { predictNext } from '../../generate/predict.ts';
import { applyTrainOverrides, DEFAULT_TRAIN_CONFIG } from '../../train/config.ts';
import { openTrainingData } from '../../train/open-data.ts';
import { train, type TrainOptions } from '../../train/trainer.ts';
import { defineStage } from '../registry.ts';
import { RecipeError, type ParamSpec } from '../schema.ts';
import { modelConfigFor } from './model.ts';
import { predictionLine } from './show.ts';

/** Every trainer setting as a stage parameter, with the trainer's default. */
const TRAIN_PARAMS: Record<string, ParamSpec> = Object.fromEntries(
  Object.entries(DEFAULT_TRAIN_CONFIG).map(([k, v]): [string, ParamSpec] =>
    typeof v === 'number' ? [k, { type: 'number', help: 'trainer setting (TrainConfig)', default: v }] : [k, { type: 'string', help: 'trainer setting (TrainConfig)', default: String(v) }],
  ),
);
// Recipes default to 'auto' (bf16 matmuls on CPUs with AMX-BF16/AVX512_BF16), library calls to fp32.
TRAIN_PARAMS.precision = { type: 'string', help: 'GEMM precision: auto (bf16 on CPUs with fast bf16 dot products, else fp32), fp32 or bf16', default: 'auto' };

const OWN_PARAMS = {
  data: { type: 'string', help: 'an earlier data stage, or a prepared dataset directory' },
  init: { type: 'string', help: 'an earlier model stage or a model directory to start from ("": a fresh model from preset)', default: '' },
  preset: { type: 'string', help: 'model preset when init is ""', default: 'toy' },
  config: { type: 'object', help: 'model config overrides when init is ""', default: {} },
  watch: { type: 'string[]', help: 'prompts whose top next tokens are shown at each evaluation', default: [] },
  watchTop: { type: 'integer', help: 'tokens shown per watched prompt', default: 3, min: 1 },
} satisfies Record<string, ParamSpec>;

export const pretrainStage = defineStage({
  type: 'pretrain',
  summary: 'Pretrain a model on a prepared dataset (resumes its own checkpoint when interrupted)',
  params: { ...TRAIN_PARAMS, ...OWN_PARAMS } as typeof OWN_PARAMS & Record<string, ParamSpec>,
  refs: { data: 'data', init: 'model' },
  check(p) {
    const { data: _d, init: _i, preset, config, watch: _w, watchTop: _t, ...rest } = p;
    applyTrainOverrides(DEFAULT_TRAIN_CONFIG, rest, 'trainer settings');
    if (p.init === '') modelConfigFor(preset as string, config as Record<string, unknown>, 256);
  },
  outputs: (ctx) => ({ model: join(ctx.dir, 'checkpoints', 'best'), latest: join(ctx.dir, 'checkpoints', 'latest'), metrics: join(ctx.dir, 'metrics.jsonl') }),
  async run(ctx, p) {
    const { data, init, preset, config, watch, watchTop, ...rest } = p;
    const settings = applyTrainOverrides(DEFAULT_TRAIN_CONFIG, rest, `stage ${ctx.name}`);
    const dataDir = ctx.input(data as string, 'data');
    const { train: trainSet, val: valSet, tokenizer, close } = openTrainingData(dataDir);
    const latest = join(ctx.dir, 'checkpoints', 'latest');
    const opts: TrainOptions = {
      config: settings, train: trainSet, val: valSet, out: ctx.dir, tokenizer, quiet: ctx.quiet, showConfig: false,
      run: { recipeStage: ctx.name, data: dataDir },
    };
    if (ctx.resuming && existsSync(latest)) opts.resume = true;
    else if (init !== '') opts.initFrom = ctx.input(init as string, 'model');
    else opts.model = modelConfigFor(preset as string, config as Record<string, unknown>, trainSet.vocabSize);

    const abort = new AbortController();
    const onSigint = (): void => {
      process.stdout.write('\nstopping after this update and saving a checkpoint (Ctrl-C again quits at once)\n');
      abort.abort();
    };
    opts.signal = abort.signal;
    process.once('SIGINT', onSigint);
    let result;
    try {
      result = await train(opts, {
        onEval(info) {
          for (const prompt of watch as string[]) ctx.log(`  ${predictionLine(prompt, predictNext(info.model, tokenizer, prompt, watchTop as number))}`);
        },
      });
    } finally {
      process.off('SIGINT', onSigint);
      close();
    }
    if (result.stopped) {
      const err = new RecipeError(`stage ${ctx.name}: stopped at step ${result.step}/${settings.steps}; run the recipe again to resume from ${result.checkpointDir}`);
      (err as { exitCode?: number }).exitCode = 130; // interrupted by Ctrl-C, as shells report SIGINT
      throw err;
    }
  },
});
