/**
 * The built-in stage types of issue 4 (corpus, tokenizer, data, pretrain, predict, sample).
 * `registerBuiltinStages` adds those not registered yet; later stage families register themselves the same way.
 */
import { getStageType, registerStageType, type StageType } from '../registry.ts';
import { corpusStage } from './corpus.ts';
import { tokenizerStage } from './tokenizer.ts';

const BUILTIN: StageType[] = [corpusStage, tokenizerStage] as unknown as StageType[];

export function registerBuiltinStages(): void {
  for (const stage of BUILTIN) if (!getStageType(stage.type)) registerStageType(stage);
}
