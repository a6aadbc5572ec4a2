/**
 * Opening a model for inference from a path a user gives: a model directory (what saveModel writes, config.json +
 * model.safetensors, with the tokenizer files beside them or in a `tokenizer/` subdirectory), or a training run's
 * output directory, from which the best-validation checkpoint (`checkpoints/best`) or else the latest
 * (`checkpoints/latest`) is taken (an SFT run's directory gives its tuned `model/`); a Hugging Face model
 * directory, or `hf://owner/name` (from the hub cache, pulled when missing); a recipe run directory (recipe.json)
 * gives the model of its last stage that holds one. Anything else is one clear error
 * naming the path and what was looked for.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

/** The model directory inside `path` without looking further (a model, an SFT run, a training run), or undefined. */
function modelDirIn(path: string): string | undefined {
  if (!isDir(path)) return undefined;
  if (existsSync(join(path, CONFIG_FILE))) return path;
  if (isSftRun(path)) return join(path, 'model');
  for (const name of ['best', 'latest']) {
    const dir = join(path, 'checkpoints', name);
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
  }
  return undefined;
}

/** The stage names of a recipe run directory (`llmforge run` writes recipe.json with them, in order), or undefined. */
function recipeStages(path: string): string[] | undefined {
  const file = join(path, 'recipe.json');
  if (!existsSync(file)) return undefined;
  try {
    const stages = (JSON.parse(readFileSync(file, 'utf8')) as { stages?: unknown }).stages;
    if (!Array.isArray(stages)) return undefined;
    return stages
      .map((s) => (s as { name?: unknown } | null)?.name)
      .filter((n): n is string => typeof n === 'string' && !n.includes('/') && !n.includes('\\') && n !== '..');
  } catch {
    return undefined;
  }
}

/**
 * The directory holding the model's config.json: `path` itself, an SFT run's model/, or a run's checkpoints/best,
 * else checkpoints/latest; for a recipe run directory (`llmforge run --out`, e.g. runs/demo after `npm start`) the
 * model of its last stage that holds one.
 */
export function resolveModelDir(path: string): string {
  if (isHubRef(path)) return resolveHubModelSync(path); // hf://owner/name: the cached snapshot, pulled if needed
  if (!existsSync(path))
    throw new ModelDirError(`${path}: no such directory (expected a saved model or a training run's output directory)`);
  if (!isDir(path))
    throw new ModelDirError(`${path}: not a directory (expected a saved model or a training run's output directory)`);
  const direct = modelDirIn(path);
  if (direct !== undefined) return direct;
  const stages = recipeStages(path);
  if (stages !== undefined) {
    for (const name of [...stages].reverse()) {
      const dir = modelDirIn(join(path, name));
      if (dir !== undefined) return dir;
    }
    throw new ModelDirError(
      `${path}: a recipe run whose stages (${stages.join(', ') || 'none'}) hold no model yet; run the recipe to the end or pass a stage's directory`,
    );
  }
  const holding = readdirSync(path, { withFileTypes: true })
    .filter(
      (e) =>
        e.isDirectory() &&
        (modelDirIn(join(path, e.name)) !== undefined || existsSync(join(path, e.name, 'recipe.json'))),
    )
    .map((e) => join(path, e.name))
    .sort();
  const hint =
    holding.length > 0
      ? `; these directories inside it hold models or recipe runs: ${holding.join(', ')}`
      : '; pass the --out directory of `llmforge train` or a directory written by saveModel';
  throw new ModelDirError(
    `${path}: neither a model directory (no ${CONFIG_FILE}) nor a training run (no checkpoints/best/${CONFIG_FILE} or checkpoints/latest/${CONFIG_FILE})${hint}`,
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
