/**
 * The one pretraining run that `llmforge train` and the recipe stage `pretrain` both call: a typed options object
 * (run directory, prepared data, model preset with field overrides or a start from saved weights, resume, and
 * training keys that override the defaults), resolved in one place, where a resume takes the checkpoint's settings,
 * data directory and model and a new run takes DEFAULT_PRETRAIN_OPTIONS (the cosine floor minLr, unless given, is
 * defaultMinLr(lr)), then the trainer (src/train/trainer.ts). Callers only translate their flags or YAML parameters
 * into PretrainOptions and print what they like from the result and the hooks.
 */
import { join, resolve } from 'node:path';
import { CONFIG_FIELDS } from '../models/config.ts';
import type { ModelConfig } from '../models/model.ts';
import { PRESETS, resolveModelConfig } from '../models/presets.ts';
import { readRunState } from './checkpoint.ts';
import { latestCheckpointDir } from './run-dir.ts';
import { applyTrainOverrides, DEFAULT_TRAIN_CONFIG, type TrainConfig } from './config.ts';
import { openTrainingData } from './open-data.ts';
import { OptionError } from './option-check.ts';
import { defaultMinLr } from './schedule.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { train, type EvalInfo, type TrainResult } from './trainer.ts';

export interface PretrainOptions {
  /** Run directory: metrics.jsonl and checkpoints/{latest,best}. */
  out: string;
  /** Prepared dataset directory (`llmforge data prepare`); with a resume, defaults to the run's own. */
  data?: string;
  /** Model preset of a fresh model (see src/models/presets.ts). */
  preset?: string;
  /** Model fields over the preset (or, on a resume, over the checkpoint's model). */
  model?: Partial<ModelConfig>;
  /** Start a new run from the weights in this model, checkpoint or run directory. */
  initFrom?: string;
  /** Continue from <out>/checkpoints/latest: true (it must exist), 'auto' (when it exists; initFrom then only starts a new run) or false. */
  resume?: boolean | 'auto';
  /** Training keys (typed, or strings from key=value) over the defaults, or over the checkpoint's on a resume. */
  train?: Record<string, unknown>;
  /** How the run was set up (preset, recipe stage, ...), recorded in state.json next to the data directory. */
  run?: Record<string, unknown>;
  quiet?: boolean;
  /** Print the resolved training config at the start (default true). */
  showConfig?: boolean;
  /** Aborted (Ctrl-C): the current update finishes, a checkpoint is saved and the result says stopped. */
  signal?: AbortSignal;
  /** Called after each evaluation with the dataset's tokenizer (e.g. to show the model's guesses). */
  onEval?: (info: EvalInfo, tokenizer: TextTokenizer) => void;
  /** Where the one-line data summary goes (default: nowhere). */
  log?: (line: string) => void;
}

export const DEFAULT_PRETRAIN_OPTIONS = Object.freeze({
  /** Every training key as DEFAULT_TRAIN_CONFIG, except the GEMM precision: 'auto' for runs a user starts. */
  train: Object.freeze({ ...DEFAULT_TRAIN_CONFIG, precision: 'auto' }) as Readonly<TrainConfig>,
  /** The cosine floor of a new run when minLr is not given: a tenth of its lr. */
  minLr: defaultMinLr,
  /** A new run unless asked to resume. */
  resume: false as boolean | 'auto',
});

/** How errors name things: the command and its flags (`train`, `--model`), or nothing and a recipe's parameters. */
export interface PretrainNames {
  /** Prefix of every message ('' for none). */
  where?: string;
  /** The flags or parameters of the preset, the model fields, the data, resume and initFrom. */
  preset?: string;
  model?: string;
  data?: string;
  resume?: string;
  initFrom?: string;
  /** Prefix of training-key errors (default: 'train config'). */
  trainSource?: string;
}

export interface ResolvedPretraining {
  out: string;
  /** The prepared dataset directory. */
  data: string;
  config: TrainConfig;
  /** Whether this run continues <out>/checkpoints/latest. */
  resume: boolean;
  /** The model a fresh run (or a resume with model fields) asks for; a preset takes the data's vocabulary size. */
  model: { base: string | ModelConfig; fields: Partial<ModelConfig> } | null;
  initFrom?: string;
}

