/**
 * Prompt templates turn an instruction record into text segments, each marked as prompt (not learned) or response
 * (learned, followed by the end-of-sequence token): the Alpaca template, a ChatML-style default (the EOS token
 * closes each assistant turn in place of `<|im_end|>`), and a model's own Jinja chat template from
 * tokenizer_config.json, rendered with @huggingface/jinja. A Jinja template's response of turn i is the text its
 * full rendering up to turn i adds after the rendering of the turns before with `add_generation_prompt`. A model's
 * template is untrusted: each render runs under a time, range() and string-size budget (template-budget.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { toMessages, type ChatMessage, type SftRecord } from './records.ts';
import { DEFAULT_TEMPLATE_BUDGET, type TemplateBudget, withTemplateBudget } from './template-budget.ts';
import { UserError } from '../util/user-error.ts';

export interface Segment {
  text: string;
  /** A response: its tokens are learned and an EOS token follows it. */
  train: boolean;
}

export interface PromptTemplate {
  readonly name: string;
  /** Special-token text in the rendering (e.g. `<|im_end|>` of a model's template) is encoded as special tokens. */
  readonly specialsInText: boolean;
  /** The whole record as prompt and response segments, in order. */
  segments(r: SftRecord): Segment[];
  /** The text to generate a reply from: the conversation so far and the assistant cue (no response). */
  prompt(r: SftRecord): string;
}

export type TemplateName = 'alpaca' | 'chatml' | 'model';
export const TEMPLATE_NAMES: readonly TemplateName[] = ['alpaca', 'chatml', 'model'];

const ALPACA_HEADER =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.';

function alpacaPrompt(instruction: string, input: string): string {
  const inputPart = input.trim() === '' ? '' : `\n\n### Input:\n${input}`;
  return `${ALPACA_HEADER}\n\n### Instruction:\n${instruction}${inputPart}\n\n### Response:\n`;
}

/** Alpaca: one instruction (and input) block per user turn, the answer after "### Response:". */
export const alpacaTemplate: PromptTemplate = {
  name: 'alpaca',
  specialsInText: false,
  segments(r) {
    if (r.kind === 'alpaca')
      return [
        { text: alpacaPrompt(r.instruction, r.input), train: false },
        { text: r.output, train: true },
      ];
    const out: Segment[] = [];
    for (const m of r.messages) {
      if (m.role === 'assistant') out.push({ text: m.content, train: true });
      else if (m.role === 'user')
        out.push({ text: (out.length > 0 ? '\n\n' : '') + alpacaPrompt(m.content, ''), train: false });
    }
    return out;
  },
  prompt(r) {
    return alpacaTemplate
      .segments(r)
      .filter((s) => !s.train || s.text !== '')
      .map((s) => s.text)
      .join('');
  },
};

/** ChatML-style: `<|im_start|>role\ncontent<|im_end|>\n` per turn; an assistant turn ends with EOS instead. */
export const chatmlTemplate: PromptTemplate = {
  name: 'chatml',
  specialsInText: false,
  segments(r) {
    const out: Segment[] = [];
    for (const m of toMessages(r)) {
      if (m.role === 'assistant') {
        out.push(
          { text: '<|im_start|>assistant\n', train: false },
          { text: m.content, train: true },
          { text: '\n', train: false },
        );
      } else {
        out.push({ text: `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`, train: false });
      }
    }
    if (out.length > 0 && out[out.length - 1]!.text === '\n') out.pop();
    return out;
  },
  prompt(r) {
    const msgs = toMessages(r);
    const history =
      msgs[msgs.length - 1]?.role === 'assistant' && msgs[msgs.length - 1]!.content === '' ? msgs.slice(0, -1) : msgs;
    return (
      chatmlTemplate
        .segments({ kind: 'chat', messages: history })
        .map((s) => s.text)
        .join('') +
      (history.length > 0 && history[history.length - 1]!.role === 'assistant' ? '\n' : '') +
      '<|im_start|>assistant\n'
    );
  },
};

