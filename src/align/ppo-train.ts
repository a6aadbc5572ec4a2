/**
 * The PPO loop of RLHF (InstructGPT; TRL's PPOTrainer): each iteration takes the next batch of prompts (a seeded
 * permutation per pass over them), samples one response per prompt with the policy (ppo-rollout.ts), scores the
 * responses with the reward scorer, computes the rollout's log-probabilities and values under the policy and the
 * log-probabilities under the frozen reference (a copy of the start, or with LoRA the policy with adapters off),
 * turns them into per-token rewards with the KL penalty, GAE advantages (whitened) and returns (ppo-math.ts), and
 * runs several PPO epochs over shuffled mini-batches of the rollouts on the clipped policy and value loss
 * (ppo-loss.ts) with AdamW and gradient clipping. Dropout is off throughout, so the PPO ratio compares the policy
 * with itself and not with a differently masked copy. All randomness (prompt order, sampling, mini-batch order)
 * derives from (seed, iteration), so a checkpoint (policy or adapter, value head, optimizer, KL coefficient,
 * iteration) resumes bit-identically. Writes metrics.jsonl (one line per iteration), samples.jsonl, and
 * `<out>/model` (the policy, merged for LoRA, with its tokenizer and value head; generate and chat open it).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergedLoraCopy, restoreTrainedWeights, saveAdapter, type LoraRun } from '../finetune/lora-finetune.ts';
import { toMessages, type SftRecord } from '../chat/records.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import type { ResolvedSampling } from '../generate/sampling.ts';
import type { LanguageModel } from '../models/model.ts';
import { saveModel } from '../models/model-io.ts';
import { readSafetensors, serializeSafetensors } from '../io/safetensors.ts';
import { withLoraDisabled } from '../nn/lora.ts';
import { AdamW } from '../optim/adamw.ts';
import { clipGradNorm } from '../optim/param-groups.ts';
import { Rng, permutation } from '../tensor/random.ts';
import { saveTextTokenizer, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import {
  CheckpointError,
  OPTIMIZER_FILE,
  replaceDirAtomic,
  restoreOptimizer,
  serializeOptimizer,
} from '../train/checkpoint.ts';
import { MetricsLog } from '../train/metrics.ts';
import { resolvePrecision, withTrainPrecision, type PrecisionSetting } from '../train/precision.ts';
import { claimOutputDir, latestPath, stopRequested } from '../train/run-dir.ts';
import { dropoutSeedFor } from '../train/trainer.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { AdaptiveKlController, gae, klPenalizedRewards, whiten } from './ppo-math.ts';
import { ppoLoss } from './ppo-loss.ts';
import { PolicyWithValue, policyForward, rolloutBatch, scoreRollouts, ValueHead } from './ppo-policy.ts';
import { promptIds, sampleRollouts, type RewardScorer, type Rollout } from './ppo-rollout.ts';
import { UserError } from '../util/user-error.ts';

export interface PpoConfig {
  /** Rollout batches (each: sample, score, PPO epochs). */
  iterations: number;
  /** Prompts (responses) per iteration. */
  batchSize: number;
  /** Rollouts per PPO update. */
  miniBatchSize: number;
  /** Passes over each rollout batch. */
  ppoEpochs: number;
  lr: number;
  gradClip: number;
  /** Initial KL coefficient (TRL: 0.2). */
  klCoef: number;
  /** Adaptive KL: target KL (nats per response) or null for a fixed coefficient. */
  targetKl: number | null;
  /** Adaptive KL horizon in rollouts (TRL: 10000). */
  klHorizon: number;
  gamma: number;
  lambda: number;
  clipRange: number;
  clipRangeValue: number;
  vfCoef: number;
  maxNewTokens: number;
  sampling: ResolvedSampling;
  /** Log sample responses every this many iterations (0: never). */
  sampleEvery: number;
  /** Write checkpoints/latest every this many iterations (and at the end; 0: at the end only). */
  saveEvery: number;
  seed: number;
}

