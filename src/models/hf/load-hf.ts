/**
 * Loading a local Hugging Face model directory into an llmforge model: config.json mapped by hf-config.ts, the
 * weights from model.safetensors or a sharded model.safetensors.index.json, read tensor by tensor straight into the
 * parameters of a model built without random init (F16/BF16 converted on the way, GPT-2 Conv1D weights
 * transposed through one tensor-sized buffer), generation_config.json kept for callers. A missing, misshapen or
 * unexpected tensor is an error naming the tensor and the file; a config describing more parameters than the
 * safetensors headers list is refused before the model is allocated (model-size.ts). The tokenizer files beside the weights are opened
 * by the tokenizer module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsReader } from '../../io/safetensors-reader.ts';
import { formatShape } from '../../tensor/shape.ts';
import type { LanguageModel, ModelConfig } from '../model.ts';
import { ModelFill } from '../model-fill.ts';
import { checkConfigFitsWeights, checkModelAllocatable } from '../model-size.ts';
import { HfModelError, hfFieldName, hfToModelConfig, type HfConfigInfo } from './hf-config.ts';
import { detectPrefix, hfName, IGNORED_BUFFERS, isTransposed, transpose2d } from './tensor-names.ts';

export const HF_CONFIG_FILE = 'config.json';
export const HF_WEIGHTS_FILE = 'model.safetensors';
export const HF_INDEX_FILE = 'model.safetensors.index.json';
export const HF_GENERATION_CONFIG_FILE = 'generation_config.json';

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HfModelError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HfModelError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** The ModelConfig of the Hugging Face model in `dir`, with what else its config.json says. */
export function readHfConfig(dir: string): { config: ModelConfig; info: HfConfigInfo; raw: Record<string, unknown> } {
  const path = join(dir, HF_CONFIG_FILE);
  const raw = readJson(path) as Record<string, unknown>;
  return { ...hfToModelConfig(raw, path), raw };
}

/** generation_config.json of `dir` (eos, sampling defaults), or undefined when absent. */
export function readGenerationConfig(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, HF_GENERATION_CONFIG_FILE);
  return existsSync(path) ? (readJson(path) as Record<string, unknown>) : undefined;
}

/** The weight files of `dir`: the shards of model.safetensors.index.json, else model.safetensors. */
export function hfWeightFiles(dir: string): { files: string[]; weightMap: Map<string, string> | null } {
  const index = join(dir, HF_INDEX_FILE);
  if (existsSync(index)) {
    const doc = readJson(index) as { weight_map?: unknown };
    const map = doc.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new HfModelError(`${index}: expected {"weight_map": {tensor name: shard file}}`);
    const weightMap = new Map<string, string>();
    for (const [name, file] of Object.entries(map)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\'))
        throw new HfModelError(
          `${index}: weight_map["${name}"] must be a file name in the same directory, received ${JSON.stringify(file)}`,
        );
      weightMap.set(name, join(dir, file));
    }
    return { files: [...new Set(weightMap.values())], weightMap };
  }
  const single = join(dir, HF_WEIGHTS_FILE);
  if (existsSync(single)) return { files: [single], weightMap: null };
  const bin = ['pytorch_model.bin', 'model.bin'].find((f) => existsSync(join(dir, f)));
  throw new HfModelError(
    `${dir}: no ${HF_WEIGHTS_FILE} or ${HF_INDEX_FILE}` +
      (bin
        ? ` (found ${bin}: PyTorch pickle weights are not read; convert them to safetensors, e.g. with save_pretrained(safe_serialization=True))`
        : ''),
  );
}

export interface LoadedHfModel {
  model: LanguageModel;
  config: ModelConfig;
  info: HfConfigInfo;
  generationConfig: Record<string, unknown> | undefined;
  /** The checkpoint's name prefix ('transformer.', 'model.' or ''). */
  prefix: string;
}

