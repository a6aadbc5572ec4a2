/**
 * One reward-model run, whichever front end asked for it: `llmforge reward train` and the recipe stage `reward`
 * translate their flags or parameters into RewardOptions and call runRewardTraining, which checks them and fills the
 * defaults (reward-options.ts), trains (reward-train.ts: checkpoints, metrics.jsonl, resume) and writes
 * `<out>/eval.json` (steps, the last held-out scores, the best held-out accuracy, parameter counts).
 */
import { join } from 'node:path';
import { claimOutputDir } from '../train/run-dir.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { paramCheck } from './option-checks.ts';
import { resolveRewardOptions, type RewardOptionsInput } from './reward-options.ts';
import { trainRewardModel, type RewardTrainResult } from './reward-train.ts';
import type { RunOutput } from './run-output.ts';

export async function runRewardTraining(input: RewardOptionsInput, out: RunOutput): Promise<RewardTrainResult> {
  const o = resolveRewardOptions(input, out.check ?? paramCheck());
  claimOutputDir(o.out, o.resume, 'reward train'); // before the base loads: a saved run is never overwritten
  const result = await trainRewardModel({
    data: o.data,
    base: o.model,
    out: o.out,
    mode: o.train,
    lastK: o.lastK,
    ...(o.train === 'lora' ? { lora: o.lora } : {}),
    template: o.template,
    maxLength: o.maxLength,
    valFrac: o.valFrac,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    weightDecay: o.weightDecay,
    margin: o.margin,
    evalEvery: o.evalEvery,
    seed: o.seed,
    resume: o.resume,
    precision: o.precision,
    ...(o.maxSteps !== null ? { maxSteps: o.maxSteps } : {}),
    quiet: out.quiet ?? false,
    log: (line) => out.log(line),
    ...(out.signal ? { signal: out.signal } : {}),
  });
  if (result.stopped) return result;
  writeJsonAtomic(join(o.out, 'eval.json'), {
    steps: result.steps,
    val: result.val,
    bestValAccuracy: result.bestValAccuracy,
    trainable: result.trainable,
    total: result.total,
  });
  return result;
}
