/**
 * Stage `chat-sample`: asks an instruction-tuned model each listed question as a fresh one-turn chat (rendered by
 * the template the model was tuned with, generation ending at its EOS token) and prints the answers, saving them
 * to answers.json. `expect` (optional, one per question) marks each answer as matching or not. This is what
 * `llmforge chat` would reply, shown without a terminal.
 */
import { join } from 'node:path';
import { ChatSession } from '../../chat/session.ts';
import { exactMatch } from '../../eval/rouge.ts';
import { resolveTemplate, TEMPLATE_NAMES } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { readModelConfig } from '../../models/model-io.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { writeJsonAtomic } from '../../util/atomic.ts';
import { defineStage } from '../registry.ts';
import { RecipeError } from '../schema.ts';

export const chatSampleStage = defineStage({
  type: 'chat-sample',
  summary: 'Ask an instruction-tuned model listed questions and show its answers',
  params: {
    model: { type: 'string', help: 'an earlier sft stage, or a model directory' },
    questions: { type: 'string[]', help: 'questions, each asked in a new conversation' },
    expect: { type: 'string[]', help: 'expected answers, one per question ([]: none)', default: [] },
    template: {
      type: 'string',
      help: 'chatml, alpaca or model ("": the template the model was tuned with, else chatml)',
      default: '',
    },
    maxTokens: { type: 'integer', help: 'most tokens per answer', default: 48, min: 1 },
    temperature: { type: 'number', help: 'sampling temperature (0: greedy)', default: 0, min: 0 },
    seed: { type: 'integer', help: 'sampling seed', default: 0 },
  },
  refs: { model: 'model' },
  check(p) {
    if (p.template !== '' && !(TEMPLATE_NAMES as readonly string[]).includes(p.template))
      throw new RecipeError(`template must be "" or one of ${TEMPLATE_NAMES.join(', ')}, received "${p.template}"`);
    if (p.expect.length > 0 && p.expect.length !== p.questions.length)
      throw new RecipeError(
        `expect must list one answer per question (${p.questions.length}), received ${p.expect.length}`,
      );
  },
  outputs: (ctx) => ({ answers: join(ctx.dir, 'answers.json') }),
  run(ctx, p) {
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(ctx.input(p.model, 'model'));
    const tuned = readModelConfig(modelDir).extra.template;
    const name =
      p.template !== ''
        ? p.template
        : typeof tuned === 'string' && (TEMPLATE_NAMES as readonly string[]).includes(tuned)
          ? tuned
          : 'chatml';
    const template = resolveTemplate(name, name === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined)
      throw new RecipeError(
        `stage ${ctx.name}: the tokenizer in ${tokenizerDir} has no end-of-sequence token to end an answer`,
      );
    ctx.log(`model ${modelDir}, template ${template.name}, temperature ${p.temperature}`);
    let right = 0;
    const answers = p.questions.map((question, i) => {
      const session = new ChatSession(model, tokenizer, template, {
        eosId: eos,
        maxNewTokens: p.maxTokens,
        temperature: p.temperature,
        seed: p.seed + i,
      });
      const answer = session.reply(question).text;
      const expected = p.expect[i];
      const ok = expected === undefined ? undefined : exactMatch(answer, expected);
      if (ok) right++;
      ctx.log(
        `${ok === undefined ? '' : ok ? 'ok   ' : 'miss '}${JSON.stringify(question)} -> ${JSON.stringify(answer)}${ok === false ? ` (expected ${JSON.stringify(expected)})` : ''}`,
      );
      return { question, answer, ...(expected !== undefined ? { expected, exactMatch: ok } : {}) };
    });
    if (p.expect.length > 0) ctx.log(`${right}/${p.questions.length} answered exactly as expected`);
    writeJsonAtomic(join(ctx.dir, 'answers.json'), { model: modelDir, template: template.name, answers });
  },
});
