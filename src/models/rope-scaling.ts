/**
 * RoPE inverse frequencies for the Llama family, with the context-extension schemes open checkpoints use:
 * none (base^(-2i/D)), "linear" (every frequency divided by `factor`, i.e. positions interpolated, as older long-
 * context fine-tunes do) and "llama3" (Llama 3.1/3.2: frequencies whose wavelength is longer than
 * originalMaxPositions / lowFreqFactor are divided by `factor`, those shorter than originalMaxPositions /
 * highFreqFactor are kept, and the band between blends the two linearly in originalMaxPositions / wavelength).
 * Also the check of a `ropeScaling` value in a ModelConfig, with one error per mistake.
 */

/** Position interpolation: every inverse frequency divided by `factor`. */
export interface LinearRopeScaling {
  type: 'linear';
  factor: number;
}

/** Llama 3.1 wavelength-band scaling. */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  /** The context length the model was pretrained with before extension (8192 for Llama 3.1). */
  originalMaxPositions: number;
}

export type RopeScaling = LinearRopeScaling | Llama3RopeScaling;

export const ROPE_SCALING_TYPES: readonly RopeScaling['type'][] = ['linear', 'llama3'];

/** The D/2 inverse frequencies of RoPE for head size D, base theta and an optional scaling (float64). */
export function ropeInverseFrequencies(D: number, theta: number, scaling?: RopeScaling): Float64Array {
  if (!(Number.isInteger(D) && D > 0 && D % 2 === 0))
    throw new RangeError(`ropeInverseFrequencies: head size D=${D} must be a positive even integer`);
  const half = D / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) out[i] = theta ** ((-2 * i) / D);
  if (!scaling) return out;
  if (scaling.type === 'linear') return out.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions: n0 } = scaling;
  const longest = n0 / lowFreqFactor; // wavelengths above this are fully interpolated
  const shortest = n0 / highFreqFactor; // wavelengths below this are kept
  return out.map((f) => {
    const wavelength = (2 * Math.PI) / f;
    if (wavelength < shortest) return f;
    if (wavelength > longest) return f / factor;
    const s = (n0 / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor); // 0 at `longest`, 1 at `shortest`
    return (1 - s) * (f / factor) + s * f;
  });
}

function describe(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/**
 * Checks a `ropeScaling` value ({type: "linear", factor} or {type: "llama3", factor, lowFreqFactor, highFreqFactor,
 * originalMaxPositions}) and returns it typed; `fail` throws the caller's error with the message.
 */
export function checkRopeScaling(raw: unknown, fail: (msg: string) => never): RopeScaling {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail(`field "ropeScaling" must be an object {type, factor, ...}, received ${describe(raw)}`);
  const o = raw as Record<string, unknown>;
  const type = o.type;
  if (!ROPE_SCALING_TYPES.includes(type as RopeScaling['type'])) {
    return fail(
      `ropeScaling.type ${describe(type)} is not supported (expected ${ROPE_SCALING_TYPES.map((t) => `"${t}"`).join(' or ')})`,
    );
  }
  const keys =
    type === 'linear'
      ? ['type', 'factor']
      : ['type', 'factor', 'lowFreqFactor', 'highFreqFactor', 'originalMaxPositions'];
  for (const key of Object.keys(o))
    if (!keys.includes(key))
      fail(`ropeScaling: unknown field "${key}" for type "${String(type)}" (known: ${keys.join(', ')})`);
  const positive = (key: string, int = false): number => {
    const v = o[key];
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0 && (!int || Number.isInteger(v))))
      fail(`ropeScaling.${key} must be a positive ${int ? 'integer' : 'number'}, received ${describe(v)}`);
    return v as number;
  };
  const factor = positive('factor');
  if (type === 'linear') return { type, factor };
  const lowFreqFactor = positive('lowFreqFactor');
  const highFreqFactor = positive('highFreqFactor');
  if (!(highFreqFactor > lowFreqFactor))
    fail(`ropeScaling.highFreqFactor ${highFreqFactor} must be greater than lowFreqFactor ${lowFreqFactor}`);
  return {
    type: 'llama3',
    factor,
    lowFreqFactor,
    highFreqFactor,
    originalMaxPositions: positive('originalMaxPositions', true),
  };
}