export const DEFAULT_PPO_CONFIG: Readonly<PpoConfig> = Object.freeze({
  iterations: 20,
  batchSize: 32, // 16 responses per batch (with 1e-5) drifted (KL up to 10 nats) without raising the reward on the README run
  miniBatchSize: 8,
  ppoEpochs: 4,
  lr: 5e-5, // TRL's 1.41e-5 is for 100M+ models; on our 1M-parameter SFT model 1e-5 barely moved the reward in 100 iterations
  gradClip: 1.0,
  klCoef: 0.2,
  targetKl: null,
  klHorizon: 10000,
  gamma: 1,
  lambda: 0.95,
  clipRange: 0.2,
  clipRangeValue: 0.2,
  vfCoef: 0.1,
  maxNewTokens: 32,
  sampling: Object.freeze({ temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 }),
  sampleEvery: 5,
  saveEvery: 10,
  seed: 1337,
});

export interface PpoRun {
  /** The policy: trained in place (with LoRA: its adapters only). */
  model: LanguageModel;
  /** The frozen reference (a copy of the start); absent with LoRA, where the adapters are switched off instead. */
  reference?: LanguageModel;
  tokenizer: TextTokenizer;
  template: PromptTemplate;
  eosId: number;
  prompts: readonly SftRecord[];
  scorer: RewardScorer;
  /** Where metrics.jsonl, samples.jsonl, checkpoints/latest and model go; none: nothing is written. */
  out?: string;
  /** Continue from checkpoints/latest (or latest.prev); without it, an `out` holding a checkpoint is refused. */
  resume?: boolean;
  lora?: LoraRun;
  precision?: PrecisionSetting;
  /** Aborted (Ctrl-C): the current iteration finishes, checkpoints/latest is saved and the result says stopped. */
  signal?: AbortSignal;
}

export interface PpoIterationInfo {
  iteration: number;
  /** Mean reward-model score of the batch's responses. */
  reward: number;
  /** Mean over responses of sum_t (logp - refLogp): the sampled estimate of KL(policy || reference). */
  kl: number;
  /** The KL coefficient used for this batch. */
  klCoef: number;
  /** Mean over responses of the summed KL penalty (-klCoef * kl). */
  nonScoreReward: number;
  policyLoss: number;
  valueLoss: number;
  clipFrac: number;
  valueClipFrac: number;
  approxKl: number;
  /** Mean per-token entropy of the policy on the responses (at sampling time). */
  entropy: number;
  /** Mean response length in tokens (EOS included), and the share of responses that ended with EOS. */
  responseLength: number;
  ended: number;
  samples?: { prompt: string; response: string; reward: number }[];
}

export interface PpoResult {
  /** Stopped by run.signal before c.iterations: checkpoints/latest holds the run, the model was not written. */
  stopped: boolean;
  /** Iterations done. */
  step: number;
  first: PpoIterationInfo | null;
  last: PpoIterationInfo | null;
  /** Prompts cut from the left to leave room for maxNewTokens. */
  cutPrompts: number;
}

const PPO_STATE_FILE = 'ppo-state.json';
const VALUE_HEAD_FILE = 'value-head.safetensors';
const ADAPTER_DIR = 'adapter';

interface PpoState {
  format: 'llmforge-ppo-state';
  iteration: number;
  klCoef: number;
  seed: number;
  batchSize: number;
  mode: 'all' | 'lora';
  first: PpoIterationInfo | null;
  last: PpoIterationInfo | null;
}

/** The prompt indices of iteration k: consecutive slices of a seeded permutation per pass over the prompts. */
export function promptOrder(n: number, batchSize: number, seed: number, iteration: number): number[] {
  const out: number[] = [];
  for (let j = iteration * batchSize; j < (iteration + 1) * batchSize; j++) {
    const pass = Math.floor(j / n);
    out.push(permutation(n, dropoutSeedFor(seed, pass, 0x50))[j % n]!);
  }
  return out;
}

/** Saves / loads the value head's parameters alone. */
export function saveValueHead(path: string, head: ValueHead): void {
  writeFileAtomic(
    path,
    serializeSafetensors(
      head
        .namedParameters('v_head')
        .map(([n, t]) => [n, t] as [string, { shape: readonly number[]; data: ArrayLike<number> }]),
      { format: 'llmforge-value-head' },
    ),
  );
}

