/**
 * Opening a model for inference from a path a user gives: a model directory (what saveModel writes, config.json +
 * model.safetensors, with the tokenizer files beside them or in a `tokenizer/` subdirectory), or a training run's
 * output directory, from which the best-validation checkpoint (`checkpoints/best`) or else the latest
 * (`checkpoints/latest`) is taken (an SFT run's directory gives its tuned `model/`); a Hugging Face model
 * directory, or `hf://owner/name` (from the hub cache, pulled when missing). Anything else is one clear error
 * naming the path and what was looked for.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isHubRef } from '../hub/repo-ref.ts';
import { resolveHubModelSync } from '../hub/resolve.ts';
import type { LanguageModel } from '../models/model.ts';
import { CONFIG_FILE, loadModel } from '../models/model-io.ts';
import { loadTextTokenizer, type TextTokenizer, CHAR_TOKENIZER_FILE } from '../tokenizer/text-tokenizer.ts';
import { UserError } from '../util/user-error.ts';

export class ModelDirError extends UserError {}

export interface LoadedModel {
  model: LanguageModel;
  tokenizer: TextTokenizer;
  /** The directory the weights came from (the path itself or a checkpoint inside it). */
  modelDir: string;
  /** The directory the tokenizer came from. */
  tokenizerDir: string;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

function hasTokenizer(dir: string): boolean {
  return (
    isDir(dir) &&
    (existsSync(join(dir, 'tokenizer.json')) ||
      existsSync(join(dir, CHAR_TOKENIZER_FILE)) ||
      (existsSync(join(dir, 'encoder.json')) && existsSync(join(dir, 'vocab.bpe'))) ||
      (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))))
  );
}

/**
 * An instruction-tuning run's directory (`finetune sft --out`, a recipe's sft stage): its tuned model is `model/`,
 * told apart from any directory that merely has a `model/` subdirectory by the run's eval.json or SFT checkpoint state.
 */
function isSftRun(path: string): boolean {
  return (
    existsSync(join(path, 'model', CONFIG_FILE)) &&
    (existsSync(join(path, 'eval.json')) || existsSync(join(path, 'checkpoints', 'latest', 'sft-state.json')))
  );
}

/** The directory holding the model's config.json: `path` itself, an SFT run's model/, or a run's checkpoints/best, else checkpoints/latest. */
export function resolveModelDir(path: string): string {
  if (isHubRef(path)) return resolveHubModelSync(path); // hf://owner/name: the cached snapshot, pulled if needed
  if (!existsSync(path))
    throw new ModelDirError(`${path}: no such directory (expected a saved model or a training run's output directory)`);
  if (!isDir(path))
    throw new ModelDirError(`${path}: not a directory (expected a saved model or a training run's output directory)`);
  if (existsSync(join(path, CONFIG_FILE))) return path;
  if (isSftRun(path)) return join(path, 'model');
  for (const name of ['best', 'latest']) {
    const dir = join(path, 'checkpoints', name);
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
  }
  throw new ModelDirError(
    `${path}: neither a model directory (no ${CONFIG_FILE}) nor a training run (no checkpoints/best/${CONFIG_FILE} or checkpoints/latest/${CONFIG_FILE}); ` +
      'pass the --out directory of `llmforge train` or a directory written by saveModel',
  );
}

/** Loads the model and its tokenizer for `path` (see the file comment for what is accepted). */
export function loadModelDir(path: string): LoadedModel {
  const modelDir = resolveModelDir(path);
  const candidates = [modelDir, join(modelDir, 'tokenizer'), path, join(path, 'tokenizer')];
  const tokenizerDir = candidates.find(hasTokenizer);
  if (tokenizerDir === undefined) {
    throw new ModelDirError(
      `${modelDir}: no tokenizer beside the model (looked for tokenizer.json, ${CHAR_TOKENIZER_FILE} or encoder.json + vocab.bpe in ${[...new Set(candidates)].join(', ')})`,
    );
  }
  const tokenizer = loadTextTokenizer(tokenizerDir);
  const model = loadModel(modelDir);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new ModelDirError(
      `${tokenizerDir}: the tokenizer has ${tokenizer.vocabSize} ids but the model in ${modelDir} only ${model.config.vocabSize} (vocabSize); they do not belong together`,
    );
  }
  return { model, tokenizer, modelDir, tokenizerDir };
}
