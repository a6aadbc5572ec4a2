/**
 * LoRA (low-rank adaptation): `LoraLinear` wraps a frozen `Linear` and adds a trainable low-rank update,
 * y = base(x) + (alpha / r) * dropout(x) A^T B^T with A (r, in) drawn Kaiming-uniform-like and B (out, r) zeros, so
 * a fresh adapter leaves the model's outputs unchanged. `applyLora` freezes a model and swaps the Linear fields
 * whose module path matches a target (a field name such as `c_attn`, or a dotted suffix such as `mlp.c_proj`, the
 * way PEFT matches `target_modules`); the wrapper keeps the base `weight` and `bias` fields, so base parameter names
 * are unchanged and the adapter adds `<path>.lora_A` and `<path>.lora_B`. Merge folds the update into the base
 * weight (for inference at base speed), unmerge subtracts it again.
 */
import { uniform, zeros } from '../tensor/creation.ts';
import { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import * as F from '../ops/index.ts';
import { Linear } from './layers.ts';
import { Module, parameter } from './module.ts';
import { UserError } from '../util/user-error.ts';

export interface LoraOptions {
  /** Rank r of the update (a positive integer). */
  r: number;
  /** Scaling numerator: the update is multiplied by alpha / r. */
  alpha: number;
  /** Dropout probability on the adapter's input (training mode only); 0 disables. */
  dropout?: number;
  /** Module names or dotted suffixes of the Linear layers to adapt (`c_attn`, `mlp.c_proj`, `q_proj`). */
  targets: readonly string[];
  /** Generator for A's initial values (default: seed 0). */
  rng?: Rng;
}

export class LoraLinear extends Module {
  /** The base layer's weight (out, in), frozen by applyLora; same tensor object as the wrapped Linear's. */
  weight: Tensor;
  bias: Tensor | null;
  /** Down projection (r, in). */
  lora_A: Tensor;
  /** Up projection (out, r), zeros at creation. */
  lora_B: Tensor;
  readonly r: number;
  readonly alpha: number;
  readonly p: number;
  /** True while the update is folded into `weight` (forward then skips the adapter path). */
  merged = false;
  /** True while the adapter is switched off (withLoraDisabled): forward computes the base Linear alone. */
  disabled = false;
  /**
   * Seed of the next dropout mask (Linear.forward takes no seed, so the layer advances its own); trainers reset it
   * every step with seedLoraDropout so the masks depend on the step, not on how many forwards ran before.
   */
  dropoutSeed: number;

  constructor(base: Linear, opts: { r: number; alpha: number; dropout?: number; rng?: Rng; seed?: number }) {
    super();
    const [out, inF] = base.weight.shape as [number, number];
    this.weight = base.weight;
    this.bias = base.bias;
    this.r = opts.r;
    this.alpha = opts.alpha;
    this.p = opts.dropout ?? 0;
    const bound = 1 / Math.sqrt(inF); // kaiming_uniform_(a=sqrt(5)) as PyTorch's nn.Linear and PEFT use
    this.lora_A = parameter(uniform([opts.r, inF], -bound, bound, { rng: opts.rng ?? new Rng(0) }));
    this.lora_B = parameter(zeros([out, opts.r]));
    this.dropoutSeed = opts.seed ?? 0;
    this.training = base.training;
  }

  /** alpha / r. */
  get scale(): number {
    return this.alpha / this.r;
  }

  /** One fused op (F.loraLinear): the adapter's product accumulates into the base output, no (..., out) temporaries. */
  forward(x: Tensor): Tensor {
    if (this.merged || this.disabled) return F.linear(x, this.weight, this.bias); // (..., out)
    let h = x;
    if (this.training && this.p > 0) {
      this.dropoutSeed += 7919;
      h = F.dropout(x, this.p, this.dropoutSeed);
    }
    return F.loraLinear(x, this.weight, this.bias, this.lora_A, this.lora_B, this.scale, h); // (..., out)
  }

  /** Folds scale * B A into the base weight; a no-op when already merged. */
  merge(): void {
    if (this.merged) return;
    this.addDelta(1);
    this.merged = true;
  }

  /** Subtracts the folded update again; a no-op when not merged. */
  unmerge(): void {
    if (!this.merged) return;
    this.addDelta(-1);
    this.merged = false;
  }

  private addDelta(sign: number): void {
    const [out, inF] = this.weight.shape as [number, number];
    const r = this.r;
    const w = this.weight.data;
    const a = this.lora_A.data;
    const b = this.lora_B.data;
    const s = sign * this.scale;
    const row = new Float64Array(inF);
    for (let o = 0; o < out; o++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const bok = b[o * r + k]!;
        if (bok === 0) continue;
        const ak = k * inF;
        for (let i = 0; i < inF; i++) row[i]! += bok * a[ak + i]!;
      }
      const wo = o * inF;
      for (let i = 0; i < inF; i++) w[wo + i] = w[wo + i]! + s * row[i]!;
    }
  }
}

export interface LoraSummary {
  /** Module paths that were wrapped, in model order (`h.0.attn.c_attn`). */
  modules: string[];
  /** Trainable parameter elements (requiresGrad) after applying. */
  trainable: number;
  /** All parameter elements, base and adapter. */
  total: number;
}

