/**
 * Saving and loading a model directory: `config.json` ({"format": "llmforge", "config": ModelConfig, ...extra})
 * and `model.safetensors` (float32, llmforge's parameter names; a tied head is stored once, as the embedding).
 * Both files are written atomically. Loading validates the config and checks every tensor's presence and shape,
 * with errors naming the file and the tensor or field; the model is built without random init and every parameter
 * is filled from the file (model-fill.ts), after the config is checked against the sizes the file holds (model-size.ts:
 * a config.json that describes more parameters than model.safetensors stores is refused before anything is
 * allocated). The tokenizer is saved beside these by its own module. A Hugging Face
 * model directory (models/hf/detect.ts) is read through models/hf instead, by the same calls.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsReader, serializeSafetensors } from '../io/safetensors.ts';
import { formatShape } from '../tensor/shape.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { checkModelConfig, ModelConfigError } from './config.ts';
import { isHfModelDir } from './hf/detect.ts';
import { loadHfModel, readHfConfig } from './hf/load-hf.ts';
import { ModelFill } from './model-fill.ts';
import { checkConfigFitsWeights, checkModelAllocatable } from './model-size.ts';
import type { LanguageModel, ModelConfig } from './model.ts';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** Writes `dir/config.json` (with `extra` fields beside the config) and `dir/model.safetensors`. */
export function saveModel(dir: string, model: LanguageModel, extra: Record<string, unknown> = {}): void {
  for (const key of ['format', 'config'])
    if (key in extra) throw new RangeError(`saveModel: extra field "${key}" is reserved`);
  const tensors = model
    .namedParameters()
    .map(([name, t]) => [name, t] as [string, { shape: readonly number[]; data: ArrayLike<number> }]);
  writeFileAtomic(
    join(dir, WEIGHTS_FILE),
    serializeSafetensors(tensors, { format: 'llmforge', arch: model.config.arch }),
  );
  writeJsonAtomic(join(dir, CONFIG_FILE), { format: 'llmforge', config: model.config, ...extra });
}

/** The config and the extra fields of `dir/config.json`, validated. */
export function readModelConfig(dir: string): { config: ModelConfig; extra: Record<string, unknown> } {
  if (isHfModelDir(dir)) {
    const { config, info } = readHfConfig(dir); // a Hugging Face directory (models/hf)
    return { config, extra: { huggingface: info } };
  }
  const path = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelConfigError(
      `${path}: cannot read the model config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is ${dir} a saved llmforge model directory?`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || (doc as { format?: unknown }).format !== 'llmforge') {
    throw new ModelConfigError(
      `${path}: expected {"format": "llmforge", "config": {...}}, received format ${JSON.stringify((doc as { format?: unknown } | null)?.format)}`,
    );
  }
  const { format: _format, config, ...extra } = doc as Record<string, unknown>;
  return { config: checkModelConfig(config, `${path} "config"`), extra };
}

/** Loads the model saved in `dir` by saveModel. */
export function loadModel(dir: string): LanguageModel {
  if (isHfModelDir(dir)) return loadHfModel(dir).model;
  const { config } = readModelConfig(dir);
  const path = join(dir, WEIGHTS_FILE);
  const file = SafetensorsReader.open(path); // tensor by tensor into the parameters, never the whole file in memory
  try {
    const configPath = join(dir, CONFIG_FILE);
    let stored = 0;
    for (const t of file.tensors.values()) stored += t.size;
    checkConfigFitsWeights(config, stored, configPath, WEIGHTS_FILE); // before allocating: the header says what is there
    checkModelAllocatable(config, configPath);
    const fill = new ModelFill(config); // no random init: every parameter is read from the file
    const missing = (name: string, p: { shape: readonly number[] }): ModelConfigError =>
      new ModelConfigError(
        `${path}: tensor "${name}" is missing (the config in ${CONFIG_FILE} expects it with shape ${formatShape(p.shape)})`,
      );
    for (const [name, p] of fill.parameters) {
      const t = file.tensors.get(name);
      if (!t) throw missing(name, p);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new ModelConfigError(
          `${path}: tensor "${name}" has shape ${formatShape(t.shape)}, expected ${formatShape(p.shape)} from ${CONFIG_FILE}`,
        );
      }
      fill.take(name);
      if (p.data instanceof Float32Array) file.readInto(name, p.data);
      else p.data.set(file.read(name));
    }
    for (const name of file.tensors.keys()) {
      if (!fill.parameters.has(name))
        throw new ModelConfigError(
          `${path}: unexpected tensor "${name}" (not a parameter of the ${config.arch} model that ${CONFIG_FILE} describes)`,
        );
    }
    return fill.finish(missing);
  } finally {
    file.close();
  }
}
