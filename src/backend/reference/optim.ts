/**
 * Reference optimizer steps, in place over flat parameter buffers (Backend.adamw, Backend.sgd), with PyTorch
 * semantics. Gradients are read as grad * gradScale, which folds global-norm clipping into the step. AdamW
 * decouples weight decay (p -= lr * wd * p alongside the Adam update, both from the old p); SGD adds the decay
 * to the gradient and keeps a momentum buffer (dampening 0; optional Nesterov).
 */
import type { Backend } from '../backend.ts';

export const adamw: Backend['adamw'] = (param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale) => {
  if (!(step >= 1)) throw new RangeError(`adamw: step = ${step} must be >= 1 (it is 1-based)`);
  const bc1 = 1 - beta1 ** step; // bias corrections
  const bc2 = 1 - beta2 ** step;
  for (let i = 0; i < n; i++) {
    const g = grad[i] * gradScale;
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const mhat = mi / bc1;
    const vhat = vi / bc2;
    const p = param[i];
    param[i] = p - lr * (mhat / (Math.sqrt(vhat) + eps) + weightDecay * p);
  }
};

export const sgd: Backend['sgd'] = (param, grad, buf, n, lr, momentum, weightDecay, nesterov, firstStep, gradScale) => {
  for (let i = 0; i < n; i++) {
    const p = param[i];
    const g = grad[i] * gradScale + weightDecay * p;
    const b = firstStep ? g : momentum * buf[i] + g;
    buf[i] = b;
    param[i] = p - lr * (nesterov ? g + momentum * b : b);
  }
};
