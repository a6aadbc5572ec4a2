/**
 * The RoPE settings of a Hugging Face Llama-family config.json <-> llmforge's `ropeTheta` and `ropeScaling`.
 * Reading takes `rope_theta` and `rope_scaling` (transformers 4.x) or `rope_parameters` (transformers 5, with
 * rope_theta inside); a scaling "type" or "rope_type" of "default" means none, "linear" needs `factor`, "llama3"
 * needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings. Every other kind (yarn,
 * dynamic, longrope, ...), an unknown key that could change the frequencies and `partial_rotary_factor` other than
 * 1 are an error naming the field. Writing produces the transformers 4.x form (`rope_theta` + `rope_scaling`).
 */
import type { ModelConfig } from '../model.ts';
import { ROPE_SCALING_TYPES, type RopeScaling } from '../rope-scaling.ts';

type Json = Record<string, unknown>;

/** Keys each rope kind may hold in the config (besides type / rope_type). */
const KEYS: Readonly<Record<string, readonly string[]>> = {
  default: [],
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
};

/** ropeTheta and ropeScaling of a Hugging Face config; `fail` throws the caller's error naming the file. */
export function readHfRope(c: Json, fail: (msg: string) => never): { ropeTheta: number; ropeScaling?: RopeScaling } {
  const prf = c.partial_rotary_factor;
  if (prf !== undefined && prf !== null && prf !== 1)
    fail(`partial_rotary_factor ${JSON.stringify(prf)} is not supported (llmforge rotates the whole head)`);
  const field = c.rope_parameters !== undefined && c.rope_parameters !== null ? 'rope_parameters' : 'rope_scaling';
  const raw = c[field];
  const params: Json = raw === undefined || raw === null ? {} : (raw as Json);
  if (typeof params !== 'object' || Array.isArray(params))
    fail(`field "${field}" must be an object or null, received ${JSON.stringify(raw)}`);
  if (Object.values(params).some((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
    fail(
      `${field} ${JSON.stringify(raw)} holds settings per layer type, which llmforge does not support (one RoPE for every layer)`,
    );
  }
  const thetaRaw = params.rope_theta ?? c.rope_theta ?? 10000;
  if (!(typeof thetaRaw === 'number' && Number.isFinite(thetaRaw) && thetaRaw > 0))
    fail(`field "rope_theta" must be a positive number, received ${JSON.stringify(thetaRaw)}`);
  const ropeTheta = thetaRaw as number;
  if (params.rope_type !== undefined && params.type !== undefined && params.rope_type !== params.type) {
    fail(
      `${field} has type ${JSON.stringify(params.type)} and rope_type ${JSON.stringify(params.rope_type)}; they must agree`,
    );
  }
  const kind = params.rope_type ?? params.type ?? 'default';
  const keys = typeof kind === 'string' ? KEYS[kind] : undefined;
  if (keys === undefined) {
    fail(
      `${field} type ${JSON.stringify(kind)} is not supported (llmforge implements plain RoPE and the ${ROPE_SCALING_TYPES.map((t) => `"${t}"`).join(' and ')} scalings)`,
    );
  }
  for (const key of Object.keys(params)) {
    if (key !== 'type' && key !== 'rope_type' && key !== 'rope_theta' && !keys!.includes(key)) {
      fail(
        `${field}: key "${key}" is not supported for type "${String(kind)}" (expected ${['rope_type', ...keys!].join(', ')})`,
      );
    }
  }
  const num = (key: string): number => {
    const v = params[key];
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
      fail(`${field}.${key} must be a positive number, received ${JSON.stringify(v)}`);
    return v as number;
  };
  if (kind === 'default') return { ropeTheta };
  if (kind === 'linear') return { ropeTheta, ropeScaling: { type: 'linear', factor: num('factor') } };
  return {
    ropeTheta,
    ropeScaling: {
      type: 'llama3',
      factor: num('factor'),
      lowFreqFactor: num('low_freq_factor'),
      highFreqFactor: num('high_freq_factor'),
      originalMaxPositions: num('original_max_position_embeddings'),
    },
  };
}

/** The `rope_theta` and `rope_scaling` entries of the Hugging Face config for `cfg`. */
export function hfRopeFields(cfg: ModelConfig): Json {
  const s = cfg.ropeScaling;
  const scaling = !s
    ? null
    : s.type === 'linear'
      ? { rope_type: 'linear', factor: s.factor }
      : {
          rope_type: 'llama3',
          factor: s.factor,
          low_freq_factor: s.lowFreqFactor,
          high_freq_factor: s.highFreqFactor,
          original_max_position_embeddings: s.originalMaxPositions,
        };
  return { rope_theta: cfg.ropeTheta, rope_scaling: scaling };
}
