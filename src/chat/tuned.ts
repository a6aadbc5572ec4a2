/**
 * Whether a model directory was instruction-tuned, so that `llmforge chat` can warn before a base model answers
 * with a continuation (or `<unk> <unk> ...`): llmforge's tuners mark the config.json they write
 * (`"finetune": "sft" | "dpo" | "ppo"`, with `-lora`), their checkpoints hold their state file (sft-state.json, ...),
 * and a Hugging Face chat model ships a `chat_template` in tokenizer_config.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE } from '../models/model-io.ts';

const TUNER_STATE_FILES = ['sft-state.json', 'dpo-state.json', 'ppo-state.json'];

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What marks the model in `modelDir` (tokenizer in `tokenizerDir`) as instruction-tuned, in words (e.g.
 * `config.json finetune "sft"`), or undefined for a model with no such mark: a base model.
 */
export function instructionTuning(modelDir: string, tokenizerDir: string = modelDir): string | undefined {
  const finetune = readJson(join(modelDir, CONFIG_FILE))?.finetune;
  if (typeof finetune === 'string' && finetune !== '') return `${CONFIG_FILE} finetune "${finetune}"`;
  for (const f of TUNER_STATE_FILES) if (existsSync(join(modelDir, f))) return `a ${f} checkpoint`;
  for (const dir of new Set([tokenizerDir, modelDir])) {
    const template = readJson(join(dir, 'tokenizer_config.json'))?.chat_template;
    if ((typeof template === 'string' && template !== '') || Array.isArray(template))
      return 'a chat_template in tokenizer_config.json';
  }
  return undefined;
}
