/**
 * One DPO run, whichever front end asked for it: `llmforge dpo` and the recipe stage `dpo` translate their flags
 * or parameters into DpoOptions and call runDpo, which checks them and fills the defaults (dpo-options.ts), reads
 * the preference pairs (before the model, so a bad file fails fast), opens the model and its template, holds out
 * the same pairs a reward run with this valFrac and seed does (splitPairs), sets up the reference (a frozen copy of
 * the start, or with LoRA the same model with adapters off), trains (dpo-train.ts: metrics.jsonl, eval.json,
 * `<out>/model`, checkpoints and resume) and reports the held-out loss, reward accuracy and margin.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { attachLora, formatTrainable } from '../finetune/lora-finetune.ts';
import { loadPreferencePairs } from '../finetune/preference-data.ts';
import { resolveTemplate } from '../chat/templates.ts';
import { loadModelDir } from '../generate/model-dir.ts';
import { trainableParameters } from '../nn/lora.ts';
import { eosId } from '../tokenizer/text-tokenizer.ts';
import { describePrecision, resolvePrecision } from '../train/precision.ts';
import { claimOutputDir } from '../train/run-dir.ts';
import { Progress } from '../util/progress.ts';
import { resolveDpoOptions, type DpoOptionsInput } from './dpo-options.ts';
import {
  DEFAULT_DPO_CONFIG,
  frozenCopy,
  trainDpo,
  type DpoConfig,
  type DpoEval,
  type DpoResult,
  type DpoRun,
} from './dpo-train.ts';
import { paramCheck, type AlignOptionCheck } from './option-checks.ts';
import { splitPairs } from './reward-train.ts';
import type { RunOutput } from './run-output.ts';

function describe(e: DpoEval): string {
  return `loss ${e.loss.toFixed(4)}, rewards chosen ${e.chosen.toFixed(3)} rejected ${e.rejected.toFixed(3)}, accuracy ${(100 * e.accuracy).toFixed(1)}%, margin ${e.margin.toFixed(3)}`;
}

export async function runDpo(input: DpoOptionsInput, out: RunOutput): Promise<DpoResult> {
  const check: AlignOptionCheck = out.check ?? paramCheck();
  const o = resolveDpoOptions(input, check);
  claimOutputDir(o.out, o.resume, 'dpo'); // before the model loads: a saved run is never overwritten
  const { log } = out;
  const report = out.report ?? log;
  const config: DpoConfig = {
    ...DEFAULT_DPO_CONFIG,
    beta: o.beta,
    loss: o.loss,
    labelSmoothing: o.labelSmoothing,
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    minLr: o.minLr,
    warmup: o.warmup,
    evalEvery: o.evalEvery,
    seed: o.seed,
  };
  const data = loadPreferencePairs(o.data);
  const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
  const template = resolveTemplate(o.template, o.template === 'model' ? tokenizerDir : modelDir);
  const eos = eosId(tokenizer);
  if (eos === undefined)
    check.problem(
      `the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which ends every response`,
    );
  const { train, val } = splitPairs(data.pairs, o.valFrac, o.seed);
  if (train.length === 0)
    check.problem(
      `${o.data}: no training pairs left after holding out ${val.length} (lower ${check.label('valFrac')})`,
    );
  mkdirSync(o.out, { recursive: true });
  let lora: DpoRun['lora'];
  let reference: DpoRun['reference'];
  if (o.train === 'lora') {
    const { targets, summary } = attachLora(model, o.lora, o.seed + 101);
    lora = { settings: o.lora, targets, baseModel: o.model };
    log(
      `lora: r ${o.lora.r}, alpha ${o.lora.alpha}, dropout ${o.lora.dropout} on ${summary.modules.length} linears; reference: the same model with adapters off`,
    );
  } else reference = frozenCopy(model);
  const { trainable, total } = trainableParameters(model);
  log(
    `dpo: ${train.length} train / ${val.length} held-out pairs${data.identical > 0 ? ` (${data.identical} with identical responses left out)` : ''}, template ${template.name}, loss ${o.loss}${o.labelSmoothing > 0 ? ` (label smoothing ${o.labelSmoothing})` : ''}, beta ${o.beta}, ${o.batchSize} pairs per step, ${o.steps} steps, lr ${o.lr}`,
  );
  log(`training ${o.train}: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(o.precision))}`);
  const progress = new Progress({ label: 'dpo', total: o.steps, unit: 'steps', silent: out.quiet ?? false });
  const run: DpoRun = {
    model,
    tokenizer,
    template,
    eosId: eos,
    train,
    valid: val,
    out: o.out,
    resume: o.resume,
    precision: o.precision,
    ...(out.signal ? { signal: out.signal } : {}),
    ...(o.maxLength !== null ? { maxTokens: o.maxLength } : {}),
    ...(lora ? { lora } : { reference: reference! }),
  };
  const result = await trainDpo(
    run,
    config,
    (info) => {
      progress.update(info.step);
      if (!info.train) return;
      log(`step ${info.step}: train ${describe(info.train)}`);
      if (info.valid) log(`${' '.repeat(`step ${info.step}: `.length)}held-out ${describe(info.valid)}`);
    },
    (note) => log(`note: ${note}`),
  );
  progress.finish(result.step);
  if (result.stopped) return result;
  const start = result.initial.valid ?? result.initial.train;
  const end = result.final?.valid ?? result.final?.train;
  // At the start policy = reference: every reward is 0, so accuracy and margin start at 0 and only the loss is shown.
  if (end)
    report(
      `${result.initial.valid ? 'held-out' : 'train'} pairs after ${o.steps} steps: loss ${end.loss.toFixed(4)} (${start.loss.toFixed(4)} at the start), reward accuracy ${(100 * end.accuracy).toFixed(1)}%, margin ${end.margin.toFixed(3)}`,
    );
  report(`wrote ${join(o.out, 'model')}${lora ? `, ${join(o.out, 'adapter')}` : ''}, metrics.jsonl, eval.json`);
  return result;
}
