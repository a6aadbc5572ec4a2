/**
 * Gradient checking for tests: compares autograd gradients with central finite differences, both computed in
 * float64 on the reference backend, for a scalar objective sum(f(inputs) * R) with a fixed random R.
 */
import assert from 'node:assert/strict';
import { withFloat64 } from '../../src/backend/index.ts';
import { randn } from '../../src/tensor/creation.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { noGrad } from '../../src/tensor/autograd.ts';

export interface GradcheckOptions {
  eps?: number;
  /** Max allowed |analytic - numeric| / max(1, |numeric|). */
  tol?: number;
  seed?: number;
}

/**
 * makeInputs builds the inputs (inside float64 mode; mark the ones to check with requiresGrad), f computes the
 * op. Throws an assertion error naming the input and element with the worst mismatch.
 */
export function gradcheck(
  makeInputs: () => Tensor[],
  f: (...xs: Tensor[]) => Tensor,
  opts: GradcheckOptions = {},
): { maxError: number } {
  const eps = opts.eps ?? 1e-6;
  const tol = opts.tol ?? 1e-6;
  return withFloat64(() => {
    const inputs = makeInputs();
    const out0 = f(...inputs);
    const R = randn(out0.shape, { seed: opts.seed ?? 123 });
    const objective = (): number => {
      const y = noGrad(() => f(...inputs));
      let s = 0;
      for (let i = 0; i < y.size; i++) s += y.data[i]! * R.data[i]!;
      return s;
    };
    for (const x of inputs) x.grad = null;
    const y = f(...inputs);
    y.backward(R);
    let maxError = 0;
    inputs.forEach((x, idx) => {
      if (!x.requiresGrad) return;
      assert.ok(x.grad, `input ${idx}: no gradient was computed`);
      for (let i = 0; i < x.size; i++) {
        const saved = x.data[i]!;
        x.data[i] = saved + eps;
        const plus = objective();
        x.data[i] = saved - eps;
        const minus = objective();
        x.data[i] = saved;
        const numeric = (plus - minus) / (2 * eps);
        const analytic: number = x.grad!.data[i]!;
        const err = Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric));
        maxError = Math.max(maxError, err);
        if (!(err <= tol)) {
          assert.fail(
            `input ${idx} element ${i}: analytic ${analytic} vs numeric ${numeric} (error ${err.toExponential(2)} > ${tol})`,
          );
        }
      }
    });
    return { maxError };
  });
}