/** Loads the Hugging Face model in `dir` (see the file comment). */
export function loadHfModel(dir: string): LoadedHfModel {
  const { config: cfg0, info } = readHfConfig(dir);
  const { files, weightMap } = hfWeightFiles(dir);
  const readers = new Map<string, SafetensorsReader>();
  try {
    for (const f of files) readers.set(f, SafetensorsReader.open(f));
    const where = new Map<string, SafetensorsReader>();
    for (const r of readers.values()) for (const name of r.tensors.keys()) where.set(name, r);
    if (weightMap) {
      for (const [name, file] of weightMap) {
        if (where.get(name)?.path !== file)
          throw new HfModelError(
            `${file}: tensor "${name}" is listed in ${HF_INDEX_FILE} but not stored in this shard`,
          );
      }
    }
    const fileList = files.map((f) => f.slice(dir.length).replace(/^[\\/]/, '')).join(', ');
    const names = new Set(where.keys());
    const prefix = detectPrefix(cfg0.arch, names);
    if (prefix === undefined) {
      const want = cfg0.arch === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
      throw new HfModelError(
        `${dir}: tensor "${want}" is missing from ${fileList} (the ${info.modelType} config in ${HF_CONFIG_FILE} needs it)`,
      );
    }
    // A checkpoint without a head (GPT2Model, LlamaModel) or with a tied one uses the embedding as the head.
    const headless = !names.has('lm_head.weight') && (info.architecture?.endsWith('Model') ?? false);
    const config: ModelConfig = headless && !cfg0.tieEmbeddings ? { ...cfg0, tieEmbeddings: true } : cfg0;
    // Before allocating: the config may describe no more parameters than the headers say the files hold.
    let stored = 0;
    for (const r of readers.values()) for (const t of r.tensors.values()) stored += t.size;
    const configPath = join(dir, HF_CONFIG_FILE);
    const name = (f: Parameters<typeof hfFieldName>[1]): string => hfFieldName(config.arch, f);
    checkConfigFitsWeights(config, stored, configPath, fileList, name);
    checkModelAllocatable(config, configPath, name);
    const fill = new ModelFill(config); // no random init: every parameter is read from the files
    const missing = (hf: string, p: { shape: readonly number[] }): HfModelError =>
      new HfModelError(
        `${dir}: tensor "${hf}" is missing from ${fileList} (the ${info.modelType} config in ${HF_CONFIG_FILE} expects it with shape ${formatShape(p.shape)})`,
      );
    const used = new Set<string>();
    for (const [name, p] of fill.parameters) {
      const hf = hfName(config.arch, name, prefix);
      const reader = where.get(hf);
      if (!reader) throw missing(hf, p);
      used.add(hf);
      fill.take(name);
      const t = reader.info(hf);
      const transposed = isTransposed(config.arch, name);
      const expected = transposed ? [p.shape[1]!, p.shape[0]!] : [...p.shape];
      if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
        throw new HfModelError(
          `${reader.path}: tensor "${hf}" has shape ${formatShape(t.shape)}, expected ${formatShape(expected)} from ${HF_CONFIG_FILE}${transposed ? ' (Conv1D layout, in x out)' : ''}`,
        );
      }
      if (transposed) {
        const tmp = reader.read(hf);
        transpose2d(tmp, expected[0]!, expected[1]!, p.data);
      } else if (p.data instanceof Float32Array) {
        reader.readInto(hf, p.data);
      } else {
        p.data.set(reader.read(hf));
      }
    }
    for (const [name, r] of where) {
      if (used.has(name) || IGNORED_BUFFERS.test(name) || (name === 'lm_head.weight' && config.tieEmbeddings)) continue;
      throw new HfModelError(
        `${r.path}: unexpected tensor "${name}" (not a parameter of the ${info.modelType} model that ${HF_CONFIG_FILE} describes)`,
      );
    }
    const model = fill.finish((name, p) => missing(hfName(config.arch, name, prefix), p));
    return { model, config, info, generationConfig: readGenerationConfig(dir), prefix };
  } finally {
    for (const r of readers.values()) r.close();
  }
}
