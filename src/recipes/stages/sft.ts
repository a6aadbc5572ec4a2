/**
 * Stage `sft`: instruction tuning of a pretrained model, the same run as `llmforge finetune sft` (full or LoRA,
 * response-only loss, EOS learned, checkpoints and resume), on Alpaca or chat records from a file or, with
 * `data: toy-world`, on questions about the toy world (src/data/toy-instructions.ts) whose held-out phrasings are
 * the evaluation set. After training it answers held-out instructions greedily and logs exact match, ROUGE-L and a
 * few answers. The stage directory is the SFT run: `<dir>/model` is the tuned model (with LoRA the merged one;
 * the adapter alone is in `<dir>/adapter`), and `llmforge chat|generate --model <out>/<stage>` opens it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  INSTRUCTION_FORMATS,
  toyInstructions,
  writeInstructions,
  type InstructionFormat,
} from '../../data/toy-instructions.ts';
import { DEFAULT_SFT_OPTIONS as D, resolveSftOptions, runSft, type SftOptions } from '../../finetune/sft-run.ts';
import { defineStage } from '../registry.ts';
import { RecipeError, type ParamsOf } from '../schema.ts';
import { LORA_PARAMS, STAGE_CHECK } from './classify.ts';
import { runStageInterruptible } from './interruptible.ts';

/** `data` value that generates the toy world's instruction records. */
export const TOY_WORLD_DATA = 'toy-world';

/** Training settings are optional: left out, runSft's default (DEFAULT_SFT_OPTIONS) applies. */
const PARAMS = {
  model: { type: 'string', help: 'the base: an earlier model or pretrain stage, or a model or run directory' },
  data: {
    type: 'string',
    help: 'toy-world (questions about the toy world) or a JSON/JSONL file of Alpaca or chat records',
    default: TOY_WORLD_DATA,
  },
  eval: {
    type: 'string',
    help: 'held-out records file ("": the toy world\'s held-out phrasings, or the last valFrac of a data file)',
    default: '',
  },
  valFrac: {
    type: 'number',
    help: `share of a data file held out when eval is "" (default ${D.valFrac})`,
    optional: true,
  },
  format: { type: 'string', help: 'record format written for toy-world data: chat or alpaca', default: 'chat' },
  template: {
    type: 'string',
    help: `prompt template: chatml, alpaca or model (the chat_template in tokenizer_config.json) (default ${D.template})`,
    optional: true,
  },
  train: { type: 'string', help: `what trains: all or lora (default ${D.mode})`, optional: true },
  ...LORA_PARAMS,
  steps: { type: 'integer', help: `optimizer updates (default ${D.steps})`, optional: true, min: 1 },
  batchSize: {
    type: 'integer',
    help: `examples (or packed rows) per update (default ${D.batchSize})`,
    optional: true,
    min: 1,
  },
  lr: { type: 'number', help: `peak learning rate (default ${D.lr})`, optional: true },
  minLr: { type: 'number', help: 'floor of the cosine decay (default lr / 10)', optional: true },
  warmup: { type: 'integer', help: 'linear warmup updates (default steps / 10, at most 10)', optional: true, min: 0 },
  evalEvery: {
    type: 'integer',
    help: `validation loss every N updates (0: at the end only) (default ${D.evalEvery})`,
    optional: true,
    min: 0,
  },
  pack: { type: 'boolean', help: 'pack several examples per row instead of padding each', optional: true },
  trainOnPrompt: { type: 'boolean', help: 'learn every token (default: response tokens only)', optional: true },
  evalResponses: {
    type: 'integer',
    help: `held-out records answered and scored after training (default ${D.evalResponses})`,
    optional: true,
    min: 0,
  },
  maxNewTokens: {
    type: 'integer',
    help: `longest generated response (default ${D.maxNewTokens})`,
    optional: true,
    min: 1,
  },
  show: { type: 'integer', help: 'held-out answers printed in the log', default: 5, min: 0 },
  seed: {
    type: 'integer',
    help: `seed of the toy-world records, the split, the batch order and the adapters (default ${D.seed})`,
    optional: true,
  },
  precision: {
    type: 'string',
    help: `GEMM precision: auto (bf16 on CPUs with fast bf16 dot products, else fp32), fp32 or bf16 (default ${D.precision})`,
    optional: true,
  },
} as const;

