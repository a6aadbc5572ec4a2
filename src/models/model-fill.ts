/**
 * Loading weights into a model built without initialization (`createModel(config, { init: false })`): a
 * `ModelFill` hands out each parameter by name for the loader to overwrite entirely, remembers which ones it handed
 * out, and `finish` returns the model only when every parameter was filled, else throws the loader's error naming
 * the first one left out. So a loader that skips a tensor fails clearly instead of returning zero weights.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { createModel } from './create.ts';
import type { LanguageModel, ModelConfig } from './model.ts';

export class ModelFill {
  readonly model: LanguageModel;
  /** Every parameter of the model by name, in field order (a tied head once, as the embedding). */
  readonly parameters: ReadonlyMap<string, Tensor>;
  private readonly filled = new Set<string>();

  constructor(config: ModelConfig) {
    this.model = createModel(config, { init: false });
    this.parameters = new Map(this.model.namedParameters());
  }

  /** The parameter `name`, counted as filled (the caller overwrites all of its data); undefined when the model has none. */
  take(name: string): Tensor | undefined {
    const p = this.parameters.get(name);
    if (p) this.filled.add(name);
    return p;
  }

  /** The model, once every parameter was taken; otherwise throws `missing(name, parameter)` for the first one left out. */
  finish(missing: (name: string, p: Tensor) => Error): LanguageModel {
    for (const [name, p] of this.parameters) if (!this.filled.has(name)) throw missing(name, p);
    return this.model;
  }
}
