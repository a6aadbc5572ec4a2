/**
 * The training precision setting: 'fp32' runs every GEMM in float32; 'bf16' is mixed precision (GEMM operands
 * rounded to bfloat16, fp32 accumulation; weights, gradients, optimizer state and all other ops stay fp32, see
 * src/ops/matmul-precision.ts); 'auto' picks bf16 when this CPU has fast native bf16 dot products (AMX-BF16 or
 * AVX512_BF16, as detected by the native backend and shown by `llmforge doctor`) and fp32 otherwise. Order: an
 * explicit fp32/bf16 wins; for 'auto', LLMFORGE_MATMUL (when set) decides before the CPU does. A training run
 * applies its resolved precision for its own duration and restores the previous one afterwards.
 */
import { backend, cpuInfo } from '../backend/index.ts';
import { matmulPrecision, setMatmulPrecision, type MatmulPrecision } from '../ops/matmul-precision.ts';
import { UserError } from '../util/user-error.ts';

export type PrecisionSetting = 'auto' | MatmulPrecision;
export const PRECISION_SETTINGS: readonly PrecisionSetting[] = ['auto', 'fp32', 'bf16'];

/** Whether bf16 GEMMs are fast here, and the instruction set (or the reason they are not). */
export interface Bf16Capability {
  fast: boolean;
  /** 'AMX-BF16', 'AVX512_BF16', or why not (e.g. 'no AMX-BF16 or AVX512_BF16 on this CPU'). */
  via: string;
}

/** The resolved precision of a run and how it was chosen. */
export interface ResolvedPrecision {
  precision: MatmulPrecision;
  setting: PrecisionSetting;
  /** 'explicit', 'LLMFORGE_MATMUL' (auto, decided by the environment) or 'auto' (decided by the CPU). */
  source: 'explicit' | 'LLMFORGE_MATMUL' | 'auto';
  /** Human-readable reason, e.g. 'auto: AMX-BF16'. */
  why: string;
}

class PrecisionError extends UserError {}

/** The bf16 capability of the active backend on this CPU (the native kernels' dispatch, as `llmforge doctor` shows). */
export function detectBf16(): Bf16Capability {
  if (backend().name !== 'native')
    return { fast: false, via: `the ${backend().name} backend has no native bf16 kernels` };
  const cpu = cpuInfo();
  if (cpu === null) return { fast: false, via: 'the native addon reports no CPU features' };
  if (cpu.isa !== 'avx512') return { fast: false, via: `kernels dispatch to ${cpu.isa}, not avx512` };
  if (cpu.amxBf16) return { fast: true, via: 'AMX-BF16' };
  if (cpu.avx512bf16) return { fast: true, via: 'AVX512_BF16' };
  return { fast: false, via: 'no AMX-BF16 or AVX512_BF16 on this CPU' };
}

/** Checks a precision value from a flag, option or file; `where` names it in the one-line error. */
export function parsePrecisionSetting(value: unknown, where: string): PrecisionSetting {
  if (typeof value === 'string' && (PRECISION_SETTINGS as readonly string[]).includes(value))
    return value as PrecisionSetting;
  throw new PrecisionError(
    `${where}: expected one of ${PRECISION_SETTINGS.join(', ')}, received ${JSON.stringify(value)}`,
  );
}

/**
 * The precision a run uses for `setting`. `env` defaults to process.env.LLMFORGE_MATMUL and `capability` to
 * detectBf16(); both can be injected (tests).
 */
export function resolvePrecision(
  setting: PrecisionSetting,
  opts: { env?: string | undefined; capability?: Bf16Capability } = {},
): ResolvedPrecision {
  parsePrecisionSetting(setting, 'precision');
  if (setting !== 'auto') return { precision: setting, setting, source: 'explicit', why: 'explicit' };
  const env = 'env' in opts ? opts.env : process.env.LLMFORGE_MATMUL;
  if (env !== undefined && env !== '') {
    if (env !== 'fp32' && env !== 'bf16')
      throw new PrecisionError(`LLMFORGE_MATMUL: expected one of fp32, bf16, received '${env}'`);
    return { precision: env, setting, source: 'LLMFORGE_MATMUL', why: `auto: LLMFORGE_MATMUL=${env}` };
  }
  const cap = opts.capability ?? detectBf16();
  return { precision: cap.fast ? 'bf16' : 'fp32', setting, source: 'auto', why: `auto: ${cap.via}` };
}

/** 'bf16 matmuls (auto: AMX-BF16)': how a run's first line names its precision. */
export function describePrecision(r: ResolvedPrecision): string {
  return `${r.precision} matmuls${r.source === 'explicit' ? '' : ` (${r.why})`}`;
}

/** Runs the async `fn` with GEMMs in `precision`, restoring the previous precision afterwards (also on error). */
export async function withTrainPrecision<T>(precision: MatmulPrecision, fn: () => Promise<T>): Promise<T> {
  const saved = matmulPrecision();
  setMatmulPrecision(precision);
  try {
    return await fn();
  } finally {
    setMatmulPrecision(saved);
  }
}
