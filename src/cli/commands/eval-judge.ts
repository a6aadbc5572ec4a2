/**
 * `llmforge eval judge`: responses judged by a reward model (src/eval/judge.ts): the mean reward of a responses
 * JSONL, exact match and ROUGE-L against its references when present, and with `--against` a second file's
 * responses to the same prompts, A's pairwise win rate over B. Per-row rewards go to --output JSONL.
 */
import { writeFileSync } from 'node:fs';
import { encodeForReward, loadRewardModel, rewardsOf } from '../../align/reward-model.ts';
import {
  loadResponses,
  pairByPrompt,
  referenceScores,
  rewardRecord,
  winRate,
  type JudgedResponse,
} from '../../eval/judge.ts';
import { Rng } from '../../tensor/random.ts';
import { UsageError, type Parsed } from '../args.ts';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function summary(name: string, path: string, rows: readonly JudgedResponse[], rewards: readonly number[]): string {
  const mean = rewards.reduce((s, r) => s + r, 0) / rewards.length;
  const sd = Math.sqrt(rewards.reduce((s, r) => s + (r - mean) ** 2, 0) / rewards.length);
  const ref = referenceScores(rows);
  const refText = ref
    ? `; against ${ref.n} references: exact match ${pct(ref.exactMatch)}, ROUGE-L F1 ${ref.rougeL.toFixed(3)}`
    : '';
  return `${name} ${path}: ${rows.length} responses, mean reward ${mean.toFixed(3)} (sd ${sd.toFixed(3)})${refText}`;
}

export function evalJudge(args: Parsed): void {
  const o = args.options;
  if (typeof o['reward-model'] !== 'string')
    throw new UsageError('eval judge: --reward-model <dir> is required (train one with `llmforge reward train`)');
  if (typeof o.responses !== 'string')
    throw new UsageError(
      'eval judge: --responses <file.jsonl> is required (lines {"prompt", "response", "reference"?}, e.g. finetune sft\'s responses.jsonl)',
    );
  const batchSize = o['batch-size'] ?? 8;
  if (!(typeof batchSize === 'number' && Number.isInteger(batchSize) && batchSize >= 1))
    throw new UsageError(`eval judge: --batch-size must be a positive integer, received ${String(batchSize)}`);
  const a = loadResponses(o.responses);
  const b = typeof o.against === 'string' ? loadResponses(o.against) : null;
  const pairing = b ? pairByPrompt(a, b, o.responses, o.against as string) : null;
  const { model, tokenizer, template, dir } = loadRewardModel(o['reward-model'], new Rng(0));
  const encode = (r: JudgedResponse): number[] => {
    try {
      return encodeForReward(tokenizer, template, rewardRecord(template, r), model.info).ids;
    } catch (e) {
      throw new UsageError(
        `eval judge: ${r.where}: cannot tokenize the prompt and response with the reward model's tokenizer (${(e as Error).message})`,
      );
    }
  };
  const score = (rows: readonly JudgedResponse[]): number[] => rewardsOf(model, rows.map(encode), batchSize);
  const ra = score(a);
  const rb = b ? score(b) : null;
  process.stdout.write(`reward model ${dir} (${template.name} template)\n`);
  process.stdout.write(`${summary('A', o.responses, a, ra)}\n`);
  if (b && rb && pairing) {
    process.stdout.write(`${summary('B', o.against as string, b, rb)}\n`);
    const w = winRate(
      ra,
      pairing.map((i) => rb[i]!),
    );
    process.stdout.write(
      `A vs B on ${w.n} prompts: A wins ${w.wins}, B wins ${w.losses}, ties ${w.ties}: A's win rate ${pct(w.winRate)} (ties count half); among decided pairs ${w.wins + w.losses > 0 ? pct(w.wins / (w.wins + w.losses)) : '-'}, 95% CI [${pct(w.ci.low)}, ${pct(w.ci.high)}]\n`,
    );
  }
  if (typeof o.output === 'string') {
    const round = (x: number): number => Number(x.toFixed(6));
    const lines = a.map((r, i) =>
      JSON.stringify({
        index: i,
        prompt: r.prompt,
        reward: round(ra[i]!),
        ...(rb && pairing ? { reward_b: round(rb[pairing[i]!]!), a_wins: ra[i]! > rb[pairing[i]!]! } : {}),
      }),
    );
    writeFileSync(o.output, `${lines.join('\n')}\n`);
    process.stdout.write(`wrote ${a.length} rows to ${o.output}\n`);
  }
}