export function loadValueHeadInto(path: string, head: ValueHead): void {
  const file = readSafetensors(path);
  for (const [name, p] of head.namedParameters('v_head')) {
    const t = file.tensors.get(name);
    if (!t || t.data.length !== p.size)
      throw new CheckpointError(
        `${path}: tensor "${name}" is missing or has ${t?.data.length ?? 0} values, expected ${p.size}`,
      );
    p.data.set(t.data);
  }
}

/** The last user turn of a prompt record (what a sample line shows). */
function promptText(r: SftRecord): string {
  const users = toMessages(r).filter((m) => m.role === 'user');
  return users[users.length - 1]?.content ?? '';
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Trains run.model with PPO against run.scorer; GEMMs run in run.precision. */
export function trainPpo(
  run: PpoRun,
  c: PpoConfig,
  onIteration?: (info: PpoIterationInfo) => void,
  onNote?: (message: string) => void,
): Promise<PpoResult> {
  const precision = resolvePrecision(run.precision ?? 'fp32');
  return withTrainPrecision(precision.precision, () => trainPpoIn(run, c, onIteration, onNote));
}

async function trainPpoIn(
  run: PpoRun,
  c: PpoConfig,
  onIteration?: (info: PpoIterationInfo) => void,
  onNote?: (message: string) => void,
): Promise<PpoResult> {
  const { model, tokenizer } = run;
  // A new run never overwrites a saved one; a resume reads latest (or latest.prev).
  const resumeFrom = run.out ? claimOutputDir(run.out, run.resume === true, 'ppo') : null;
  if (!run.lora && !run.reference)
    throw new Error('trainPpo: a full-weight run needs a reference model (frozenCopy of the start)');
  if (run.prompts.length === 0) throw new UserError('ppo: no prompts');
  const { blockSize } = model.config;
  let cutPrompts = 0;
  const prompts = run.prompts.map((record) => {
    const p = promptIds(tokenizer, run.template, record, run.eosId, blockSize, c.maxNewTokens);
    if (p.cut) cutPrompts++;
    return { record, ids: p.ids };
  });
  if (cutPrompts > 0)
    onNote?.(
      `${cutPrompts} of ${prompts.length} prompts cut from the left to ${blockSize + 1 - c.maxNewTokens} tokens, leaving room for ${c.maxNewTokens} new tokens in the context of ${blockSize}`,
    );

  const valueHead = new ValueHead(model.config.nEmbd, new Rng(c.seed + 202));
  const both = new PolicyWithValue(model, valueHead);
  const params = both.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW([{ params }], { lr: c.lr, weightDecay: 0 });
  const kl = new AdaptiveKlController(c.klCoef, c.targetKl ?? 1, c.klHorizon);
  const metrics = run.out ? new MetricsLog(join(run.out, 'metrics.jsonl')) : null;
  const ckptDir = run.out ? latestPath(run.out) : null;
  const mode = run.lora ? 'lora' : 'all';
  let start = 0;
  let first: PpoIterationInfo | null = null;
  let last: PpoIterationInfo | null = null;
  if (resumeFrom !== null) {
    const statePath = join(resumeFrom, PPO_STATE_FILE);
    if (!existsSync(statePath))
      throw new CheckpointError(`${statePath}: missing; ${resumeFrom} is not a PPO checkpoint`);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as PpoState;
    if (state.format !== 'llmforge-ppo-state')
      throw new CheckpointError(`${statePath}: not a PPO run state (format "${String(state.format)}")`);
    if (state.mode !== mode)
      throw new CheckpointError(
        `${statePath}: the run was trained with --train ${state.mode}, this one asks for ${mode}; resume with the same mode or use a new --out`,
      );
    if (state.seed !== c.seed || state.batchSize !== c.batchSize)
      throw new CheckpointError(
        `${statePath}: the run used --seed ${state.seed} --batch-size ${state.batchSize}, this one asks for --seed ${c.seed} --batch-size ${c.batchSize}; resume with the same settings`,
      );
    restoreTrainedWeights(resumeFrom, model, run.lora, ADAPTER_DIR);
    loadValueHeadInto(join(resumeFrom, VALUE_HEAD_FILE), valueHead);
    restoreOptimizer(join(resumeFrom, OPTIMIZER_FILE), both, opt);
    start = state.iteration;
    kl.value = state.klCoef;
    first = state.first;
    last = state.last;
    metrics?.truncateAfter(start);
    const samplesPath = join(run.out!, 'samples.jsonl');
    if (existsSync(samplesPath)) {
      // keep the samples up to the checkpoint; the iterations after it run again
      const kept = readFileSync(samplesPath, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && (JSON.parse(l) as { iteration: number }).iteration <= start);
      writeFileAtomic(samplesPath, kept.map((l) => `${l}\n`).join(''));
    }
    onNote?.(`resumed from ${resumeFrom} at iteration ${start}`);
  } else metrics?.truncateAfter(0); // a run that crashed before its first checkpoint left lines of its own
  const saveLatest = (iteration: number): void => {
    if (!ckptDir) return;
    const state: PpoState = {
      format: 'llmforge-ppo-state',
      iteration,
      klCoef: kl.value,
      seed: c.seed,
      batchSize: c.batchSize,
      mode,
      first,
      last,
    };
    replaceDirAtomic(ckptDir, (tmp) => {
      if (run.lora) saveAdapter(join(tmp, ADAPTER_DIR), model, run.lora.targets, run.lora.baseModel);
      else saveModel(tmp, model, { step: iteration });
      saveValueHead(join(tmp, VALUE_HEAD_FILE), valueHead);
      writeFileAtomic(join(tmp, OPTIMIZER_FILE), serializeOptimizer(both, opt));
      writeJsonAtomic(join(tmp, PPO_STATE_FILE), state);
    });
  };

  model.eval(); // no dropout anywhere (see the header)
  let it = start;
  let stopped = false;
  for (; it < c.iterations; it++) {
    const chosen = promptOrder(prompts.length, c.batchSize, c.seed, it).map((i) => prompts[i]!);
    const seeds = chosen.map((_, i) => dropoutSeedFor(c.seed, it, 0x1000 + i));
    const rollouts = sampleRollouts(model, tokenizer, chosen, seeds, {
      sampling: c.sampling,
      maxNewTokens: c.maxNewTokens,
      eosId: run.eosId,
    });
    const { info, scores } = ppoIteration(run, c, it, rollouts, both, opt, params, kl.value);
    if (c.targetKl !== null) kl.update(info.kl, c.batchSize);
    if (c.sampleEvery > 0 && ((it + 1) % c.sampleEvery === 0 || it === 0)) {
      info.samples = rollouts
        .slice(0, 3)
        .map((r, i) => ({ prompt: promptText(r.prompt), response: r.text, reward: scores[i]! }));
      if (run.out)
        appendFileSync(
          join(run.out, 'samples.jsonl'),
          `${JSON.stringify({ iteration: info.iteration, samples: info.samples })}\n`,
        );
    }
    first ??= info;
    last = info;
    const { samples: _samples, ...fields } = info;
    metrics?.append({ step: info.iteration, ...fields });
    const isLast = it + 1 === c.iterations;
    stopped = !isLast && (await stopRequested(run.signal));
    if (isLast || stopped || (c.saveEvery > 0 && (it + 1) % c.saveEvery === 0)) saveLatest(it + 1);
    onIteration?.(info);
    if (stopped) {
      it++;
      break;
    }
  }
  if (stopped) {
    onNote?.(`stopped at iteration ${it}/${c.iterations}; checkpoint saved to ${ckptDir ?? '(no out)'}`);
    return { stopped, step: it, first, last, cutPrompts };
  }
  if (run.out) {
    const { lora } = run;
    mkdirSync(run.out, { recursive: true });
    replaceDirAtomic(join(run.out, 'model'), (tmp) => {
      saveModel(tmp, lora ? mergedLoraCopy(model) : model, {
        finetune: lora ? 'ppo-lora' : 'ppo',
        template: run.template.name,
        iterations: c.iterations,
        klCoef: c.klCoef,
      });
      saveTextTokenizer(tmp, tokenizer);
      saveValueHead(join(tmp, VALUE_HEAD_FILE), valueHead);
    });
    if (lora)
      replaceDirAtomic(join(run.out, ADAPTER_DIR), (tmp) => saveAdapter(tmp, model, lora.targets, lora.baseModel));
  }
  return { stopped, step: it, first, last, cutPrompts };
}

/** Scores one batch of rollouts and runs the PPO epochs on it; returns the iteration's statistics and the scores. */
function ppoIteration(
  run: PpoRun,
  c: PpoConfig,
  it: number,
  rollouts: readonly Rollout[],
  both: PolicyWithValue,
  opt: AdamW,
  params: ReturnType<PolicyWithValue['parameters']>,
  klCoef: number,
): { info: PpoIterationInfo; scores: number[] } {
  const { model } = run;
  const valueHead = both.value;
  const scores = run.scorer.score(rollouts);
  const rows = rollouts.map((r) => [...r.promptIds, ...r.responseIds]);
  const promptLens = rollouts.map((r) => r.promptIds.length);
  const batch = rolloutBatch(rows, promptLens, run.eosId);
  const old = scoreRollouts(model, valueHead, batch);
  const ref = run.lora
    ? withLoraDisabled(model, () => scoreRollouts(model, null, batch))
    : scoreRollouts(run.reference!, null, batch);
  const B = rollouts.length;
  const offsets: number[] = [];
  let o = 0;
  for (const n of batch.lengths) {
    offsets.push(o);
    o += n;
  }
  const slice = (a: Float64Array, b: number): Float64Array => a.subarray(offsets[b]!, offsets[b]! + batch.lengths[b]!);
  const kls: number[] = [];
  const penalties: number[] = [];
  const rawAdv: Float64Array[] = [];
  const returns: Float64Array[] = [];
  for (let b = 0; b < B; b++) {
    const lp = slice(old.logprobs, b);
    const rl = slice(ref.logprobs, b);
    let k = 0;
    for (let t = 0; t < lp.length; t++) k += lp[t]! - rl[t]!;
    kls.push(k);
    penalties.push(-klCoef * k);
    const rewards = klPenalizedRewards(scores[b]!, lp, rl, klCoef);
    const g = gae(rewards, slice(old.values!, b), c.gamma, c.lambda);
    rawAdv.push(g.advantages);
    returns.push(g.returns);
  }
  const advantages = whiten(rawAdv);

  const stats = {
    policyLoss: [] as number[],
    valueLoss: [] as number[],
    clipFrac: [] as number[],
    valueClipFrac: [] as number[],
    approxKl: [] as number[],
  };
  for (let epoch = 0; epoch < c.ppoEpochs; epoch++) {
    const order = permutation(B, dropoutSeedFor(c.seed, it, 0x2000 + epoch));
    for (let m = 0; m < B; m += c.miniBatchSize) {
      const idx = order.slice(m, m + c.miniBatchSize);
      const mb = rolloutBatch(
        idx.map((b) => rows[b]!),
        idx.map((b) => promptLens[b]!),
        run.eosId,
      );
      const gather = (per: (b: number) => ArrayLike<number>): Float64Array =>
        Float64Array.from(idx.flatMap((b) => Array.from(per(b))));
      opt.zeroGrad();
      const out = policyForward(model, valueHead, mb);
      const r = ppoLoss(
        out.logprobs,
        out.values!,
        {
          oldLogprobs: gather((b) => slice(old.logprobs, b)),
          oldValues: gather((b) => slice(old.values!, b)),
          advantages: gather((b) => advantages[b]!),
          returns: gather((b) => returns[b]!),
        },
        c,
      );
      r.loss.backward();
      if (c.gradClip > 0) clipGradNorm(params, c.gradClip);
      opt.step();
      stats.policyLoss.push(r.policyLoss);
      stats.valueLoss.push(r.valueLoss);
      stats.clipFrac.push(r.clipFrac);
      stats.valueClipFrac.push(r.valueClipFrac);
      stats.approxKl.push(r.approxKl);
    }
  }
  const lengths = rollouts.map((r) => r.responseIds.length);
  const info: PpoIterationInfo = {
    iteration: it + 1,
    reward: mean(scores),
    kl: mean(kls),
    klCoef,
    nonScoreReward: mean(penalties),
    policyLoss: mean(stats.policyLoss),
    valueLoss: mean(stats.valueLoss),
    clipFrac: mean(stats.clipFrac),
    valueClipFrac: mean(stats.valueClipFrac),
    approxKl: mean(stats.approxKl),
    entropy: mean(Array.from(old.entropy)),
    responseLength: mean(lengths),
    ended: mean(rollouts.map((r) => (r.ended ? 1 : 0))),
  };
  return { info, scores };
}
