/**
 * LoRA for the fine-tuning commands (`finetune classify --train lora`, `finetune sft --train lora`): the options
 * (rank, alpha, dropout, target layers; defaults r 8, alpha 16, dropout 0.05 on every attention and MLP linear),
 * checked with one-line user errors; attaching adapters to a loaded base; the "trainable N of M parameters" line;
 * and the files a LoRA run writes. A run saves the adapter alone in PEFT's layout and a merged model (a plain
 * copy of the base with B A folded in, so every loader opens it unchanged) without touching the training model's
 * base weights, which stay bit-identical; a checkpoint holds only the adapter, and resuming fills the adapter of a
 * freshly wrapped base after checking that the rank, alpha, dropout and targets match.
 */
import { join } from 'node:path';
import { createModel } from '../models/create.ts';
import { loadModel } from '../models/model-io.ts';
import type { Arch, LanguageModel } from '../models/model.ts';
import { applyLora, loraLayers, type LoraSummary } from '../nn/lora.ts';
import { Rng } from '../tensor/random.ts';
import { CheckpointError } from '../train/checkpoint.ts';
import { ADAPTER_CONFIG, readLoraConfig, readLoraWeights, saveLoraAdapter } from './lora-io.ts';
import { UserError } from '../util/user-error.ts';

export interface LoraSettings {
  /** Rank of the update. */
  r: number;
  /** Scale numerator (update times alpha / r). */
  alpha: number;
  /** Dropout on the adapter input while training. */
  dropout: number;
  /** Module names or dotted suffixes to adapt; null: every attention and MLP linear of the architecture. */
  targets: string[] | null;
}

export const DEFAULT_LORA: Readonly<LoraSettings> = Object.freeze({
  r: 8, // the common LoRA default: small enough to be cheap, large enough for task adaptation
  alpha: 16, // alpha = 2r, so the update's scale is 2
  dropout: 0.05,
  targets: null,
});

/** Attention and MLP linears of each architecture (GPT-2's `c_proj` names both attn.c_proj and mlp.c_proj). */
export function defaultLoraTargets(arch: Arch): string[] {
  return arch === 'gpt2'
    ? ['c_attn', 'c_proj', 'c_fc']
    : ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
}

/**
 * Checks raw option values (numbers, and a comma-separated target list; undefined takes the default) and returns
 * the settings. `where` names the command in error messages (`finetune classify`).
 */
export function parseLoraSettings(
  raw: { r?: unknown; alpha?: unknown; dropout?: unknown; targets?: unknown },
  where: string,
): LoraSettings {
  const r = raw.r ?? DEFAULT_LORA.r;
  if (!(typeof r === 'number' && Number.isInteger(r) && r > 0))
    throw new UserError(`${where}: --lora-r must be a positive integer, received ${String(r)}`);
  const alpha = raw.alpha ?? DEFAULT_LORA.alpha;
  if (!(typeof alpha === 'number' && Number.isFinite(alpha) && alpha > 0))
    throw new UserError(`${where}: --lora-alpha must be a positive number, received ${String(alpha)}`);
  const dropout = raw.dropout ?? DEFAULT_LORA.dropout;
  if (!(typeof dropout === 'number' && dropout >= 0 && dropout < 1))
    throw new UserError(`${where}: --lora-dropout must be in [0, 1), received ${String(dropout)}`);
  let targets: string[] | null = null;
  if (raw.targets !== undefined) {
    const list = typeof raw.targets === 'string' ? raw.targets.split(',').map((t) => t.trim()) : [];
    if (list.length === 0 || list.some((t) => !/^[A-Za-z_][\w.]*$/.test(t))) {
      throw new UserError(
        `${where}: --lora-targets must be comma-separated module names such as c_attn,c_fc or q_proj,v_proj, received ${JSON.stringify(raw.targets)}`,
      );
    }
    targets = list;
  }
  return { r, alpha, dropout, targets };
}

export interface AttachedLora {
  /** The target list in effect (the defaults of the architecture when none was given). */
  targets: string[];
  summary: LoraSummary;
}

