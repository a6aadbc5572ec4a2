/**
 * The built-in stage types: corpus, tokenizer, data, model, pretrain, predict, sample (issue 4), classify, domain,
 * sft and chat-sample; reward, dpo and ppo (alignment) and eval-mc.
 * `registerBuiltinStages` adds those not registered yet; later stage families register themselves the same way.
 */
import { getStageType, registerStageType, type StageType } from '../registry.ts';
import { chatSampleStage } from './chat-sample.ts';
import { classifyStage } from './classify.ts';
import { corpusStage } from './corpus.ts';
import { dataStage } from './data.ts';
import { domainStage } from './domain.ts';
import { dpoStage } from './dpo.ts';
import { evalMcStage } from './eval-mc.ts';
import { modelStage } from './model.ts';
import { ppoStage } from './ppo.ts';
import { predictStage } from './predict.ts';
import { pretrainStage } from './pretrain.ts';
import { rewardStage } from './reward.ts';
import { sampleStage } from './sample.ts';
import { sftStage } from './sft.ts';
import { tokenizerStage } from './tokenizer.ts';

const BUILTIN = [
  corpusStage,
  tokenizerStage,
  dataStage,
  modelStage,
  pretrainStage,
  predictStage,
  sampleStage,
  classifyStage,
  domainStage,
  sftStage,
  chatSampleStage,
  rewardStage,
  dpoStage,
  ppoStage,
  evalMcStage,
] as unknown as StageType[];

export function registerBuiltinStages(): void {
  for (const stage of BUILTIN) if (!getStageType(stage.type)) registerStageType(stage);
}
