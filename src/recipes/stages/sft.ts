/**
 * Stage `sft`: instruction tuning of a pretrained model, the same run as `llmforge finetune sft` (full or LoRA,
 * response-only loss, EOS learned, checkpoints and resume), on Alpaca or chat records from a file or, with
 * `data: toy-world`, on questions about the toy world (src/data/toy-instructions.ts) whose held-out phrasings are
 * the evaluation set. After training it answers held-out instructions greedily and logs exact match, ROUGE-L and a
 * few answers. The stage directory is the SFT run: `<dir>/model` is the tuned model (with LoRA the merged one;
 * the adapter alone is in `<dir>/adapter`), and `llmforge chat|generate --model <out>/<stage>` opens it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSTRUCTION_FORMATS, toyInstructions, writeInstructions, type InstructionFormat } from '../../data/toy-instructions.ts';
import { attachLora, formatTrainable } from '../../finetune/lora-finetune.ts';
import { respondAndScore } from '../../finetune/sft-eval.ts';
import { loadSftRecords, type SftRecord } from '../../chat/records.ts';
import { DEFAULT_SFT_CONFIG, trainSft, type SftConfig, type SftRun } from '../../finetune/sft-train.ts';
import { resolveTemplate, TEMPLATE_NAMES } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { mergeLora, trainableParameters } from '../../nn/lora.ts';
import { Rng } from '../../tensor/random.ts';
import { describePrecision, PRECISION_SETTINGS, resolvePrecision, type PrecisionSetting } from '../../train/precision.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { Progress } from '../../util/progress.ts';
import { defineStage } from '../registry.ts';
import { RecipeError, type ParamsOf } from '../schema.ts';
import { classifyStage, loraSettings } from './classify.ts';

/** `data` value that generates the toy world's instruction records. */
export const TOY_WORLD_DATA = 'toy-world';

const { loraR, loraAlpha, loraDropout, loraTargets, precision } = classifyStage.params;

const PARAMS = {
  model: { type: 'string', help: 'the base: an earlier model or pretrain stage, or a model or run directory' },
  data: { type: 'string', help: 'toy-world (questions about the toy world) or a JSON/JSONL file of Alpaca or chat records', default: TOY_WORLD_DATA },
  eval: { type: 'string', help: 'held-out records file ("": the toy world\'s held-out phrasings, or the last valFrac of a data file)', default: '' },
  valFrac: { type: 'number', help: 'share of a data file held out when eval is ""', default: 0.1 },
  format: { type: 'string', help: 'record format written for toy-world data: chat or alpaca', default: 'chat' },
  template: { type: 'string', help: 'prompt template: chatml, alpaca or model (the chat_template in tokenizer_config.json)', default: 'chatml' },
  train: { type: 'string', help: 'what trains: all or lora', default: 'all' },
  loraR, loraAlpha, loraDropout, loraTargets,
  steps: { type: 'integer', help: 'optimizer updates', default: DEFAULT_SFT_CONFIG.steps, min: 1 },
  batchSize: { type: 'integer', help: 'examples (or packed rows) per update', default: DEFAULT_SFT_CONFIG.batchSize, min: 1 },
  lr: { type: 'number', help: 'peak learning rate (cosine decay to lr / 10)', default: DEFAULT_SFT_CONFIG.lr },
  warmup: { type: 'integer', help: 'linear warmup updates', default: DEFAULT_SFT_CONFIG.warmup, min: 0 },
  evalEvery: { type: 'integer', help: 'validation loss every N updates (0: at the end only)', default: DEFAULT_SFT_CONFIG.evalEvery, min: 0 },
  pack: { type: 'boolean', help: 'pack several examples per row instead of padding each', default: false },
  trainOnPrompt: { type: 'boolean', help: 'learn every token (default: response tokens only)', default: false },
  evalResponses: { type: 'integer', help: 'held-out records answered and scored after training', default: 40, min: 0 },
  maxNewTokens: { type: 'integer', help: 'longest generated response', default: 48, min: 1 },
  show: { type: 'integer', help: 'held-out answers printed in the log', default: 5, min: 0 },
  seed: { type: 'integer', help: 'seed of the toy-world records, the split, the batch order and the adapters', default: 1337 },
  precision,
} as const;

type Params = ParamsOf<typeof PARAMS>;

function check(p: Params): void {
  if (p.train !== 'all' && p.train !== 'lora') throw new RecipeError(`train must be all or lora, received "${p.train}"`);
  if (!INSTRUCTION_FORMATS.includes(p.format as InstructionFormat)) throw new RecipeError(`format must be one of ${INSTRUCTION_FORMATS.join(', ')}, received "${p.format}"`);
  if (!(TEMPLATE_NAMES as readonly string[]).includes(p.template)) throw new RecipeError(`template must be one of ${TEMPLATE_NAMES.join(', ')}, received "${p.template}"`);
  if (!(p.valFrac >= 0 && p.valFrac < 1)) throw new RecipeError(`valFrac must be in [0, 1), received ${p.valFrac}`);
  if (!(PRECISION_SETTINGS as readonly string[]).includes(p.precision)) throw new RecipeError(`precision must be one of ${PRECISION_SETTINGS.join(', ')}, received "${p.precision}"`);
  if (!(p.lr > 0)) throw new RecipeError(`lr must be a positive number, received ${p.lr}`);
  loraSettings(p);
}