/** Validates the options and fills every default; the result says exactly what runPretraining will train. */
export function resolvePretrainOptions(o: PretrainOptions, names: PretrainNames = {}): ResolvedPretraining {
  const where = names.where ? `${names.where}: ` : '';
  const n = { preset: 'preset', model: 'model', data: 'data', resume: 'resume', initFrom: 'initFrom', ...names };
  const fail = (message: string): never => {
    throw new OptionError(`${where}${message}`);
  };
  const fields = o.model ?? {};
  for (const key of Object.keys(fields)) {
    if (!(key in CONFIG_FIELDS))
      fail(`${n.model}: unknown model field "${key}" (known: ${Object.keys(CONFIG_FIELDS).join(', ')})`);
  }
  const mode = o.resume ?? DEFAULT_PRETRAIN_OPTIONS.resume;
  const ckpt = latestCheckpointDir(o.out); // latest, or latest.prev when a save was interrupted
  const resume = mode === 'auto' ? ckpt !== null : mode;
  if (mode === true && o.initFrom !== undefined)
    fail(`${n.resume} and ${n.initFrom} cannot be combined (resume continues a run; init-from starts a new one)`);
  let base: TrainConfig = { ...DEFAULT_PRETRAIN_OPTIONS.train };
  let data = o.data;
  let saved: ModelConfig | undefined;
  if (resume) {
    if (ckpt === null)
      return fail(
        `${join(o.out, 'checkpoints', 'latest')}: no checkpoint to resume from (run without ${n.resume} to start)`,
      );
    const state = readRunState(ckpt);
    // The checkpoint's precision (as it resolved then; fp32 before the setting existed) unless one is given.
    base = { ...DEFAULT_TRAIN_CONFIG, ...state.config, precision: state.precision ?? 'fp32' };
    saved = state.model;
    const savedData = typeof state.run.data === 'string' ? state.run.data : undefined;
    if (data === undefined) data = savedData;
    else if (savedData !== undefined && resolve(data) !== resolve(savedData)) {
      fail(
        `${n.data} ${data} differs from the data of the run being resumed (${savedData}, in ${join(ckpt, 'state.json')})`,
      );
    }
  }
  if (data === undefined) return fail(`${n.data} <prepared dataset dir> is required`);
  const given = o.train ?? {};
  const source = names.trainSource ?? 'train config';
  let config = applyTrainOverrides(base, given, source);
  // A new run's cosine floor follows its lr unless given (a resume keeps the checkpoint's).
  if (!resume && given.minLr === undefined)
    config = applyTrainOverrides(config, { minLr: DEFAULT_PRETRAIN_OPTIONS.minLr(config.lr) }, source);
  const hasFields = Object.keys(fields).length > 0;
  let model: ResolvedPretraining['model'] = null;
  if (o.preset !== undefined) {
    resolveModelConfig(o.preset, { vocabSize: 256, ...fields }); // checked now; the data's vocabulary size comes later
    model = { base: o.preset, fields };
  } else if (hasFields && saved) model = { base: saved, fields };
  else if (hasFields && !resume && o.initFrom === undefined) fail(`${n.model} model fields need ${n.preset} <preset>`);
  else if (!resume && o.initFrom === undefined)
    fail(`${n.preset} <preset> is required (${Object.keys(PRESETS).join(', ')}), or ${n.initFrom} <dir>`);
  return {
    out: o.out,
    data,
    config,
    resume,
    model,
    ...(o.initFrom !== undefined && !resume ? { initFrom: o.initFrom } : {}),
  };
}

/** Resolves the options, opens the data and trains (or resumes); see PretrainOptions. */
export async function runPretraining(
  o: PretrainOptions,
  names: PretrainNames = {},
): Promise<TrainResult & { config: TrainConfig; data: string }> {
  const r = resolvePretrainOptions(o, names);
  const data = openTrainingData(r.data);
  try {
    const model = r.model
      ? resolveModelConfig(
          r.model.base,
          typeof r.model.base === 'string' ? { vocabSize: data.train.vocabSize, ...r.model.fields } : r.model.fields,
        )
      : undefined;
    o.log?.(
      `data ${r.data}: ${data.train.numTokens.toLocaleString('en-US')} training tokens, ${data.val.numTokens.toLocaleString('en-US')} validation tokens, vocabulary ${data.train.vocabSize}`,
    );
    const result = await train(
      {
        config: r.config,
        ...(model ? { model } : {}),
        train: data.train,
        val: data.val,
        out: r.out,
        tokenizer: data.tokenizer,
        resume: r.resume,
        ...(r.initFrom !== undefined ? { initFrom: r.initFrom } : {}),
        quiet: o.quiet === true,
        showConfig: o.showConfig ?? true,
        ...(o.signal ? { signal: o.signal } : {}),
        run: { data: r.data, ...(o.run ?? {}) },
      },
      o.onEval ? { onEval: (info) => o.onEval!(info, data.tokenizer) } : {},
    );
    return { ...result, config: r.config, data: r.data };
  } finally {
    data.close();
  }
}