/** Whether module `path` is selected by `target` (equal, or a suffix after a dot, as PEFT matches). */
export function matchesTarget(path: string, target: string): boolean {
  return path === target || path.endsWith(`.${target}`);
}

/** Every Linear (or LoraLinear) field of the module tree with its dotted path, and the parent slot holding it. */
function linearSlots(
  root: Module,
): { path: string; parent: Record<string, unknown> | unknown[]; key: string | number; layer: Linear | LoraLinear }[] {
  const out: {
    path: string;
    parent: Record<string, unknown> | unknown[];
    key: string | number;
    layer: Linear | LoraLinear;
  }[] = [];
  const visit = (mod: Module, prefix: string): void => {
    for (const [k, v] of Object.entries(mod)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (v instanceof Linear || v instanceof LoraLinear)
        out.push({ path, parent: mod as unknown as Record<string, unknown>, key: k, layer: v });
      else if (v instanceof Module) visit(v, path);
      else if (Array.isArray(v)) {
        v.forEach((item, i) => {
          if (item instanceof Module) visit(item, `${path}.${i}`);
        });
      }
    }
  };
  visit(root, '');
  return out;
}

/**
 * Freezes every parameter of `model` and wraps each targeted Linear in a LoraLinear (only A and B train).
 * Throws a user error for a bad rank, alpha or dropout, for a target that matches no Linear, or for a model that
 * already carries LoRA layers.
 */
export function applyLora(model: Module, opts: LoraOptions): LoraSummary {
  if (!Number.isInteger(opts.r) || opts.r < 1)
    throw new UserError(`applyLora: r must be a positive integer, received ${opts.r}`);
  if (!Number.isFinite(opts.alpha) || opts.alpha <= 0)
    throw new UserError(`applyLora: alpha must be a positive number, received ${opts.alpha}`);
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new UserError(`applyLora: dropout must be in [0, 1), received ${p}`);
  if (opts.targets.length === 0)
    throw new UserError('applyLora: targets is empty; expected module names such as c_attn or q_proj');
  const slots = linearSlots(model);
  if (slots.some((s) => s.layer instanceof LoraLinear))
    throw new UserError('applyLora: the model already has LoRA layers; merge or load onto a fresh base');
  for (const t of opts.targets) {
    if (!slots.some((s) => matchesTarget(s.path, t))) {
      const names = [
        ...new Set(
          slots.map((s) =>
            s.path
              .split('.')
              .filter((part) => !/^\d+$/.test(part))
              .slice(-2)
              .join('.'),
          ),
        ),
      ];
      throw new UserError(`applyLora: target '${t}' matches no Linear layer; expected one of: ${names.join(', ')}`);
    }
  }
  model.requiresGrad(false);
  const rng = opts.rng ?? new Rng(0);
  const modules: string[] = [];
  slots.forEach((s, i) => {
    if (!opts.targets.some((t) => matchesTarget(s.path, t))) return;
    const lora = new LoraLinear(s.layer as Linear, { r: opts.r, alpha: opts.alpha, dropout: p, rng, seed: i * 104729 });
    (s.parent as Record<string | number, unknown>)[s.key] = lora;
    modules.push(s.path);
  });
  return { modules, ...trainableParameters(model) };
}

/** The LoRA layers of a model with their module paths, in model order. */
export function loraLayers(model: Module): [string, LoraLinear][] {
  return linearSlots(model).flatMap((s) =>
    s.layer instanceof LoraLinear ? [[s.path, s.layer] as [string, LoraLinear]] : [],
  );
}

/** Trainable (requiresGrad) and total parameter elements; `trainable / total` is the trainable share. */
export function trainableParameters(model: Module): { trainable: number; total: number } {
  let trainable = 0;
  let total = 0;
  for (const p of model.parameters()) {
    total += p.size;
    if (p.requiresGrad) trainable += p.size;
  }
  return { trainable, total };
}

/**
 * Seeds every adapter's dropout for the next forward from a per-step seed (e.g. trainer's dropoutSeedFor(seed,
 * step, micro)) and the layer's position, so a run resumed at step k draws the same masks as one run straight.
 */
export function seedLoraDropout(model: Module, seed: number): void {
  loraLayers(model).forEach(([, l], i) => {
    l.dropoutSeed = (seed + Math.imul(i + 1, 104729)) | 0;
  });
}

/** Folds every adapter into its base weight. */
export function mergeLora(model: Module): void {
  for (const [, l] of loraLayers(model)) l.merge();
}

/**
 * Runs `fn` with every adapter switched off, so the model computes its frozen base (a DPO reference pass without a
 * second copy of the weights); adapters must not be merged (their update would stay in the base weight).
 */
export function withLoraDisabled<T>(model: Module, fn: () => T): T {
  const layers = loraLayers(model).map(([, l]) => l);
  if (layers.some((l) => l.merged))
    throw new Error('withLoraDisabled: the model has merged adapters; unmerge them first');
  for (const l of layers) l.disabled = true;
  try {
    return fn();
  } finally {
    for (const l of layers) l.disabled = false;
  }
}

/** Takes every folded adapter back out of its base weight. */
export function unmergeLora(model: Module): void {
  for (const [, l] of loraLayers(model)) l.unmerge();
}
