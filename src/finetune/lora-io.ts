/**
 * LoRA adapters on disk in Hugging Face PEFT's layout, so an adapter trained here loads with `PeftModel.from_pretrained`
 * and one trained with PEFT loads here: a directory with `adapter_config.json` (peft_type LORA, r, lora_alpha,
 * lora_dropout, target_modules, bias "none", fan_in_fan_out true for GPT-2's Conv1D layers) and
 * `adapter_model.safetensors` holding `base_model.model.<HF module path>.lora_A.weight` (r, in) and `.lora_B.weight`
 * (out, r). HF module paths come from the checkpoint name mapping (GPT-2 gains `transformer.`, Llama keeps
 * `model.`); PEFT stores A and B in nn.Linear layout even for Conv1D, as we do, so no transposition is needed.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import type { LanguageModel } from '../models/model.ts';
import { exportPrefix, hfName } from '../models/hf/tensor-names.ts';
import { applyLora, loraLayers, type LoraSummary } from '../nn/lora.ts';
import { UserError } from '../util/user-error.ts';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** The fields of PEFT's LoraConfig that llmforge writes and reads. */
export interface PeftLoraConfig {
  peft_type: 'LORA';
  task_type: string;
  base_model_name_or_path: string;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  bias: 'none';
  fan_in_fan_out: boolean;
  inference_mode: boolean;
  modules_to_save: null;
}

/** PEFT's tensor-name stem for the LoRA layer at llmforge module path `path` (`base_model.model.transformer.h.0.attn.c_attn`). */
export function peftModuleName(model: LanguageModel, path: string): string {
  const arch = model.config.arch;
  const hf = hfName(arch, `${path}.weight`, exportPrefix(arch));
  return `base_model.model.${hf.slice(0, -'.weight'.length)}`;
}

/**
 * Writes the model's LoRA layers (only the adapter, not the base) to `dir` in PEFT's layout. `targets` are the
 * target_modules recorded in the config (those given to applyLora); `baseModel` names the base checkpoint.
 */
export function saveLoraAdapter(
  dir: string,
  model: LanguageModel,
  info: { targets: readonly string[]; baseModel?: string },
): PeftLoraConfig {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new UserError('saveLoraAdapter: the model has no LoRA layers; call applyLora first');
  const first = layers[0]![1];
  if (layers.some(([, l]) => l.merged))
    throw new UserError('saveLoraAdapter: LoRA layers are merged into the base; unmerge before saving the adapter');
  const config: PeftLoraConfig = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: info.baseModel ?? '',
    r: first.r,
    lora_alpha: first.alpha,
    lora_dropout: first.p,
    target_modules: [...info.targets],
    bias: 'none',
    fan_in_fan_out: model.config.arch === 'gpt2',
    inference_mode: true,
    modules_to_save: null,
  };
  mkdirSync(dir, { recursive: true });
  const tensors = layers.flatMap(([path, l]) => {
    const stem = peftModuleName(model, path);
    return [
      { name: `${stem}.lora_A.weight`, shape: l.lora_A.shape, data: l.lora_A.data },
      { name: `${stem}.lora_B.weight`, shape: l.lora_B.shape, data: l.lora_B.data },
    ];
  });
  writeSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
  writeFileSync(join(dir, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

/** Reads and checks `adapter_config.json` in `dir`. */
export function readLoraConfig(dir: string): PeftLoraConfig {
  const file = join(dir, ADAPTER_CONFIG);
  if (!existsSync(file))
    throw new UserError(
      `${file}: not found; expected a PEFT adapter directory with ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS}`,
    );
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  const need = (key: string, ok: boolean, expected: string): void => {
    if (!ok) throw new UserError(`${file}: field '${key}' must be ${expected}, received ${JSON.stringify(raw[key])}`);
  };
  need('peft_type', raw.peft_type === 'LORA', "'LORA'");
  need('r', Number.isInteger(raw.r) && (raw.r as number) > 0, 'a positive integer');
  need('lora_alpha', typeof raw.lora_alpha === 'number' && raw.lora_alpha > 0, 'a positive number');
  const targets = raw.target_modules;
  need(
    'target_modules',
    Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string'),
    'a non-empty list of module names',
  );
  need('bias', raw.bias === undefined || raw.bias === 'none', "'none' (bias training is not supported)");
  need('use_rslora', raw.use_rslora === undefined || raw.use_rslora === false, 'false (rsLoRA is not supported)');
  need('use_dora', raw.use_dora === undefined || raw.use_dora === false, 'false (DoRA is not supported)');
  const dropout = raw.lora_dropout ?? 0;
  need('lora_dropout', typeof dropout === 'number' && dropout >= 0 && dropout < 1, 'a number in [0, 1)');
  return {
    peft_type: 'LORA',
    task_type: typeof raw.task_type === 'string' ? raw.task_type : 'CAUSAL_LM',
    base_model_name_or_path: typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : '',
    r: raw.r as number,
    lora_alpha: raw.lora_alpha as number,
    lora_dropout: dropout as number,
    target_modules: targets as string[],
    bias: 'none',
    fan_in_fan_out: raw.fan_in_fan_out === true,
    inference_mode: raw.inference_mode !== false,
    modules_to_save: null,
  };
}

/**
 * Applies the adapter in `dir` to a base model without LoRA layers: wraps the config's target modules and fills A
 * and B from the safetensors file. Missing, unexpected or mis-shaped tensors are user errors naming the tensor.
 */
export function loadLoraAdapter(dir: string, model: LanguageModel): LoraSummary & { config: PeftLoraConfig } {
  const config = readLoraConfig(dir);
  const file = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(file))
    throw new UserError(`${file}: not found; expected the adapter weights next to ${ADAPTER_CONFIG}`);
  const summary = applyLora(model, {
    r: config.r,
    alpha: config.lora_alpha,
    dropout: config.lora_dropout,
    targets: config.target_modules,
  });
  readLoraWeights(dir, model);
  return { ...summary, config };
}

/**
 * Copies A and B from `dir`'s adapter_model.safetensors into the model's existing LoRA layers (a resumed run's
 * adapter, say). Missing, unexpected or mis-shaped tensors are user errors naming the tensor.
 */
export function readLoraWeights(dir: string, model: LanguageModel): void {
  const file = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(file))
    throw new UserError(`${file}: not found; expected the adapter weights next to ${ADAPTER_CONFIG}`);
  const { tensors } = readSafetensors(file);
  const used = new Set<string>();
  for (const [path, layer] of loraLayers(model)) {
    const stem = peftModuleName(model, path);
    for (const [suffix, dst] of [
      ['lora_A', layer.lora_A],
      ['lora_B', layer.lora_B],
    ] as const) {
      const name = `${stem}.${suffix}.weight`;
      const entry = tensors.get(name) ?? tensors.get(`${stem}.${suffix}.default.weight`);
      if (!entry) throw new UserError(`${file}: tensor '${name}' is missing (target '${path}')`);
      if (entry.shape.length !== 2 || entry.shape[0] !== dst.shape[0] || entry.shape[1] !== dst.shape[1]) {
        throw new UserError(
          `${file}: tensor '${name}' has shape [${entry.shape.join(', ')}], expected [${dst.shape.join(', ')}]`,
        );
      }
      dst.data.set(entry.data);
      used.add(tensors.has(name) ? name : `${stem}.${suffix}.default.weight`);
    }
  }
  const extra = [...tensors.keys()].filter((n) => !used.has(n));
  if (extra.length > 0)
    throw new UserError(
      `${file}: tensor '${extra[0]}' matches no LoRA layer of this model (${extra.length} unexpected tensors)`,
    );
}