type Params = ParamsOf<typeof PARAMS>;

/** The stage's parameters as runSft's options; `data`/`eval` are the record files (toy-world's written first). */
function sftOptions(p: Params, base: string, out: string, data: string, evalFile: string | undefined): SftOptions {
  const { model: _m, data: _d, eval: _e, format: _f, show: _s, train, ...rest } = p;
  const set = Object.fromEntries(Object.entries({ ...rest, mode: train }).filter(([, v]) => v !== undefined));
  return { ...(set as Partial<SftOptions>), base, out, data, ...(evalFile !== undefined ? { eval: evalFile } : {}) };
}

function check(p: Params): void {
  if (!INSTRUCTION_FORMATS.includes(p.format as InstructionFormat))
    throw new RecipeError(`format must be one of ${INSTRUCTION_FORMATS.join(', ')}, received "${p.format}"`);
  resolveSftOptions(sftOptions(p, '', '', '', undefined), STAGE_CHECK);
}

/** The record files: toy-world's written to the stage directory (train.jsonl, heldout.jsonl), or the user's. */
function recordFiles(dir: string, p: Params): { data: string; evalFile: string | undefined; origin: string } {
  if (p.data !== TOY_WORLD_DATA) return { data: p.data, evalFile: p.eval !== '' ? p.eval : undefined, origin: p.data };
  const { train, heldOut } = toyInstructions(p.seed ?? D.seed);
  const format = p.format as InstructionFormat;
  writeInstructions(join(dir, 'train.jsonl'), train, format);
  writeInstructions(join(dir, 'heldout.jsonl'), heldOut, format);
  const evalFile = p.eval === '' ? join(dir, 'heldout.jsonl') : p.eval;
  return {
    data: join(dir, 'train.jsonl'),
    evalFile,
    origin: `toy-world questions (${train.length} in trained phrasings; held out: ${p.eval === '' ? `${heldOut.length} in other phrasings` : p.eval})`,
  };
}

export const sftStage = defineStage({
  type: 'sft',
  summary: 'Instruction-tune a model (all weights or LoRA) on Alpaca or chat records, or on toy-world questions',
  params: PARAMS,
  refs: { model: 'model' },
  check,
  outputs: (ctx) => ({
    model: join(ctx.dir, 'model'),
    eval: join(ctx.dir, 'eval.json'),
    responses: join(ctx.dir, 'responses.jsonl'),
  }),
  async run(ctx, p) {
    mkdirSync(ctx.dir, { recursive: true });
    const { data, evalFile, origin } = recordFiles(ctx.dir, p);
    if (p.data === TOY_WORLD_DATA) ctx.log(`data: ${origin}`);
    const r = await runStageInterruptible(ctx, (signal) =>
      runSft(
        {
          ...sftOptions(p, ctx.input(p.model, 'model'), ctx.dir, data, evalFile),
          resume: ctx.resuming,
          quiet: ctx.quiet,
          signal,
          log: (line) => ctx.log(line),
        },
        STAGE_CHECK,
      ),
    );
    ctx.log(
      `train loss ${r.finalLoss.toFixed(4)}, held-out loss ${r.valLoss.toFixed(4)}; ${r.heldOut.length} held-out answers: exact match ${(100 * r.scores.exactMatch).toFixed(1)}%, ROUGE-L ${r.scores.rougeL.toFixed(3)}`,
    );
    r.heldOut.slice(0, p.show).forEach((rec, i) => {
      const row = r.scores.rows[i]!;
      const question = rec.kind === 'alpaca' ? rec.instruction : (rec.messages[rec.messages.length - 2]?.content ?? '');
      ctx.log(
        `  ${row.exactMatch ? 'ok  ' : 'miss'} ${JSON.stringify(question)} -> ${JSON.stringify(row.response)}${row.exactMatch ? '' : ` (expected ${JSON.stringify(row.reference)})`}`,
      );
    });
    const lora = r.resolved.lora !== null;
    ctx.log(
      `wrote ${join(ctx.dir, 'model')}${lora ? `, ${join(ctx.dir, 'adapter')}` : ''}, eval.json, responses.jsonl; chat with: llmforge chat --model ${ctx.dir}`,
    );
  },
});
