/**
 * One PPO run, whichever front end asked for it: `llmforge ppo` and the recipe stage `ppo` translate their flags
 * or parameters into PpoOptions and call runPpo, which checks them and fills the defaults (ppo-options.ts), reads
 * the prompts, opens the policy, its template and the reward model, holds out a seeded share of the prompts,
 * sets up the reference (a frozen copy of the start, or with LoRA the same model with adapters off), answers and
 * scores the held-out prompts, trains (ppo-train.ts: metrics.jsonl, samples.jsonl, `<out>/model`, checkpoints and
 * resume), scores the held-out prompts again and writes `<out>/eval.json`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { attachLora, formatTrainable } from '../finetune/lora-finetune.ts';
import { resolveTemplate } from '../chat/templates.ts';
import { loadModelDir } from '../generate/model-dir.ts';
import { resolveSampling } from '../generate/sampling.ts';
import { trainableParameters } from '../nn/lora.ts';
import { Rng, shuffled } from '../tensor/random.ts';
import { eosId } from '../tokenizer/text-tokenizer.ts';
import { describePrecision, resolvePrecision } from '../train/precision.ts';
import { claimOutputDir } from '../train/run-dir.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { frozenCopy } from './dpo-train.ts';
import { paramCheck, type AlignOptionCheck } from './option-checks.ts';
import { resolvePpoOptions, type PpoOptionsInput } from './ppo-options.ts';
import { evaluatePrompts, loadPrompts, promptIds, rewardModelScorer } from './ppo-rollout.ts';
import { DEFAULT_PPO_CONFIG, trainPpo, type PpoConfig, type PpoResult, type PpoRun } from './ppo-train.ts';
import { loadRewardModel } from './reward-model.ts';
import type { RunOutput } from './run-output.ts';

/** Mean reward and response length on the held-out prompts before and after training (null: none held out). */
export interface PpoHeldOut {
  prompts: number;
  before: { reward: number; length: number };
  after: { reward: number; length: number };
}

