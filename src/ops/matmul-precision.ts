/**
 * The matmul precision switch: 'fp32' (the default) runs every GEMM of `matmul` and `linear` in float32;
 * 'bf16' is mixed precision like PyTorch's CPU autocast: the GEMM operands (activations, weights and, in the
 * backward, gradients) are rounded to bfloat16 inside the kernel's packing and the products are accumulated in
 * fp32, while parameters, gradients, optimizer state and every other op stay fp32. About 1.2-1.5x faster
 * GEMMs on CPUs with AVX512_BF16, at bf16 rounding error (~3 significant digits per operand). Set it with
 * LLMFORGE_MATMUL=fp32|bf16 in the environment or with `setMatmulPrecision`; training runs set it for their
 * duration from their `precision` setting (src/train/precision.ts: auto|fp32|bf16). Float64 mode (gradient
 * checks) always runs fp32.
 */
import { UserError } from '../util/user-error.ts';

export type MatmulPrecision = 'fp32' | 'bf16';
const PRECISIONS: readonly MatmulPrecision[] = ['fp32', 'bf16'];

function fromEnv(): MatmulPrecision {
  const v = process.env.LLMFORGE_MATMUL;
  if (v === undefined || v === '') return 'fp32';
  if ((PRECISIONS as readonly string[]).includes(v)) return v as MatmulPrecision;
  throw new UserError(`LLMFORGE_MATMUL: expected one of ${PRECISIONS.join(', ')}, received '${v}'`);
}

let current: MatmulPrecision | null = null;

/** The precision GEMMs run in now (read from LLMFORGE_MATMUL on first use). */
export function matmulPrecision(): MatmulPrecision {
  if (current === null) current = fromEnv();
  return current;
}

/** Sets the precision for subsequent matmuls; a backward pass runs in the precision its forward ran in. */
export function setMatmulPrecision(p: MatmulPrecision): void {
  if (!PRECISIONS.includes(p))
    throw new RangeError(`setMatmulPrecision: expected one of ${PRECISIONS.join(', ')}, received '${String(p)}'`);
  current = p;
}

/** Runs fn with the given matmul precision, restoring the previous one afterwards. */
export function withMatmulPrecision<T>(p: MatmulPrecision, fn: () => T): T {
  const saved = matmulPrecision();
  setMatmulPrecision(p);
  try {
    return fn();
  } finally {
    current = saved;
  }
}