/** Training and held-out records: the toy world's (also written to the stage directory) or the user's files. */
function records(dir: string, p: Params): { train: SftRecord[]; valid: SftRecord[]; origin: string } {
  if (p.data === TOY_WORLD_DATA) {
    const { train, heldOut } = toyInstructions(p.seed);
    const format = p.format as InstructionFormat;
    writeInstructions(join(dir, 'train.jsonl'), train, format);
    writeInstructions(join(dir, 'heldout.jsonl'), heldOut, format);
    const valid = p.eval === '' ? loadSftRecords(join(dir, 'heldout.jsonl')) : loadSftRecords(p.eval);
    return { train: loadSftRecords(join(dir, 'train.jsonl')), valid, origin: `toy-world questions (${train.length} in trained phrasings; held out: ${p.eval === '' ? `${heldOut.length} in other phrasings` : p.eval})` };
  }
  const all = loadSftRecords(p.data);
  if (p.eval !== '') return { train: all, valid: loadSftRecords(p.eval), origin: `${p.data} (held out: ${p.eval})` };
  const order = [...all];
  const rng = new Rng(p.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nVal = Math.round(order.length * p.valFrac);
  return { train: order.slice(0, order.length - nVal), valid: order.slice(order.length - nVal), origin: `${p.data} (held out: ${nVal} of ${order.length})` };
}

export const sftStage = defineStage({
  type: 'sft',
  summary: 'Instruction-tune a model (all weights or LoRA) on Alpaca or chat records, or on toy-world questions',
  params: PARAMS,
  refs: { model: 'model' },
  check,
  outputs: (ctx) => ({ model: join(ctx.dir, 'model'), eval: join(ctx.dir, 'eval.json'), responses: join(ctx.dir, 'responses.jsonl') }),
  run(ctx, p) {
    mkdirSync(ctx.dir, { recursive: true });
    const basePath = ctx.input(p.model, 'model');
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(basePath);
    const template = resolveTemplate(p.template, p.template === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined) throw new RecipeError(`stage ${ctx.name}: the tokenizer in ${tokenizerDir} has no end-of-sequence token (<|endoftext|> or tokenizer_config.json eos_token), which SFT appends to every response`);
    const { train, valid, origin } = records(ctx.dir, p);
    const config: SftConfig = {
      ...DEFAULT_SFT_CONFIG, steps: p.steps, batchSize: p.batchSize, lr: p.lr, minLr: p.lr / 10, warmup: Math.min(p.warmup, p.steps),
      maskPrompt: !p.trainOnPrompt, pack: p.pack, evalEvery: p.evalEvery, seed: p.seed,
    };
    let lora: SftRun['lora'];
    if (p.train === 'lora') {
      const settings = loraSettings(p);
      const { targets, summary } = attachLora(model, settings, config.seed + 101);
      lora = { settings, targets, baseModel: basePath };
      ctx.log(`lora: r ${settings.r}, alpha ${settings.alpha}, dropout ${settings.dropout} on ${summary.modules.length} linears (${targets.join(', ')})`);
    }
    const { trainable, total } = trainableParameters(model);
    ctx.log(`data: ${origin}; template ${template.name}, ${config.pack ? 'packed' : 'padded'} batches of ${config.batchSize}, ${config.steps} steps, lr ${config.lr}`);
    ctx.log(`training ${lora ? 'lora' : 'all'}: ${formatTrainable(trainable, total)}, ${describePrecision(resolvePrecision(p.precision as PrecisionSetting))}`);
    const progress = new Progress({ label: 'sft', total: config.steps, unit: 'steps', silent: ctx.quiet });
    const result = trainSft({ model, tokenizer, template, eosId: eos, train, valid, out: ctx.dir, resume: ctx.resuming, precision: p.precision as PrecisionSetting, ...(lora ? { lora } : {}) }, config, (info) => {
      progress.update(info.step);
      if (info.valLoss !== undefined) ctx.log(`step ${info.step}/${config.steps}: loss ${info.loss.toFixed(4)}, held-out loss ${info.valLoss.toFixed(4)}`);
    }, (note) => ctx.log(note));
    progress.finish(config.steps);
    if (lora) mergeLora(model); // answer at base speed with the adapters folded in, as <dir>/model holds them
    const heldOut = valid.slice(0, p.evalResponses);
    const answering = new Progress({ label: 'answers', total: heldOut.length, unit: 'answers', silent: ctx.quiet });
    const scores = respondAndScore(model, tokenizer, template, heldOut, { eosId: eos, maxNewTokens: p.maxNewTokens, onRow: (i) => answering.update(i + 1) });
    answering.finish(heldOut.length);
    writeFileSync(join(ctx.dir, 'responses.jsonl'), scores.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const summary = { steps: config.steps, trainLoss: result.finalLoss, valLoss: result.valLoss, responses: heldOut.length, exactMatch: scores.exactMatch, rougeL: scores.rougeL, template: template.name, train: p.train };
    writeJsonAtomic(join(ctx.dir, 'eval.json'), summary);
    ctx.log(`train loss ${result.finalLoss.toFixed(4)}, held-out loss ${result.valLoss.toFixed(4)}; ${heldOut.length} held-out answers: exact match ${(100 * scores.exactMatch).toFixed(1)}%, ROUGE-L ${scores.rougeL.toFixed(3)}`);
    heldOut.slice(0, p.show).forEach((r, i) => {
      const row = scores.rows[i]!;
      const question = r.kind === 'alpaca' ? r.instruction : r.messages[r.messages.length - 2]?.content ?? '';
      ctx.log(`  ${row.exactMatch ? 'ok  ' : 'miss'} ${JSON.stringify(question)} -> ${JSON.stringify(row.response)}${row.exactMatch ? '' : ` (expected ${JSON.stringify(row.reference)})`}`);
    });
    ctx.log(`wrote ${join(ctx.dir, 'model')}${lora ? `, ${join(ctx.dir, 'adapter')}` : ''}, eval.json, responses.jsonl; chat with: llmforge chat --model ${ctx.dir}`);
  },
});
