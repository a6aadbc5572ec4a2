/**
 * A reward model: a pretrained language model's decoder and a scalar head (`score.weight`, Linear C -> 1 without
 * bias, as Hugging Face's AutoModelForSequenceClassification with num_labels=1) read at the last real token of a
 * prompt and response rendered by a prompt template (the classifier's pooling, src/finetune/classifier.ts). The
 * rendering is SFT's (an EOS token closes the response when the tokenizer has one); a sequence longer than the
 * maximum length keeps its last tokens, so the response, where chosen and rejected differ, survives the cut. Saved
 * as a model directory: the base (config.json with a `reward` block naming the template, maximum length, pad and
 * EOS ids; model.safetensors), the head (reward-head.safetensors) and the tokenizer, which `loadRewardModel` reads.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../ops/index.ts';
import { Linear } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import type { LanguageModel } from '../models/model.ts';
import { readModelConfig, saveModel } from '../models/model-io.ts';
import { readSafetensors, serializeSafetensors } from '../io/safetensors.ts';
import { loadModelDir } from '../generate/model-dir.ts';
import { pooledHidden } from '../finetune/classifier.ts';
import { padBatch } from '../finetune/classify-data.ts';
import { encodeRecord } from '../chat/encode.ts';
import type { SftRecord } from '../chat/records.ts';
import { resolveTemplate, type PromptTemplate } from '../chat/templates.ts';
import { noGrad } from '../tensor/autograd.ts';
import type { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { saveTextTokenizer, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/user-error.ts';

export const REWARD_HEAD_FILE = 'reward-head.safetensors';

/** The `reward` block of config.json: how texts become the token rows the head reads. */
export interface RewardInfo {
  /** Prompt template name (alpaca, chatml, model). */
  template: string;
  /** Longest token row; longer renderings keep their last maxLength tokens. */
  maxLength: number;
  padId: number;
  /** EOS appended after the response, or null when the tokenizer has none. */
  eosId: number | null;
}

export class RewardModelError extends UserError {}

export class RewardModel extends Module {
  score: Linear;
  constructor(
    readonly base: LanguageModel,
    readonly info: RewardInfo,
    rng: Rng,
  ) {
    super();
    this.score = new Linear(base.config.nEmbd, 1, { bias: false, rng });
  }

  /** Rewards (B) for right-padded ids (B*T) whose rows have `lengths[b]` real tokens. */
  forward(ids: Int32Array, B: number, T: number, lengths: readonly number[], dropoutSeed?: number): Tensor {
    const pooled = pooledHidden(this.base, ids, B, T, lengths, 'last', dropoutSeed); // (B, C)
    return F.reshape(this.score.forward(pooled), [B]); // (B)
  }
}

/** Token row of one record (prompt and response through the template), cut to its last `info.maxLength` tokens. */
export function encodeForReward(
  tok: TextTokenizer,
  template: PromptTemplate,
  record: SftRecord,
  info: RewardInfo,
): { ids: number[]; truncated: boolean } {
  // Without an EOS token encodeRecord's marker id -1 follows each response; it is removed again.
  const tokens = encodeRecord(tok, template, record, info.eosId ?? -1).tokens.filter((t) => t >= 0);
  const truncated = tokens.length > info.maxLength;
  const ids = truncated ? tokens.slice(tokens.length - info.maxLength) : tokens;
  return { ids: ids.length > 0 ? ids : [info.padId], truncated };
}

/** Rewards of token rows, in batches, in eval mode and without autograd. */
export function rewardsOf(rm: RewardModel, rows: readonly number[][], batchSize: number): number[] {
  const out: number[] = [];
  const wasTraining = rm.training;
  rm.eval();
  noGrad(() => {
    for (let i = 0; i < rows.length; i += batchSize) {
      const chunk = rows.slice(i, i + batchSize);
      const { ids, lengths, T } = padBatch(chunk, rm.info.padId);
      out.push(...rm.forward(ids, chunk.length, T, lengths).toFlatArray());
    }
  });
  if (wasTraining) rm.train();
  return out;
}

/** Writes the head's weight alone (what loadRewardHeadInto reads). */
export function saveRewardHead(path: string, rm: RewardModel): void {
  const head = rm.score
    .namedParameters('score')
    .map(([n, t]) => [n, t] as [string, { shape: readonly number[]; data: ArrayLike<number> }]);
  writeFileAtomic(path, serializeSafetensors(head, { format: 'llmforge-reward-head' }));
}

/** Copies the head weight in `path` into `rm`, checking name and size. */
export function loadRewardHeadInto(path: string, rm: RewardModel): void {
  const file = readSafetensors(path);
  for (const [name, p] of rm.score.namedParameters('score')) {
    const t = file.tensors.get(name);
    if (!t) throw new RewardModelError(`${path}: tensor "${name}" is missing`);
    if (t.data.length !== p.size)
      throw new RewardModelError(`${path}: tensor "${name}" has ${t.data.length} values, expected ${p.size}`);
    p.data.set(t.data);
  }
}

/**
 * Writes the reward model (base, head, tokenizer) into `dir`; `base` replaces the model's own base in the file (a
 * LoRA run passes its merged copy, so the directory loads as a plain reward model).
 */
export function saveRewardModel(
  dir: string,
  rm: RewardModel,
  tokenizer: TextTokenizer | null,
  base: LanguageModel = rm.base,
): void {
  mkdirSync(dir, { recursive: true });
  saveModel(dir, base, { reward: rm.info });
  saveRewardHead(join(dir, REWARD_HEAD_FILE), rm);
  if (tokenizer) saveTextTokenizer(dir, tokenizer);
}

export interface LoadedRewardModel {
  model: RewardModel;
  tokenizer: TextTokenizer;
  template: PromptTemplate;
  dir: string;
}

/** Opens a reward model saved by saveRewardModel (a directory, or a run directory with checkpoints/best|latest). */
export function loadRewardModel(path: string, rng: Rng): LoadedRewardModel {
  const { model, tokenizer, modelDir } = loadModelDir(path);
  const info = readModelConfig(modelDir).extra.reward as RewardInfo | undefined;
  const headPath = join(modelDir, REWARD_HEAD_FILE);
  if (!info || typeof info.template !== 'string' || !existsSync(headPath)) {
    throw new RewardModelError(
      `${modelDir}: not a reward model (config.json has no "reward" block or ${REWARD_HEAD_FILE} is missing); train one with \`llmforge reward train\``,
    );
  }
  const rm = new RewardModel(model, info, rng);
  loadRewardHeadInto(headPath, rm);
  return { model: rm, tokenizer, template: resolveTemplate(info.template, modelDir), dir: modelDir };
}