/** A template from Jinja source (a model's `chat_template`); bos/eos token text are passed to it. */
export function jinjaTemplate(
  source: string,
  specials: { bos_token?: string | undefined; eos_token?: string | undefined } = {},
  origin = 'chat_template',
  budget: TemplateBudget = DEFAULT_TEMPLATE_BUDGET,
): PromptTemplate {
  let tpl: Template;
  try {
    tpl = new Template(source);
  } catch (e) {
    throw new UserError(`${origin}: cannot parse the Jinja chat template (${(e as Error).message})`);
  }
  const render = (messages: ChatMessage[], addGenerationPrompt: boolean): string => {
    try {
      return withTemplateBudget(
        () =>
          tpl.render({
            messages,
            add_generation_prompt: addGenerationPrompt,
            bos_token: specials.bos_token ?? '',
            eos_token: specials.eos_token ?? '',
          }),
        budget,
      );
    } catch (e) {
      throw new UserError(`${origin}: rendering the chat template failed (${(e as Error).message})`);
    }
  };
  const self: PromptTemplate = {
    name: 'model',
    specialsInText: true,
    segments(r) {
      const msgs = toMessages(r);
      const out: Segment[] = [];
      let done = '';
      msgs.forEach((m, i) => {
        if (m.role !== 'assistant') return;
        const cue = render(msgs.slice(0, i), true);
        const full = render(msgs.slice(0, i + 1), false);
        if (!cue.startsWith(done) || !full.startsWith(cue)) {
          throw new UserError(
            `${origin}: the template's rendering of turn ${i} does not extend the rendering of the turns before it, so the response cannot be located`,
          );
        }
        out.push({ text: cue.slice(done.length), train: false }, { text: full.slice(cue.length), train: true });
        done = full;
      });
      const all = render(msgs, false);
      if (all.length > done.length && all.startsWith(done)) out.push({ text: all.slice(done.length), train: false });
      return out.filter((s) => s.text !== '' || s.train);
    },
    prompt(r) {
      const msgs = toMessages(r);
      const history =
        msgs[msgs.length - 1]?.role === 'assistant' && msgs[msgs.length - 1]!.content === '' ? msgs.slice(0, -1) : msgs;
      return render(history, true);
    },
  };
  return self;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const c = (v as { content?: unknown } | null | undefined)?.content;
  return typeof c === 'string' ? c : undefined;
}

/** The chat template in `dir`/tokenizer_config.json (a string, or the entry named "default" of a list). */
export function loadModelTemplate(dir: string): PromptTemplate {
  const path = existsSync(dir) && statSync(dir).isDirectory() ? join(dir, 'tokenizer_config.json') : dir;
  if (!existsSync(path))
    throw new UserError(
      `${path}: no such file (the "model" template reads chat_template from the model's tokenizer_config.json)`,
    );
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  let src = cfg.chat_template;
  if (Array.isArray(src))
    src = (src as { name?: unknown; template?: unknown }[]).find((t) => t.name === 'default')?.template;
  if (typeof src !== 'string')
    throw new UserError(`${path}: field "chat_template" is missing or not a string; use --template alpaca or chatml`);
  return jinjaTemplate(
    src,
    { bos_token: tokenText(cfg.bos_token), eos_token: tokenText(cfg.eos_token) },
    `${path} chat_template`,
  );
}

/** The template named on the command line; "model" needs the model (or tokenizer) directory. */
export function resolveTemplate(name: string, modelDir?: string): PromptTemplate {
  if (name === 'alpaca') return alpacaTemplate;
  if (name === 'chatml') return chatmlTemplate;
  if (name === 'model') {
    if (modelDir === undefined)
      throw new UserError('--template model: needs a model directory holding tokenizer_config.json');
    return loadModelTemplate(modelDir);
  }
  throw new UserError(`--template: expected one of ${TEMPLATE_NAMES.join(', ')}, received "${name}"`);
}
