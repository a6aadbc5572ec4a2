/**
 * Normalization over the last dimension: LayerNorm (GPT-2) and RMSNorm (Llama). The forward saves per-row
 * statistics (mean, rstd) that the backward reuses, as in llm.c.
 */
import { backend } from '../backend/index.ts';
import { record } from '../tensor/autograd.ts';
import { formatShape } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { empty, emptyUninit } from './util.ts';

function rowsOf(op: string, x: Tensor, weight: Tensor): [number, number] {
  const C = x.shape[x.ndim - 1] ?? 0;
  if (weight.ndim !== 1 || weight.shape[0] !== C) {
    throw new RangeError(
      `${op}: weight ${formatShape(weight.shape)} must be [${C}] to match x ${formatShape(x.shape)}`,
    );
  }
  return [x.size / Math.max(C, 1), C];
}

export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const [N, C] = rowsOf('layerNorm', x, weight);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== C))
    throw new RangeError(`layerNorm: bias ${formatShape(bias.shape)} must be [${C}]`);
  const out = emptyUninit(x.shape);
  const mean = emptyUninit([N]);
  const rstd = emptyUninit([N]);
  backend().layerNorm(x.data, weight.data, bias ? bias.data : null, out.data, mean.data, rstd.data, N, C, eps);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, 'layerNorm', inputs, (g) => {
    const dx = emptyUninit(x.shape);
    const dw = empty(weight.shape); // accumulated (+=) by the kernel
    const db = bias ? empty(bias.shape) : null;
    backend().layerNormBackward(
      g.data,
      x.data,
      weight.data,
      mean.data,
      rstd.data,
      dx.data,
      dw.data,
      db ? db.data : null,
      N,
      C,
    );
    return db ? [dx, dw, db] : [dx, dw];
  });
}

export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const [N, C] = rowsOf('rmsNorm', x, weight);
  const out = emptyUninit(x.shape);
  const rstd = emptyUninit([N]);
  backend().rmsNorm(x.data, weight.data, out.data, rstd.data, N, C, eps);
  return record(out, 'rmsNorm', [x, weight], (g) => {
    const dx = emptyUninit(x.shape);
    const dw = empty(weight.shape); // accumulated (+=) by the kernel
    backend().rmsNormBackward(g.data, x.data, weight.data, rstd.data, dx.data, dw.data, N, C);
    return [dx, dw];
  });
}