/** Freezes `model` and wraps its target linears; A is drawn from `seed`, B starts at zero. */
export function attachLora(model: LanguageModel, s: LoraSettings, seed: number): AttachedLora {
  const targets = s.targets ?? defaultLoraTargets(model.config.arch);
  const summary = applyLora(model, { r: s.r, alpha: s.alpha, dropout: s.dropout, targets, rng: new Rng(seed) });
  return { targets, summary };
}

/** `trainable 12,345 of 1,000,000 parameters (1.23%)`. */
export function formatTrainable(trainable: number, total: number): string {
  return `trainable ${trainable.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} parameters (${((100 * trainable) / total).toFixed(2)}%)`;
}

/**
 * A plain model (no LoRA layers) with the adapters folded in: each wrapped weight becomes W + (alpha / r) B A.
 * The training model's weights are restored bit for bit afterwards (merge is computed in place, then the saved
 * copy is put back), so saving mid-run never perturbs training.
 */
export function mergedLoraCopy(model: LanguageModel): LanguageModel {
  const copy = createModel(model.config, { init: false }); // every parameter is copied below
  const source = new Map(model.namedParameters());
  const layers = loraLayers(model);
  const saved = layers.map(([, l]) => l.weight.data.slice());
  try {
    for (const [, l] of layers) l.merge();
    for (const [name, p] of copy.namedParameters()) {
      const q = source.get(name);
      if (!q || q.size !== p.size)
        throw new Error(`mergedLoraCopy: parameter "${name}" is missing or has another shape in the trained model`);
      p.data.set(q.data);
    }
  } finally {
    layers.forEach(([, l], i) => {
      l.weight.data.set(saved[i]!);
      l.merged = false;
    });
  }
  return copy;
}

/** Writes the adapter alone (PEFT layout: adapter_config.json + adapter_model.safetensors) into `dir`. */
export function saveAdapter(dir: string, model: LanguageModel, targets: readonly string[], baseModel: string): void {
  saveLoraAdapter(dir, model, { targets, baseModel });
}

/**
 * Fills the model's LoRA layers (attached with `s` and `targets`) from the adapter saved in `dir`, after checking
 * that the saved rank, alpha, dropout and targets are the ones of this run.
 */
export function restoreLoraAdapter(
  dir: string,
  model: LanguageModel,
  s: LoraSettings,
  targets: readonly string[],
): void {
  const saved = readLoraConfig(dir);
  const describe = (r: number, alpha: number, dropout: number, t: readonly string[]): string =>
    `r ${r}, alpha ${alpha}, dropout ${dropout}, targets ${t.join(',')}`;
  const was = describe(saved.r, saved.lora_alpha, saved.lora_dropout, saved.target_modules);
  const now = describe(s.r, s.alpha, s.dropout, targets);
  if (was !== now)
    throw new UserError(
      `${join(dir, ADAPTER_CONFIG)}: the checkpoint's adapter has ${was}, this run asks for ${now}; resume with the same --lora-* options`,
    );
  readLoraWeights(dir, model);
}

/** The LoRA part of a training run (SFT, DPO, PPO): adapter settings, adapted linears and the base model's path. */
export interface LoraRun {
  settings: LoraSettings;
  targets: readonly string[];
  baseModel: string;
}

/**
 * Puts a checkpoint's trained weights back into `model` on resume: with LoRA the adapter in `<dir>/<adapterDir>`,
 * otherwise every parameter of the model saved in `dir` (a missing or reshaped one is an error naming it).
 */
export function restoreTrainedWeights(
  dir: string,
  model: LanguageModel,
  lora: LoraRun | undefined,
  adapterDir = 'adapter',
): void {
  if (lora) {
    restoreLoraAdapter(join(dir, adapterDir), model, lora.settings, lora.targets);
    return;
  }
  const saved = new Map(loadModel(dir).namedParameters());
  for (const [name, p] of model.namedParameters()) {
    const q = saved.get(name);
    if (!q || q.size !== p.size)
      throw new CheckpointError(
        `${dir}: parameter "${name}" is missing or has another shape; resume with the same base model`,
      );
    p.data.set(q.data);
  }
}
