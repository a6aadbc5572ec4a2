/**
 * Reverse-mode autograd: the grad-mode switch (`noGrad`), the helper every op uses to record itself
 * (`record`), and the backward pass (`runBackward`), which walks the graph in reverse topological order,
 * accumulates gradients for leaves that require them, and frees intermediate gradients as soon as they are used.
 */
import { backend, Binary, isFloat64 } from '../backend/index.ts';
import { activeArena, GradStorage } from './arena.ts';
import { allocUninit, type GradNode, type Tensor } from './tensor.ts';
import { formatShape, sameShape } from './shape.ts';

let gradEnabled = true;

/** True when ops record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording the graph (inference, optimizer updates, reference models). */
export function noGrad<T>(fn: () => T): T {
  const saved = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = saved;
  }
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(...inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

/**
 * Attaches a GradNode to `out` when grad mode is on and an input requires grad. Ops call this right after
 * computing their forward, with the backward closure written beside it.
 */
export function record(
  out: Tensor,
  op: string,
  inputs: readonly Tensor[],
  backward: (gradOut: Tensor) => (Tensor | null)[],
): Tensor {
  if (needsGrad(...inputs)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward } satisfies GradNode;
  }
  return out;
}

/** A new tensor of t's shape and precision with unspecified contents, not part of any graph. */
function emptyLike(t: Tensor): Tensor {
  const out = t.detach();
  if (t.data instanceof Float64Array) out.data = new Float64Array(t.size);
  else out.data = isFloat64() ? new Float32Array(t.size) : allocUninit(t.size);
  return out;
}

/** out = a + b, elementwise over same-shape storages (out may alias a). */
function addInto(a: Tensor, b: Tensor, out: Tensor): Tensor {
  const shape = Int32Array.of(a.size);
  const one = Int32Array.of(1);
  backend().binary(Binary.add, a.data, one, b.data, one, out.data, shape);
  return out;
}

export function runBackward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(
      'backward: this tensor does not require grad (no parameter with requiresGrad was used to compute it, or it was computed under noGrad)',
    );
  }
  let seed: Tensor;
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new RangeError(
        `backward: output of shape ${formatShape(root.shape)} is not a scalar; pass the gradient explicitly`,
      );
    }
    const ones = root.data.slice();
    ones.fill(1);
    seed = new (root.constructor as typeof Tensor)(ones, root.shape);
  } else {
    if (!sameShape(grad.shape, root.shape)) {
      throw new RangeError(
        `backward: gradient shape ${formatShape(grad.shape)} does not match output shape ${formatShape(root.shape)}`,
      );
    }
    seed = grad;
  }

  // Topological order (iterative DFS: deep graphs must not overflow the stack).
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.node ? t.node.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i]!;
      if (child.node && child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  const grads = new Map<Tensor, Tensor>();
  grads.set(root, seed);
  // Storage buffers already in use by some gradient during this pass. A backward may hand its output gradient
  // (or a view of it) straight to several inputs, so a leaf takes ownership of a buffer only if nothing else
  // holds it; otherwise it gets a copy. This keeps in-place accumulation into leaves safe without a copy per
  // parameter per step.
  const inUse = new Set<ArrayBufferLike>([seed.data.buffer]);
  const arena = activeArena();
  const storage = arena ? new GradStorage(arena) : null;
  storage?.hold(seed.data);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.node!;
      const inputGrads = node.backward(g);
      const consumed: Tensor[] = [g]; // gradients this step no longer needs (released once unreferenced)
      storage?.ref(g.data, -1);
      node.inputs.forEach((input, j) => {
        const ig = inputGrads[j];
        if (!ig) return;
        consumed.push(ig);
        if (!input.requiresGrad) return;
        if (!sameShape(ig.shape, input.shape)) {
          throw new Error(
            `backward of ${node.op}: gradient for input ${j} has shape ${formatShape(ig.shape)}, expected ${formatShape(input.shape)}`,
          );
        }
        if (input.node) {
          // Intermediate gradients may alias each other (an op can pass its output gradient straight through
          // to several inputs), so they are summed out of place.
          const prev = grads.get(input);
          const sum = prev ? addInto(prev, ig, emptyLike(prev)) : ig;
          if (prev) {
            storage?.ref(prev.data, -1);
            consumed.push(prev);
          }
          storage?.ref(sum.data, 1);
          inUse.add(sum.data.buffer);
          grads.set(input, sum);
        } else if (input.grad) {
          addInto(input.grad, ig, input.grad);
        } else if (inUse.has(ig.data.buffer)) {
          input.grad = ig.clone();
        } else {
          inUse.add(ig.data.buffer);
          input.grad = ig.detach();
          storage?.hold(ig.data);
          arena?.pinGrad(input, ig.data);
        }
      });
      if (storage) for (const c of consumed) storage.drop(c.data);
    }
  });
}