export async function runPpo(
  input: PpoOptionsInput,
  out: RunOutput,
): Promise<PpoResult & { heldOut: PpoHeldOut | null }> {
  const check: AlignOptionCheck = out.check ?? paramCheck();
  const o = resolvePpoOptions(input, check);
  claimOutputDir(o.out, o.resume, 'ppo'); // before the models load: a saved run is never overwritten
  const { log } = out;
  const report = out.report ?? log;
  const config: PpoConfig = {
    ...DEFAULT_PPO_CONFIG,
    iterations: o.iterations,
    batchSize: o.batchSize,
    miniBatchSize: o.miniBatchSize,
    ppoEpochs: o.ppoEpochs,
    lr: o.lr,
    klCoef: o.klCoef,
    targetKl: o.targetKl,
    klHorizon: o.klHorizon,
    gamma: o.gamma,
    lambda: o.lambda,
    clipRange: o.clipRange,
    clipRangeValue: o.clipRangeValue,
    vfCoef: o.vfCoef,
    maxNewTokens: o.maxNewTokens,
    sampling: resolveSampling({ temperature: o.temperature, topK: o.topK, topP: o.topP }),
    sampleEvery: o.sampleEvery,
    saveEvery: o.saveEvery,
    seed: o.seed,
  };
  const all = loadPrompts(o.prompts);
  const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
  const { blockSize } = model.config;
  if (o.maxNewTokens >= blockSize)
    check.problem(
      `${check.label('maxNewTokens')} ${o.maxNewTokens} leaves no room for a prompt in the model's context of ${blockSize} tokens`,
    );
  const template = resolveTemplate(o.template, o.template === 'model' ? tokenizerDir : modelDir);
  const eos = eosId(tokenizer);
  if (eos === undefined)
    check.problem(
      `the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which ends every response`,
    );
  const rm = loadRewardModel(o.rewardModel, new Rng(0));
  const scorer = rewardModelScorer(rm);
  const prompts = shuffled(all, new Rng(o.seed));
  const valCount = Math.min(o.valPrompts, Math.floor(prompts.length / 2));
  const train = prompts.slice(0, prompts.length - valCount);
  const valid = prompts
    .slice(prompts.length - valCount)
    .map((record) => ({ record, ids: promptIds(tokenizer, template, record, eos, blockSize, o.maxNewTokens).ids }));
  mkdirSync(o.out, { recursive: true });
  let lora: PpoRun['lora'];
  let reference: PpoRun['reference'];
  if (o.train === 'lora') {
    const { targets, summary } = attachLora(model, o.lora, o.seed + 101);
    lora = { settings: o.lora, targets, baseModel: o.model };
    log(
      `lora: r ${o.lora.r}, alpha ${o.lora.alpha}, dropout ${o.lora.dropout} on ${summary.modules.length} linears; reference: the same model with adapters off`,
    );
  } else reference = frozenCopy(model);
  const { trainable, total } = trainableParameters(model);
  log(
    `ppo: ${train.length} train / ${valid.length} held-out prompts, template ${template.name}, reward model ${rm.dir} (template ${rm.template.name}), ${o.batchSize} responses per iteration of up to ${o.maxNewTokens} tokens, ${o.ppoEpochs} PPO epochs of ${o.miniBatchSize}, lr ${o.lr}, kl-coef ${o.klCoef}${o.targetKl !== null ? ` (adaptive, target ${o.targetKl})` : ''}`,
  );
  log(`training ${o.train}: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(o.precision))}`);
  const rolloutOpts = { sampling: config.sampling, maxNewTokens: o.maxNewTokens, eosId: eos };
  const evalSeed = o.seed + 7;
  const before = valid.length > 0 ? evaluatePrompts(model, tokenizer, valid, scorer, rolloutOpts, evalSeed) : null;
  if (before)
    log(`held-out before: mean reward ${before.reward.toFixed(3)}, mean length ${before.length.toFixed(1)} tokens`);
  const run: PpoRun = {
    model,
    tokenizer,
    template,
    eosId: eos,
    prompts: train,
    scorer,
    out: o.out,
    resume: o.resume,
    precision: o.precision,
    ...(out.signal ? { signal: out.signal } : {}),
    ...(lora ? { lora } : { reference: reference! }),
  };
  const result = await trainPpo(
    run,
    config,
    (i) => {
      log(
        `iter ${i.iteration}/${o.iterations}: reward ${i.reward.toFixed(3)} | kl ${i.kl.toFixed(3)} (coef ${i.klCoef.toPrecision(3)}) | policy ${i.policyLoss.toFixed(4)} | value ${i.valueLoss.toFixed(4)} | clip ${(100 * i.clipFrac).toFixed(1)}% | entropy ${i.entropy.toFixed(2)} | length ${i.responseLength.toFixed(1)}`,
      );
      for (const s of i.samples ?? [])
        log(
          `  sample (reward ${s.reward.toFixed(2)}): ${JSON.stringify(s.prompt.slice(0, 60))} -> ${JSON.stringify(s.response.slice(0, 100))}`,
        );
    },
    (note) => log(`note: ${note}`),
  );
  if (result.stopped) return { ...result, heldOut: null };
  const after = valid.length > 0 ? evaluatePrompts(model, tokenizer, valid, scorer, rolloutOpts, evalSeed) : null;
  const heldOut =
    before && after
      ? {
          prompts: valid.length,
          before: { reward: before.reward, length: before.length },
          after: { reward: after.reward, length: after.length },
        }
      : null;
  writeJsonAtomic(join(o.out, 'eval.json'), {
    iterations: o.iterations,
    heldOut,
    first: result.first,
    last: result.last,
  });
  if (heldOut)
    report(
      `held-out prompts (${heldOut.prompts}): mean reward ${heldOut.after.reward.toFixed(3)} after ${o.iterations} iterations (${heldOut.before.reward.toFixed(3)} at the start), mean length ${heldOut.after.length.toFixed(1)} tokens (${heldOut.before.length.toFixed(1)})`,
    );
  report(
    `wrote ${join(o.out, 'model')}${lora ? `, ${join(o.out, 'adapter')}` : ''}, metrics.jsonl, samples.jsonl, eval.json`,
  );
  return { ...result, heldOut };
}
