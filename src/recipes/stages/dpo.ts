/**
 * Stage `dpo`: direct preference optimization of an earlier instruction-tuned model on preference pairs, the same
 * run as `llmforge dpo` with all weights training against a frozen copy of the start (loss, implicit rewards and
 * reward accuracy on training and held-out pairs, checkpoints and resume). The stage directory is the DPO run:
 * `<dir>/model` is the aligned model (chat and the `chat-sample` and `eval-mc` stages open it), beside metrics.jsonl
 * and eval.json. The held-out pairs are those a `reward` stage with the same valFrac and seed holds out (splitPairs).
 */
import { join } from 'node:path';
import { DEFAULT_DPO_CONFIG, frozenCopy, trainDpo, type DpoConfig, type DpoEval } from '../../align/dpo-train.ts';
import { splitPairs } from '../../align/reward-train.ts';
import { formatTrainable } from '../../finetune/lora-finetune.ts';
import { loadPreferencePairs } from '../../finetune/preference-data.ts';
import { resolveTemplate, TEMPLATE_NAMES } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { trainableParameters } from '../../nn/lora.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { describePrecision, PRECISION_SETTINGS, resolvePrecision, type PrecisionSetting } from '../../train/precision.ts';
import { Progress } from '../../util/progress.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

const D = DEFAULT_DPO_CONFIG;

function describe(e: DpoEval): string {
  return `loss ${e.loss.toFixed(4)}, rewards chosen ${e.chosen.toFixed(3)} rejected ${e.rejected.toFixed(3)}, accuracy ${(100 * e.accuracy).toFixed(1)}%, margin ${e.margin.toFixed(3)}`;
}

