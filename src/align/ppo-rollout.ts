/**
 * PPO rollouts: prompts (the prompt part of preference pairs or of instruction/chat records) are rendered with the
 * policy's template and sampled from with the policy (temperature, top-k, top-p, at most maxNewTokens, ending at
 * EOS, which then closes the response as in SFT so the policy learns to stop). Responses are scored through the
 * `RewardScorer` interface: the reward model (its own tokenizer and template; the response text is re-rendered for
 * it, so only the text has to carry over, not the vocabulary) or, in tests, a scripted function.
 */
import { loadPreferencePairs } from '../finetune/preference-data.ts';
import { loadJsonRecords } from '../data/json-records.ts';
import { loadSftRecords, splitReference, type SftRecord } from '../chat/records.ts';
import { encodePrompt } from '../chat/encode.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import { generate } from '../generate/generate.ts';
import type { ResolvedSampling } from '../generate/sampling.ts';
import type { LanguageModel } from '../models/model.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { encodeForReward, rewardsOf, type LoadedRewardModel } from './reward-model.ts';

/** One sampled response. */
export interface Rollout {
  /** The prompt record (no response). */
  prompt: SftRecord;
  promptIds: number[];
  /** Sampled tokens, the EOS id last when the response ended there. */
  responseIds: number[];
  /** The response text (without EOS). */
  text: string;
  /** True when the policy chose EOS. */
  ended: boolean;
}

/** Scores (one per rollout, higher is better) of a batch of rollouts. */
export interface RewardScorer {
  score(rollouts: readonly Rollout[]): number[];
}

/** The prompt record with `response` as its answer. */
export function withResponse(prompt: SftRecord, response: string): SftRecord {
  return prompt.kind === 'alpaca'
    ? { ...prompt, output: response }
    : { kind: 'chat', messages: [...prompt.messages, { role: 'assistant', content: response }] };
}

/** Scores rollouts with a trained reward model (texts re-rendered with its template and tokenizer). */
export function rewardModelScorer(rm: LoadedRewardModel, batchSize = 16): RewardScorer {
  return {
    score(rollouts) {
      const rows = rollouts.map(
        (r) => encodeForReward(rm.tokenizer, rm.template, withResponse(r.prompt, r.text), rm.model.info).ids,
      );
      return rewardsOf(rm.model, rows, batchSize);
    },
  };
}

/** Prompt records of a file: preference pairs (their shared prompt) or instruction / chat records (all but the answer). */
export function loadPrompts(path: string): SftRecord[] {
  const raw = loadJsonRecords(path, (v) => v, 'records');
  const first = raw[0];
  const isPreference = typeof first === 'object' && first !== null && 'chosen' in first;
  if (isPreference) return loadPreferencePairs(path).pairs.map((p) => splitReference(p.chosen).prompt);
  return loadSftRecords(path).map((r) => splitReference(r).prompt);
}

export interface RolloutOptions {
  sampling: ResolvedSampling;
  maxNewTokens: number;
  eosId: number;
}

/** Prompt ids of one record, cut from the left so that maxNewTokens still fit in the model's context. */
export function promptIds(
  tok: TextTokenizer,
  template: PromptTemplate,
  prompt: SftRecord,
  eosId: number,
  blockSize: number,
  maxNewTokens: number,
): { ids: number[]; cut: boolean } {
  const ids = encodePrompt(tok, template, prompt, eosId);
  const keep = Math.max(1, Math.min(blockSize, blockSize + 1 - maxNewTokens));
  return ids.length > keep ? { ids: ids.slice(ids.length - keep), cut: true } : { ids, cut: false };
}

/** Samples one response per prompt; `seeds[i]` seeds prompt i's draw. */
export function sampleRollouts(
  model: LanguageModel,
  tok: TextTokenizer,
  prompts: readonly { record: SftRecord; ids: number[] }[],
  seeds: readonly number[],
  o: RolloutOptions,
): Rollout[] {
  return prompts.map((p, i) => {
    const g = generate(model, p.ids, {
      ...o.sampling,
      maxNewTokens: o.maxNewTokens,
      eosId: o.eosId,
      seed: seeds[i]!,
      onContextFull: 'stop',
      tokenizer: tok,
    });
    const ended = g.stopReason === 'eos';
    return {
      prompt: p.record,
      promptIds: p.ids,
      responseIds: ended ? [...g.ids, o.eosId] : g.ids,
      text: g.text,
      ended,
    };
  });
}

/** Mean score and response length of one sampled response per prompt (seeded by `seed` and the prompt's index). */
export function evaluatePrompts(
  model: LanguageModel,
  tok: TextTokenizer,
  prompts: readonly { record: SftRecord; ids: number[] }[],
  scorer: RewardScorer,
  o: RolloutOptions,
  seed: number,
): { reward: number; length: number; rollouts: Rollout[]; scores: number[] } {
  const rollouts = sampleRollouts(
    model,
    tok,
    prompts,
    prompts.map((_, i) => (seed + i) | 0),
    o,
  );
  const scores = scorer.score(rollouts);
  const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return { reward: mean(scores), length: mean(rollouts.map((r) => r.responseIds.length)), rollouts, scores };
}
