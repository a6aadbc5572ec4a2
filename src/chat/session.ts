/**
 * A chat session over an instruction-tuned model: the conversation history rendered by the template, each reply
 * generated (streamed through `onText`) until the model's EOS, then added to the history; `reset` forgets it.
 * The terminal front end is `llmforge chat`.
 */
import { generate, type GenerateSummary } from '../generate/generate.ts';
import type { LanguageModel } from '../models/model.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import type { ChatMessage } from './records.ts';
import { encodePrompt } from './encode.ts';
import type { PromptTemplate } from './templates.ts';

export interface ChatOptions {
  eosId: number;
  /** System message put first in every conversation (none by default). */
  system?: string;
  maxNewTokens?: number;
  /** 0 = greedy (default). */
  temperature?: number;
  seed?: number;
}

export class ChatSession {
  private history: ChatMessage[] = [];
  private turns = 0;
  constructor(
    readonly model: LanguageModel,
    readonly tokenizer: TextTokenizer,
    readonly template: PromptTemplate,
    readonly opts: ChatOptions,
  ) {
    this.reset();
  }

  /** The messages so far (the system message included). */
  get messages(): readonly ChatMessage[] {
    return this.history;
  }

  reset(): void {
    this.history = this.opts.system ? [{ role: 'system', content: this.opts.system }] : [];
  }

  /** Adds the user's message, generates the reply (text pieces to `onText`), adds it, returns the summary. */
  reply(user: string, onText?: (text: string) => void): GenerateSummary {
    this.history.push({ role: 'user', content: user });
    const tok = this.tokenizer;
    const ids = encodePrompt(tok, this.template, { kind: 'chat', messages: this.history }, this.opts.eosId);
    const out = generate(this.model, ids, {
      tokenizer: tok,
      eosId: this.opts.eosId,
      maxNewTokens: this.opts.maxNewTokens ?? 256,
      temperature: this.opts.temperature ?? 0,
      seed: (this.opts.seed ?? 0) + this.turns++,
      ...(onText ? { onText } : {}),
    });
    this.history.push({ role: 'assistant', content: out.text });
    return out;
  }
}
