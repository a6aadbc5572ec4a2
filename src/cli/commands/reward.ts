/**
 * `llmforge reward <train|score>`: reward models for alignment. `train` fits a scalar head (and the base, its last
 * blocks or LoRA adapters) on preference pairs with the Bradley-Terry loss and writes checkpoints, metrics.jsonl
 * and held-out pairwise accuracy to --out: it only turns its flags into options for runRewardTraining
 * (src/align/reward-run.ts), the run the recipe stage `reward` makes too. `score` prints the reward of one prompt
 * and response, or scores a file in order into JSONL: a preference file gives both sides' rewards and whether the
 * chosen one wins, an instruction file (Alpaca or chat records) one reward per record.
 */
import { writeFileSync } from 'node:fs';
import { encodeForReward, loadRewardModel, rewardsOf } from '../../align/reward-model.ts';
import { flagCheck } from '../../align/option-checks.ts';
import { DEFAULT_REWARD_OPTIONS as D } from '../../align/reward-options.ts';
import { runRewardTraining } from '../../align/reward-run.ts';
import type { TrainMode } from '../../finetune/classify-train.ts';
import { parsePreferenceRecord, type PreferencePair } from '../../finetune/preference-data.ts';
import { loadJsonRecords } from '../../data/json-records.ts';
import { parseSftRecord, type SftRecord } from '../../chat/records.ts';
import { Rng } from '../../tensor/random.ts';
import type { TemplateName } from '../../chat/templates.ts';
import type { PrecisionSetting } from '../../train/precision.ts';
import { UsageError, type Parsed } from '../args.ts';
import type { Command } from '../command.ts';
import { runInterruptible } from '../interruptible.ts';
import { loraFlags, loraOptions } from './finetune-sft.ts';

async function train(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.model !== 'string')
    throw new UsageError('reward train: --model <pretrained or SFT model dir> is required');
  if (typeof o.data !== 'string')
    throw new UsageError('reward train: --data <preference pairs json|jsonl> is required');
  if (typeof o.out !== 'string') throw new UsageError('reward train: --out <dir> is required');
  const [model, data, out] = [o.model, o.data, o.out];
  await runInterruptible(out, (signal) =>
    runRewardTraining(
      {
        model,
        data,
        out,
        train: o.train as TrainMode,
        lastK: o['last-k'] as number,
        ...loraFlags(o),
        template: o.template as TemplateName,
        maxLength: o['max-length'] as number,
        valFrac: o['val-frac'] as number,
        epochs: o.epochs as number,
        batchSize: o['batch-size'] as number,
        lr: o.lr as number,
        weightDecay: o['weight-decay'] as number,
        margin: o.margin as number,
        evalEvery: o['eval-every'] as number,
        seed: o.seed as number,
        precision: o.precision as PrecisionSetting,
        resume: o.resume === true,
      },
      {
        log: (line) => process.stdout.write(`${line}\n`),
        quiet: o.quiet === true,
        check: flagCheck('reward train'),
        signal,
      },
    ),
  );
}

type ScoreItem = { pair: PreferencePair } | { record: SftRecord };

function parseScoreItem(value: unknown, where: string): ScoreItem {
  const isPair = typeof value === 'object' && value !== null && 'chosen' in value && 'rejected' in value;
  return isPair ? { pair: parsePreferenceRecord(value, where) } : { record: parseSftRecord(value, where) };
}

function score(args: Parsed): void {
  const o = args.options;
  if (typeof o.model !== 'string') throw new UsageError('reward score: --model <reward model dir> is required');
  const one = o.prompt !== undefined || o.response !== undefined;
  if (one === (o.input !== undefined))
    throw new UsageError('reward score: give either --prompt and --response, or --input FILE, not both or neither');
  if (one && (typeof o.prompt !== 'string' || typeof o.response !== 'string'))
    throw new UsageError('reward score: --prompt and --response go together; one of them is missing');
  const batchSize = o['batch-size'] as number;
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new UsageError(`reward score: --batch-size must be a positive integer, received ${String(batchSize)}`);
  const items: ScoreItem[] = one
    ? [
        {
          record: {
            kind: 'chat',
            messages: [
              { role: 'user', content: o.prompt as string },
              { role: 'assistant', content: o.response as string },
            ],
          },
        },
      ]
    : loadJsonRecords(o.input as string, parseScoreItem, 'preference pairs or instruction records');
  const pairs = items.filter((it) => 'pair' in it).length;
  if (pairs > 0 && pairs < items.length)
    throw new UsageError(
      `reward score: ${String(o.input)} mixes preference pairs (${pairs}) and single records (${items.length - pairs}); score them as separate files`,
    );
  const { model, tokenizer, template } = loadRewardModel(o.model, new Rng(0));
  const records = items.flatMap((it) => ('pair' in it ? [it.pair.chosen, it.pair.rejected] : [it.record]));
  const rewards = rewardsOf(
    model,
    records.map((r) => encodeForReward(tokenizer, template, r, model.info).ids),
    batchSize,
  );
  const round = (x: number): number => Number(x.toFixed(6));
  if (one) {
    process.stdout.write(`reward ${rewards[0]!.toFixed(4)}\n`);
    return;
  }
  const lines =
    pairs > 0
      ? items.map((_, i) => ({
          index: i,
          chosen: round(rewards[2 * i]!),
          rejected: round(rewards[2 * i + 1]!),
          chosen_wins: rewards[2 * i]! > rewards[2 * i + 1]!,
        }))
      : items.map((_, i) => ({ index: i, reward: round(rewards[i]!) }));
  const text = lines.map((l) => `${JSON.stringify(l)}\n`).join('');
  const wins = lines.filter((l) => 'chosen_wins' in l && l.chosen_wins).length;
  const summary =
    pairs > 0
      ? `scored ${pairs} pairs: chosen wins ${wins} (${((100 * wins) / pairs).toFixed(1)}%)`
      : `scored ${items.length} records`;
  if (typeof o.output === 'string') {
    writeFileSync(o.output, text);
    process.stdout.write(`${summary} into ${o.output}\n`);
  } else {
    process.stdout.write(text);
    process.stderr.write(`${summary}\n`);
  }
}

