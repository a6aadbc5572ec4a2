/**
 * A sequence classifier: a pretrained language model's decoder (its final-normed hidden states, no LM head) and an
 * N-class linear head read at each row's last real token (right padding, so with causal attention that token never
 * sees the pads) or, as an option, the mean over the real tokens. Saved as a model directory: the base model
 * (config.json with a `classifier` block naming labels, pooling and max length, model.safetensors), the head
 * (classifier-head.safetensors) and the tokenizer, which `loadClassifier` reads back.
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
import { fromData } from '../tensor/creation.ts';
import type { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { saveTextTokenizer, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/user-error.ts';

export type Pooling = 'last' | 'mean';
export const HEAD_FILE = 'classifier-head.safetensors';

export interface ClassifierInfo {
  labels: string[];
  pooling: Pooling;
  maxLength: number;
  padId: number;
}

export class ClassifierError extends UserError {}

export class SequenceClassifier extends Module {
  score: Linear;
  constructor(
    readonly base: LanguageModel,
    readonly info: ClassifierInfo,
    rng: Rng,
  ) {
    super();
    if (info.labels.length < 2)
      throw new ClassifierError(`classifier: need at least 2 labels, received ${JSON.stringify(info.labels)}`);
    this.score = new Linear(base.config.nEmbd, info.labels.length, { bias: true, rng });
  }

  /** Logits (B, N) for right-padded ids (B*T) whose rows have `lengths[b]` real tokens. */
  forward(ids: Int32Array, B: number, T: number, lengths: readonly number[], dropoutSeed?: number): Tensor {
    return this.score.forward(pooledHidden(this.base, ids, B, T, lengths, this.info.pooling, dropoutSeed));
  }
}

/**
 * The base's final-normed hidden states pooled per row (B, C): at each row's last real token (right padding, so
 * with causal attention that token never sees the pads) or as the mean over its real tokens. Shared by the
 * classifier and the reward model (src/align/reward-model.ts).
 */
export function pooledHidden(
  base: LanguageModel,
  ids: Int32Array,
  B: number,
  T: number,
  lengths: readonly number[],
  pooling: Pooling,
  dropoutSeed?: number,
): Tensor {
  const C = base.config.nEmbd;
  const opts = dropoutSeed === undefined ? { hidden: true } : { hidden: true, dropoutSeed };
  const h = base.forward(ids, B, T, null, opts).logits; // (B, T, C)
  if (pooling === 'last') {
    const rows = lengths.map((n, b) => b * T + n - 1);
    return F.embedding(F.reshape(h, [B * T, C]), rows); // (B, C): row gather, gradient scattered back
  }
  const mask = new Float32Array(B * T);
  lengths.forEach((n, b) => {
    mask.fill(1 / n, b * T, b * T + n);
  });
  return F.sum(F.mul(h, fromData(mask, [B, T, 1])), 1); // (B, C)
}

/**
 * Writes the classifier (base model, head, tokenizer) into `dir`; `base` replaces the classifier's own base in the
 * file (a LoRA run passes its merged copy, so the directory loads as a plain classifier).
 */
export function saveClassifier(
  dir: string,
  clf: SequenceClassifier,
  tokenizer: TextTokenizer | null,
  base: LanguageModel = clf.base,
): void {
  mkdirSync(dir, { recursive: true });
  saveModel(dir, base, { classifier: clf.info });
  saveClassifierHead(join(dir, HEAD_FILE), clf);
  if (tokenizer) saveTextTokenizer(dir, tokenizer);
}

/** Writes the head's weight and bias alone (what loadHeadInto reads). */
export function saveClassifierHead(path: string, clf: SequenceClassifier): void {
  const head = clf.score
    .namedParameters('score')
    .map(([n, t]) => [n, t] as [string, { shape: readonly number[]; data: ArrayLike<number> }]);
  writeFileAtomic(path, serializeSafetensors(head, { format: 'llmforge-classifier-head' }));
}

/** Copies the head weights in `path` into `clf`, checking names and shapes. */
export function loadHeadInto(path: string, clf: SequenceClassifier): void {
  const file = readSafetensors(path);
  for (const [name, p] of clf.score.namedParameters('score')) {
    const t = file.tensors.get(name);
    if (!t) throw new ClassifierError(`${path}: tensor "${name}" is missing`);
    if (t.data.length !== p.size)
      throw new ClassifierError(`${path}: tensor "${name}" has ${t.data.length} values, expected ${p.size}`);
    p.data.set(t.data);
  }
}

export interface LoadedClassifier {
  classifier: SequenceClassifier;
  tokenizer: TextTokenizer;
  dir: string;
}

/** Opens a classifier saved by saveClassifier (a directory, or a run directory with checkpoints/best|latest). */
export function loadClassifier(path: string, rng: Rng): LoadedClassifier {
  const { model, tokenizer, modelDir } = loadModelDir(path);
  const info = readModelConfig(modelDir).extra.classifier as ClassifierInfo | undefined;
  const headPath = join(modelDir, HEAD_FILE);
  if (!info || !Array.isArray(info.labels) || !existsSync(headPath)) {
    throw new ClassifierError(
      `${modelDir}: not a classifier (config.json has no "classifier" block or ${HEAD_FILE} is missing); train one with \`llmforge finetune classify\``,
    );
  }
  const clf = new SequenceClassifier(model, info, rng);
  loadHeadInto(headPath, clf);
  return { classifier: clf, tokenizer, dir: modelDir };
}
