/**
 * The shared shape of an optimizer: parameter groups with per-group option overrides, a learning rate that
 * schedules set each step, zeroGrad, and a step that visits every trainable parameter holding a gradient
 * (frozen parameters and parameters without a gradient are skipped). Subclasses write only the update.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { normalizeGroups, type ParamGroup } from './param-groups.ts';

export abstract class Optimizer<O extends { lr: number }> {
  readonly groups: ParamGroup<O>[];
  readonly defaults: O;

  constructor(name: string, params: Tensor[] | ParamGroup<O>[], defaults: O) {
    this.groups = normalizeGroups(name, params);
    this.defaults = defaults;
  }

  /** Sets the learning rate of every group (schedules call this each step). */
  setLr(lr: number): void {
    this.defaults.lr = lr;
    for (const g of this.groups) if (g.options) delete g.options.lr;
  }

  /** One update from the current gradients; gradScale multiplies every gradient first (clipping). */
  step(gradScale = 1): void {
    for (const group of this.groups) {
      const o = { ...this.defaults, ...group.options };
      for (const p of group.params) {
        if (p.requiresGrad && p.grad) this.update(p, p.grad, o, gradScale);
      }
    }
  }

  /** Clears the gradients of every parameter. */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.grad = null;
  }

  protected abstract update(p: Tensor, grad: Tensor, o: O, gradScale: number): void;
}
