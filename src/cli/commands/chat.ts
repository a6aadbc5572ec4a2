/**
 * `llmforge chat --model <dir>`: an interactive terminal chat with an instruction-tuned model. Each line typed is a
 * user turn; the reply streams as it is generated and stops at the model's EOS; the conversation is kept as
 * history. `/reset` forgets it, `/exit` (or end of input) quits. Lines piped on stdin work the same way.
 */
import { createInterface } from 'node:readline';
import { ChatSession } from '../../chat/session.ts';
import { resolveTemplate } from '../../chat/templates.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const chatCommand: Command = {
  spec: {
    name: 'chat',
    summary: 'Chat with an instruction-tuned model in the terminal (/reset, /exit)',
    usage:
      'llmforge chat --model <dir> [--template chatml|alpaca|model] [--system TEXT] [--temperature T] [--max-tokens N]',
    options: {
      model: {
        type: 'string',
        help: 'Model directory (e.g. <out>/model of `finetune sft`) or run directory',
        arg: 'DIR',
      },
      template: {
        type: 'string',
        help: 'Prompt template the model was tuned with: chatml, alpaca or model (its chat_template)',
        default: 'chatml',
        arg: 'NAME',
      },
      system: { type: 'string', help: 'System message that opens every conversation', arg: 'TEXT' },
      temperature: { type: 'number', help: 'Sampling temperature; 0 = greedy', default: 0, arg: 'T' },
      'max-tokens': { type: 'number', help: 'Longest reply in tokens', default: 256, arg: 'N' },
      seed: { type: 'number', help: 'Sampling seed', default: 0, arg: 'N' },
    },
    details:
      'Example:\n  llmforge finetune sft --model runs/demo/model --data ../shared/data/llms-from-scratch/instruction-data.json --out runs/sft\n  llmforge chat --model runs/sft/model',
  },
  async run(args) {
    const o = args.options;
    if (typeof o.model !== 'string') throw new UsageError('chat: --model <dir> is required');
    const maxTokens = o['max-tokens'] as number;
    if (!(Number.isInteger(maxTokens) && maxTokens > 0))
      throw new UsageError(`chat: --max-tokens must be a positive integer, received ${maxTokens}`);
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
    const template = resolveTemplate(o.template as string, o.template === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined)
      throw new UsageError(
        `chat: the tokenizer in ${tokenizerDir} has no end-of-sequence token, so replies could not stop by themselves`,
      );
    const session = new ChatSession(model, tokenizer, template, {
      eosId: eos,
      maxNewTokens: maxTokens,
      temperature: o.temperature as number,
      seed: o.seed as number,
      ...(typeof o.system === 'string' ? { system: o.system } : {}),
    });
    const tty = process.stdin.isTTY === true;
    const rl = createInterface({ input: process.stdin, terminal: tty });
    if (tty)
      process.stderr.write(
        `chat with ${modelDir} (template ${template.name}); /reset forgets the conversation, /exit quits\n`,
      );
    const ask = (): void => {
      if (tty) process.stdout.write('> ');
    };
    ask();
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') {
        session.reset();
        process.stdout.write('(conversation reset)\n');
      } else if (text !== '') {
        const out = session.reply(text, (piece) => process.stdout.write(piece));
        process.stdout.write(out.stopReason === 'eos' ? '\n' : ` [stopped: ${out.stopReason}]\n`);
      }
      ask();
    }
    rl.close();
  },
};
