/**
 * `llmforge/recipes`: YAML recipes that chain stages (corpus, tokenizer, pretrain, fine-tune, align, eval...):
 * loading and running them, and registering stage types of your own. A public entry point of the package only:
 * code inside src imports the module it needs, never this index.
 */
export { loadRecipe, parseRecipe, type Recipe, type RecipeStage, type LoadRecipeOptions } from './recipe.ts';
export { runRecipe, type RunRecipeOptions, type StageOutcome } from './runner.ts';
export {
  defineStage,
  registerStageType,
  unregisterStageType,
  getStageType,
  stageTypeNames,
  type StageType,
  type StageContext,
} from './registry.ts';
export { RecipeError, type ParamSpec, type ParamSchema, type ParamsOf } from './schema.ts';
export { registerBuiltinStages } from './stages/index.ts';
