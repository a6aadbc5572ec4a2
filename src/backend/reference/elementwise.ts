/**
 * Reference contiguous elementwise kernels over n elements: scalar affine map, scalar power, select by a
 * condition mask and masked fill (Backend.affine, powScalar, where, maskedFill). All of them are safe in place
 * (out === x), which the autograd layer uses for in-place scalar ops.
 */
import type { Backend } from '../backend.ts';

export const affine: Backend['affine'] = (x, out, n, mul, add) => {
  for (let i = 0; i < n; i++) out[i] = x[i] * mul + add;
};

export const powScalar: Backend['powScalar'] = (x, out, n, p) => {
  for (let i = 0; i < n; i++) out[i] = x[i] ** p;
};

export const where: Backend['where'] = (cond, a, b, out, n) => {
  for (let i = 0; i < n; i++) out[i] = cond[i] !== 0 ? a[i] : b[i];
};

export const maskedFill: Backend['maskedFill'] = (x, mask, value, out, n) => {
  for (let i = 0; i < n; i++) out[i] = mask[i] !== 0 ? value : x[i];
};
