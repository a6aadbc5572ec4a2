/**
 * Native-vs-reference parity for tests: runs the same op with the same float32 inputs on both backends and
 * compares outputs and input gradients with a mixed absolute/relative tolerance.
 */
import assert from 'node:assert/strict';
import { nativeAvailable, withBackend } from '../../src/backend/index.ts';
import { randn } from '../../src/tensor/creation.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

export const hasNative = nativeAvailable();

export function assertClose(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-5,
): number {
  assert.equal(got.length, want.length, `${name}: length ${got.length} vs ${want.length}`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue;
    const err = Math.abs(g - w);
    worst = Math.max(worst, err);
    if (!(err <= atol + rtol * Math.abs(w)))
      assert.fail(`${name}[${i}]: ${g} vs ${w} (|diff| ${err.toExponential(2)})`);
  }
  return worst;
}

/**
 * Runs f on each backend with fresh copies of the same inputs, backpropagates sum(out * R), and compares.
 */
export function checkParity(
  shapes: (readonly number[])[],
  f: (...xs: Tensor[]) => Tensor,
  opts: { atol?: number; rtol?: number; seed?: number; grad?: boolean; inputs?: () => Tensor[] } = {},
): void {
  const make = opts.inputs ?? (() => shapes.map((s, i) => randn(s, { seed: (opts.seed ?? 7) + i })));
  const run = (name: 'native' | 'reference') =>
    withBackend(name, () => {
      const xs = make().map((t) => new Tensor(t.data.slice(), t.shape, opts.grad ?? true));
      const y = f(...xs);
      const R = randn(y.shape, { seed: 99 });
      if (opts.grad ?? true) y.backward(R);
      return { y, grads: xs.map((x) => x.grad) };
    });
  const a = run('native');
  const b = run('reference');
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-4;
  assertClose('output', a.y.data, b.y.data, atol, rtol);
  a.grads.forEach((g, i) => {
    const r = b.grads[i];
    if (!g || !r) {
      assert.equal(g === null, r === null, `grad ${i}: present on one backend only`);
      return;
    }
    assertClose(`grad ${i}`, g.data, r.data, atol, rtol);
  });
}
