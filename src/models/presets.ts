/**
 * Named model sizes (`char-tiny`, `toy`, `gpt-mini`, `gpt2-124m`, `llama-mini`) and `resolveModelConfig`, which
 * turns a preset name or a partial config plus overrides into a complete, validated `ModelConfig`. Presets give only
 * the shape; the architecture's defaults (config.ts) fill the rest, so overriding nEmbd also rescales the MLP width
 * unless mlpHidden is set explicitly. vocabSize is normally overridden with the tokenizer's vocabulary size.
 */
import { completeModelConfig, ModelConfigError, swigluHidden } from './config.ts';
import type { ModelConfig } from './model.ts';

export interface Preset {
  /** One line for `llmforge info` and help texts. */
  description: string;
  config: Partial<ModelConfig>;
}

export const PRESETS: Readonly<Record<string, Preset>> = {
  'char-tiny': {
    description: 'GPT-2 style, 4 layers, 128 dims, context 64: the nanoGPT CPU recipe for char-level text',
    config: { arch: 'gpt2', vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 },
  },
  toy: {
    description: 'GPT-2 style, 4 layers, 192 dims, context 128: a few minutes of CPU training in the demo',
    config: { arch: 'gpt2', vocabSize: 2048, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 192 },
  },
  'gpt-mini': {
    description: 'GPT-2 style, 6 layers, 384 dims, context 256 (~10M parameters without embeddings)',
    config: { arch: 'gpt2', vocabSize: 8192, blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384 },
  },
  'gpt2-124m': {
    description: 'GPT-2 small: 12 layers, 768 dims, 12 heads, context 1024, vocabulary 50257 (124M parameters)',
    config: { arch: 'gpt2', vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768 },
  },
  'llama-mini': {
    description: 'Llama style, 6 layers, 384 dims, 6 heads with 2 key/value heads, SwiGLU 1024, context 256',
    config: { arch: 'llama', vocabSize: 8192, blockSize: 256, nLayer: 6, nHead: 6, nKvHead: 2, nEmbd: 384 },
  },
};

/**
 * A complete config from a preset name (or a partial config) with `overrides` applied on top, validated.
 * Unknown preset names are an error listing the presets.
 */
export function resolveModelConfig(
  nameOrPartial: string | Partial<ModelConfig>,
  overrides: Partial<ModelConfig> = {},
): ModelConfig {
  let base: Partial<ModelConfig>;
  let source: string;
  if (typeof nameOrPartial === 'string') {
    const preset = PRESETS[nameOrPartial];
    if (!preset)
      throw new ModelConfigError(
        `unknown model preset "${nameOrPartial}" (presets: ${Object.keys(PRESETS).join(', ')})`,
      );
    base = preset.config;
    source = `preset ${nameOrPartial}`;
  } else {
    base = nameOrPartial;
    source = 'model config';
  }
  if (Object.keys(overrides).length > 0) source += ` with overrides ${JSON.stringify(overrides)}`;
  const merged = { ...base, ...derivedFollowing(base, overrides, source) } as Partial<ModelConfig>;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  return completeModelConfig(merged, source);
}

/**
 * The fields of `base` that derive from others, redone for the overridden ones (a saved model's config.json holds
 * them all): nKvHead follows a new nHead (equal to it, or the same grouped-query ratio; one that the ratio does not
 * divide needs nKvHead given too), and a default-derived mlpHidden or headDim is re-derived from the new shape.
 * Fields the overrides set themselves are left to them.
 */
function derivedFollowing(
  base: Partial<ModelConfig>,
  overrides: Partial<ModelConfig>,
  source: string,
): { [K in keyof ModelConfig]?: ModelConfig[K] | undefined } {
  const out: { [K in keyof ModelConfig]?: ModelConfig[K] | undefined } = {};
  const nHead = overrides.nHead;
  if (nHead !== undefined && overrides.nKvHead === undefined && base.nKvHead !== undefined && base.nHead) {
    if (base.nKvHead === base.nHead) out.nKvHead = nHead;
    else {
      const group = base.nHead / base.nKvHead;
      if (!Number.isInteger(group) || !Number.isInteger(nHead / group))
        throw new ModelConfigError(
          `${source}: nHead ${nHead} cannot keep the base's ${base.nHead / base.nKvHead} query heads per key/value head (nHead ${base.nHead}, nKvHead ${base.nKvHead}); set nKvHead too`,
        );
      out.nKvHead = nHead / group;
    }
  }
  const shapeChanged = overrides.nEmbd !== undefined || overrides.arch !== undefined;
  if (shapeChanged && overrides.mlpHidden === undefined && base.mlpHidden !== undefined && base.nEmbd !== undefined) {
    const llama = (base.arch ?? 'gpt2') === 'llama';
    if (base.mlpHidden === (llama ? swigluHidden(base.nEmbd) : 4 * base.nEmbd)) out.mlpHidden = undefined;
  }
  if (
    (overrides.nEmbd !== undefined || nHead !== undefined) &&
    overrides.headDim === undefined &&
    base.headDim !== undefined &&
    base.nEmbd !== undefined &&
    base.nHead !== undefined &&
    base.headDim * base.nHead === base.nEmbd
  )
    out.headDim = undefined;
  return out;
}