export const dpoStage = defineStage({
  type: 'dpo',
  summary: 'Align an instruction-tuned model to preference pairs (direct preference optimization)',
  params: {
    model: { type: 'string', help: 'the policy to start from (also the reference): an earlier sft stage or a model directory' },
    data: { type: 'string', help: 'preference pairs (JSON array or JSONL)' },
    beta: { type: 'number', help: 'KL strength: smaller lets the policy move further from the reference', default: D.beta },
    loss: { type: 'string', help: 'sigmoid (DPO) or ipo', default: D.loss },
    labelSmoothing: { type: 'number', help: 'conservative DPO: assumed share of flipped labels, in [0, 0.5) (sigmoid only)', default: D.labelSmoothing },
    steps: { type: 'integer', help: 'optimizer updates', default: D.steps, min: 1 },
    batchSize: { type: 'integer', help: 'preference pairs per update', default: D.batchSize, min: 1 },
    lr: { type: 'number', help: 'AdamW peak learning rate (warmup, cosine decay to a tenth)', default: D.lr },
    template: { type: 'string', help: 'prompt template: chatml, alpaca or model (the one the model was tuned with)', default: 'chatml' },
    maxLength: { type: 'integer', help: 'longest prompt + response in tokens (0: the context + 1); the prompt is cut first', default: 0, min: 0 },
    valFrac: { type: 'number', help: 'held-out share of the pairs', default: 0.1 },
    evalEvery: { type: 'integer', help: 'evaluate (train slice and held-out) every N updates (0: at the end only)', default: D.evalEvery, min: 0 },
    seed: { type: 'integer', help: 'seed of the split, batch order and dropout', default: D.seed },
    precision: { type: 'string', help: 'GEMM precision: auto, fp32 or bf16', default: 'auto' },
  },
  refs: { model: 'model' },
  check(p) {
    if (!(p.beta > 0)) throw new RecipeError(`beta must be a positive number, received ${p.beta}`);
    if (p.loss !== 'sigmoid' && p.loss !== 'ipo') throw new RecipeError(`loss must be sigmoid or ipo, received "${p.loss}"`);
    if (!(p.labelSmoothing >= 0 && p.labelSmoothing < 0.5)) throw new RecipeError(`labelSmoothing must be in [0, 0.5), received ${p.labelSmoothing}`);
    if (p.loss === 'ipo' && p.labelSmoothing !== 0) throw new RecipeError('labelSmoothing applies to the sigmoid loss only (received it with loss: ipo)');
    if (!(p.lr > 0)) throw new RecipeError(`lr must be a positive number, received ${p.lr}`);
    if (p.maxLength === 1) throw new RecipeError('maxLength must be 0 or at least 2 (one prompt and one response token), received 1');
    if (!(p.valFrac >= 0 && p.valFrac < 1)) throw new RecipeError(`valFrac must be in [0, 1), received ${p.valFrac}`);
    if (!(TEMPLATE_NAMES as readonly string[]).includes(p.template)) throw new RecipeError(`template must be one of ${TEMPLATE_NAMES.join(', ')}, received "${p.template}"`);
    if (!(PRECISION_SETTINGS as readonly string[]).includes(p.precision)) throw new RecipeError(`precision must be one of ${PRECISION_SETTINGS.join(', ')}, received "${p.precision}"`);
  },
  outputs: (ctx) => ({ model: join(ctx.dir, 'model'), metrics: join(ctx.dir, 'metrics.jsonl'), eval: join(ctx.dir, 'eval.json') }),
  run(ctx, p) {
    const config: DpoConfig = {
      ...D, beta: p.beta, loss: p.loss as DpoConfig['loss'], labelSmoothing: p.labelSmoothing, steps: p.steps, batchSize: p.batchSize,
      lr: p.lr, minLr: p.lr / 10, warmup: Math.min(D.warmup, Math.floor(p.steps / 10)), evalEvery: p.evalEvery, seed: p.seed,
    };
    const dataPath = ctx.input(p.data, 'data');
    const data = loadPreferencePairs(dataPath);
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(ctx.input(p.model, 'model'));
    const template = resolveTemplate(p.template, p.template === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined) throw new RecipeError(`stage ${ctx.name}: the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which ends every response`);
    const { train, val } = splitPairs(data.pairs, p.valFrac, p.seed);
    if (train.length === 0) throw new RecipeError(`stage ${ctx.name}: ${dataPath}: no training pairs left after holding out ${val.length} (lower valFrac)`);
    const reference = frozenCopy(model);
    const { trainable, total } = trainableParameters(model);
    ctx.log(`dpo: ${train.length} train / ${val.length} held-out pairs${data.identical > 0 ? ` (${data.identical} with identical responses left out)` : ''}, template ${template.name}, loss ${config.loss}, beta ${config.beta}, ${config.batchSize} pairs per step, ${config.steps} steps, lr ${config.lr}`);
    ctx.log(`training all: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(p.precision as PrecisionSetting))}`);
    const progress = new Progress({ label: 'dpo', total: config.steps, unit: 'steps', silent: ctx.quiet });
    const result = trainDpo(
      { model, reference, tokenizer, template, eosId: eos, train, valid: val, out: ctx.dir, resume: ctx.resuming, precision: p.precision as PrecisionSetting, ...(p.maxLength > 0 ? { maxTokens: p.maxLength } : {}) },
      config,
      (info) => {
        progress.update(info.step);
        if (info.train) ctx.log(`step ${info.step}: train ${describe(info.train)}${info.valid ? `; held-out ${describe(info.valid)}` : ''}`);
      },
      (note) => ctx.log(`note: ${note}`),
    );
    progress.finish(config.steps);
    const start = result.initial.valid ?? result.initial.train;
    const end = result.final?.valid ?? result.final?.train;
    if (end) ctx.log(`${result.initial.valid ? 'held-out' : 'train'} pairs after ${config.steps} steps: loss ${end.loss.toFixed(4)} (${start.loss.toFixed(4)} at the start), reward accuracy ${(100 * end.accuracy).toFixed(1)}%, margin ${end.margin.toFixed(3)}`);
    ctx.log(`wrote ${join(ctx.dir, 'model')}, metrics.jsonl, eval.json; chat with: llmforge chat --model ${join(ctx.dir, 'model')}`);
  },
});
