/**
 * The stage registry: a recipe stage's `type` names a registered `StageType`, which declares its parameters, the
 * artifacts it leaves under its directory (`outputs`) and how to produce them (`run`). The registry is open:
 * later stages (fine-tuning, alignment, evaluation) register themselves the same way, and tests register cheap
 * fake types.
 */
import type { ParamSchema, ParamsOf } from './schema.ts';

export interface StageContext {
  /** The run's output directory (the recipe's `out`). */
  readonly out: string;
  /** This stage's directory, `<out>/<name>`; the stage writes its artifacts here. */
  readonly dir: string;
  /** The stage's name in the recipe. */
  readonly name: string;
  /** The recipe's seed. */
  readonly seed: number;
  /** True when a run of this stage with the same parameters was interrupted: its directory was kept to resume. */
  readonly resuming: boolean;
  /**
   * The path of an artifact: when `ref` names an earlier stage, that stage's output of kind `kind`; otherwise
   * `ref` itself, as a path.
   */
  input(ref: string, kind: string): string;
  /** Writes a line of the stage's report to the run's output. */
  log(line: string): void;
  /** Set when output should be minimal (tests). */
  readonly quiet: boolean;
}

export interface StageType<S extends ParamSchema = ParamSchema> {
  /** The name used as `type:` in recipes. */
  readonly type: string;
  readonly summary: string;
  readonly params: S;
  /**
   * Parameters that refer to an earlier stage's output: parameter name -> output kind. Such a parameter's value
   * is an earlier stage's name or a path.
   */
  readonly refs?: Partial<Record<keyof S & string, string>>;
  /**
   * References nested inside parameters (e.g. the `corpus` of each entry of a data stage's `sources`), as
   * [path below the stage, value]; a value naming a stage must name an earlier one, as with `refs`.
   */
  nestedRefs?(params: ParamsOf<S>): [(string | number)[], string][];
  /**
   * Checks that need more than each parameter's type (e.g. the trainer's own validation), run when the recipe is
   * loaded so a mistake stops the run before any stage starts. Throws a UserError.
   */
  check?(params: ParamsOf<S>): void;
  /** The artifacts a completed run leaves, by kind (e.g. `{ corpus: '<dir>/corpus.jsonl' }`). */
  outputs(ctx: StageContext, params: ParamsOf<S>): Record<string, string>;
  run(ctx: StageContext, params: ParamsOf<S>): Promise<void> | void;
}

const registry = new Map<string, StageType>();

/** Identity with type inference for a stage's parameter types. */
export function defineStage<S extends ParamSchema>(stage: StageType<S>): StageType<S> {
  return stage;
}

/** Adds a stage type; registering a name twice is an error (tests use `unregisterStageType` to clean up). */
export function registerStageType<S extends ParamSchema>(stage: StageType<S>): void {
  if (registry.has(stage.type)) throw new Error(`registerStageType: stage type "${stage.type}" is already registered`);
  registry.set(stage.type, stage as unknown as StageType);
}

export function unregisterStageType(type: string): void {
  registry.delete(type);
}

export function getStageType(type: string): StageType | undefined {
  return registry.get(type);
}

export function stageTypeNames(): string[] {
  return [...registry.keys()].sort();
}
