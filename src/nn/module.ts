/**
 * Module: the base of every layer and model. Parameters are found by walking the object's own fields (tensors,
 * sub-modules, arrays of sub-modules), so names follow the field structure (`h.0.attn.c_attn.weight`) with no
 * registration calls. Also the train/eval switch and freezing helpers (LoRA and reference models need them).
 */
import { Tensor } from '../tensor/tensor.ts';

export abstract class Module {
  /** Dropout and other train-only behaviour is active when true. */
  training = true;

  /** Every parameter tensor with its dotted name, in field order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const visit = (value: unknown, name: string): void => {
      if (value instanceof Tensor) {
        if (!seen.has(value)) {
          seen.add(value);
          out.push([name, value]);
        }
      } else if (value instanceof Module) {
        for (const [k, v] of Object.entries(value)) if (k !== 'training') visit(v, name ? `${name}.${k}` : k);
      } else if (Array.isArray(value) && value.some((v) => v instanceof Module)) {
        value.forEach((v, i) => {
          visit(v, name ? `${name}.${i}` : String(i));
        });
      }
    };
    visit(this, prefix);
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Total number of parameter elements (shared tensors counted once). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Sets training mode on this module and every sub-module. */
  train(mode = true): this {
    const visit = (value: unknown): void => {
      if (value instanceof Module) {
        value.training = mode;
        for (const v of Object.values(value)) visit(v);
      } else if (Array.isArray(value)) {
        value.forEach(visit);
      }
    };
    visit(this);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Freezes (requiresGrad = false) or unfreezes every parameter. */
  requiresGrad(flag: boolean): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }
}

/** Marks a tensor as a trainable parameter with a name hint. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}