export const rewardCommand: Command = {
  spec: {
    name: 'reward',
    summary:
      'Reward models from preference pairs (train: Bradley-Terry on chosen vs rejected; score: rewards of responses)',
    usage:
      'llmforge reward train --model <dir> --data <prefs json|jsonl> --out <dir> [options]\n       llmforge reward score --model <reward dir> (--prompt "..." --response "..." | --input <file> [--output <jsonl>])',
    details: [
      'Data: preference pairs, Alpaca style {instruction, input, chosen, rejected}, {prompt, chosen, rejected} or chat',
      'conversations; pairs with identical responses are left out. The reward is read at the last token of the prompt',
      'and response rendered by --template (an EOS token closes the response when the tokenizer has one); longer rows',
      'keep their last --max-length tokens. Checkpoints go to <out>/checkpoints/{latest,best} (best by held-out pairwise',
      'accuracy), metrics to <out>/metrics.jsonl, the last and best held-out scores to <out>/eval.json. score --input',
      'takes preference pairs (both rewards and whether the chosen one wins) or instruction records (one reward each),',
      'one JSON line per record in order.',
      'Example: llmforge reward train --model runs/assistant/sft --data ../shared/data/llms-from-scratch/instruction-data-with-preference.json --out runs/reward',
      'Example: llmforge reward score --model runs/reward --prompt "What is the capital of Peru?" --response "The capital of Peru is Lima."',
    ].join('\n'),
    options: {
      model: {
        type: 'string',
        help: 'train: pretrained or SFT base (model or run dir); score: a reward model (dir or the --out of train)',
        arg: 'DIR',
      },
      data: { type: 'string', help: 'train: preference pairs (JSON array or JSONL)', arg: 'FILE' },
      out: { type: 'string', help: 'train: output directory (checkpoints, metrics.jsonl, eval.json)', arg: 'DIR' },
      train: {
        type: 'string',
        help: 'train: what trains: all, last-k (last k blocks + final norm + head), head, lora (adapters + head)',
        default: D.train,
        arg: 'MODE',
      },
      'last-k': { type: 'number', help: 'train: blocks trained with --train last-k', default: D.lastK, arg: 'K' },
      template: {
        type: 'string',
        help: 'train: prompt template: alpaca, chatml or model (the chat_template in tokenizer_config.json)',
        default: D.template,
        arg: 'NAME',
      },
      'max-length': {
        type: 'number',
        help: 'train: longest token row (capped at the context length; longer rows keep their last tokens)',
        default: D.maxLength,
        arg: 'N',
      },
      'val-frac': { type: 'number', help: 'train: held-out share of the pairs', default: D.valFrac, arg: 'F' },
      epochs: { type: 'number', help: 'train: passes over the training pairs', default: D.epochs, arg: 'N' },
      'batch-size': {
        type: 'number',
        help: 'train: pairs per step (two rows each); score: rows per forward pass',
        default: D.batchSize,
        arg: 'N',
      },
      lr: { type: 'number', help: 'train: AdamW learning rate', default: D.lr, arg: 'LR' },
      'weight-decay': { type: 'number', help: 'train: AdamW weight decay', default: D.weightDecay, arg: 'W' },
      margin: {
        type: 'number',
        help: 'train: Bradley-Terry margin (loss -log sigmoid(r_chosen - r_rejected - margin))',
        default: D.margin,
        arg: 'M',
      },
      'eval-every': {
        type: 'number',
        help: 'train: held-out evaluation every N steps besides each epoch end (0: epoch ends only)',
        default: D.evalEvery,
        arg: 'N',
      },
      seed: { type: 'number', help: 'train: seed of the split, batch order and head init', default: D.seed, arg: 'N' },
      resume: { type: 'boolean', help: 'train: continue from <out>/checkpoints/latest when present' },
      quiet: { type: 'boolean', help: 'train: no progress line' },
      precision: {
        type: 'string',
        help: 'train: GEMM precision: auto, fp32 or bf16 (see finetune --help)',
        default: D.precision,
        arg: 'P',
      },
      prompt: { type: 'string', help: 'score: the prompt (a user turn)', arg: 'TEXT' },
      response: { type: 'string', help: 'score: the response to score', arg: 'TEXT' },
      input: {
        type: 'string',
        help: 'score: preference pairs or instruction records (JSON array or JSONL)',
        arg: 'FILE',
      },
      output: {
        type: 'string',
        help: 'score: JSONL output, one line per record in order (default: stdout)',
        arg: 'FILE',
      },
      ...loraOptions,
    },
  },
  async run(args) {
    const sub = args.positionals[0];
    switch (sub) {
      case 'train':
        return train(args);
      case 'score':
        return score(args);
      default:
        throw new UsageError(
          `reward: expected a subcommand (train or score), received ${sub === undefined ? 'none' : `"${sub}"`}`,
        );
    }
  },
};
