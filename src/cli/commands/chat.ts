/**
 * `llmforge chat --model <dir>`: an interactive terminal chat with an instruction-tuned model. Each line typed is a
 * user turn; the reply streams as it is generated and stops at the model's EOS; the conversation is kept as
 * history. `/reset` forgets it, `/exit` (or end of input) quits, `/help` lists these; any other `/word` is answered
 * locally (never sent to the model). A model no tuner marked gets a warning first. Lines piped on stdin work the
 * same way.
 */
import { createInterface } from 'node:readline';
import { ChatSession } from '../../chat/session.ts';
import { resolveTemplate } from '../../chat/templates.ts';
import { instructionTuning } from '../../chat/tuned.ts';
import { loadModelDir } from '../../generate/model-dir.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import { UsageError } from '../args.ts';
import { checkSamplingFlags } from '../sampling-flags.ts';
import type { Command } from '../command.ts';

/** The commands a chat line may be; anything else starting with one `/` is answered locally, never sent. */
export const CHAT_HELP =
  '/help shows this, /reset forgets the conversation, /exit (or /quit, or end of input) quits; start a message with // to send one beginning with /';

/**
 * What a typed line asks of the chat itself: 'exit', 'reset', 'help', a one-line answer for an unknown /command,
 * or undefined for a message to the model (including `//text`, sent as `/text`).
 */
export function chatCommandOf(text: string): 'exit' | 'reset' | 'help' | string | undefined {
  if (!text.startsWith('/') || text.startsWith('//')) return undefined;
  const word = text.split(/\s/, 1)[0]!.toLowerCase();
  if (word === '/exit' || word === '/quit') return 'exit';
  if (word === '/reset') return 'reset';
  if (word === '/help' || word === '/?') return 'help';
  return `unknown command ${word}; the commands are /help, /reset, /exit (start with // to send a message beginning with /)`;
}

/** The warning printed once before chatting with a model no tuner marked (see chat/tuned.ts). */
export function baseModelWarning(modelDir: string): string {
  return (
    `warning: ${modelDir} looks like a base model (not instruction-tuned: no "finetune" mark in its config.json, ` +
    'no chat_template); it will continue text rather than answer. Tune it first, e.g. ' +
    `llmforge finetune sft --model ${modelDir} --data <instructions.json> --out runs/sft, then llmforge chat --model runs/sft`
  );
}

export const chatCommand: Command = {
  spec: {
    name: 'chat',
    summary: 'Chat with an instruction-tuned model in the terminal (/help, /reset, /exit)',
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
    checkSamplingFlags('chat', o, 'positive');
    const maxTokens = o['max-tokens'] as number;
    const { model, tokenizer, modelDir, tokenizerDir } = loadModelDir(o.model);
    const template = resolveTemplate(o.template as string, o.template === 'model' ? tokenizerDir : modelDir);
    const eos = eosId(tokenizer);
    if (eos === undefined)
      throw new UsageError(
        `chat: the tokenizer in ${tokenizerDir} has no end-of-sequence token, so replies could not stop by themselves`,
      );
    if (instructionTuning(modelDir, tokenizerDir) === undefined)
      process.stderr.write(`${baseModelWarning(modelDir)}\n`);
    const session = new ChatSession(model, tokenizer, template, {
      eosId: eos,
      maxNewTokens: maxTokens,
      temperature: o.temperature as number,
      seed: o.seed as number,
      ...(typeof o.system === 'string' ? { system: o.system } : {}),
    });
    const tty = process.stdin.isTTY === true;
    // In a terminal readline echoes what is typed (and edits the line) only when it has an output stream.
    const rl = createInterface({ input: process.stdin, terminal: tty, ...(tty ? { output: process.stdout } : {}) });
    rl.setPrompt('> ');
    if (tty)
      process.stderr.write(
        `chat with ${modelDir} (template ${template.name}); /help lists the commands, /exit quits\n`,
      );
    const ask = (): void => {
      if (tty) rl.prompt();
    };
    ask();
    for await (const line of rl) {
      const text = line.trim();
      const command = chatCommandOf(text);
      if (command === 'exit') break;
      if (command === 'reset') {
        session.reset();
        process.stdout.write('(conversation reset)\n');
      } else if (command === 'help') {
        process.stdout.write(`${CHAT_HELP}\n`);
      } else if (command !== undefined) {
        process.stdout.write(`${command}\n`); // an unknown /command: the line naming the known ones
      } else if (text !== '') {
        const message = text.startsWith('//') ? text.slice(1) : text;
        const out = session.reply(message, (piece) => process.stdout.write(piece));
        process.stdout.write(out.stopReason === 'eos' ? '\n' : ` [stopped: ${out.stopReason}]\n`);
      }
      ask();
    }
    rl.close();
  },
};
