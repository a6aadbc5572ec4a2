/**
 * The built-in stage types of issue 4: corpus, tokenizer, data, model, pretrain, predict and sample.
 * `registerBuiltinStages` adds those not registered yet; later stage families register themselves the same way.
 */
import { getStageType, registerStageType, type StageType } from '../registry.ts';
import { corpusStage } from './corpus.ts';
import { dataStage } from './data.ts';
import { modelStage } from './model.ts';
import { predictStage } from './predict.ts';
import { pretrainStage } from './pretrain.ts';
import { sampleStage } from './sample.ts';
import { tokenizerStage } from './tokenizer.ts';

const BUILTIN = [corpusStage, tokenizerStage, dataStage, modelStage, pretrainStage, predictStage, sampleStage] as unknown as StageType[];

export function registerBuiltinStages(): void {
  for (const stage of BUILTIN) if (!getStageType(stage.type)) registerStageType(stage);
}
