/**
 * Preference pairs -> DPO batches. Each side of a pair is rendered with the SFT template and tokenized as in SFT
 * (src/finetune/sft-tokenize.ts); the response is the last learned run of tokens (the final reply and its EOS;
 * earlier turns of a chat are prompt here, their log-probabilities would cancel in the DPO margin anyway). A pair
 * longer than maxTokens is cut prompt first, keeping the prompt's end next to the response; only a response that
 * alone leaves no room for one prompt token is cut too, at its end. A batch of B pairs is one padded forward of 2B
 * rows: chosen rows 0..B-1, rejected rows B..2B-1, targets -100 outside the response.
 */
import { padSftBatch, type SftBatch } from '../finetune/sft-batch.ts';
import type { PreferencePair } from '../finetune/preference-data.ts';
import type { SftRecord } from '../chat/records.ts';
import { encodeRecord } from '../chat/encode.ts';
import type { SftExample } from '../finetune/sft-tokenize.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';

export interface DpoExample {
  chosen: SftExample;
  rejected: SftExample;
}

/** Prompt tokens and response tokens (the trailing learned run) of one record. */
export function splitResponse(
  tok: TextTokenizer,
  template: PromptTemplate,
  r: SftRecord,
  eosId: number,
): { prompt: number[]; response: number[] } {
  const { tokens, learned } = encodeRecord(tok, template, r, eosId);
  let end = learned.length;
  while (end > 0 && !learned[end - 1]) end--; // drop trailing prompt text (chatml's newline after a reply)
  let start = end;
  while (start > 0 && learned[start - 1]) start--;
  return { prompt: tokens.slice(0, start), response: tokens.slice(start, end) };
}

/** Inputs and targets of prompt + response, the targets -100 except where the next token is a response token. */
function toExample(prompt: readonly number[], response: readonly number[]): SftExample {
  const tokens = [...prompt, ...response];
  const n = tokens.length - 1;
  const targets = new Int32Array(n).fill(-100);
  for (let i = prompt.length - 1; i < n; i++) targets[i] = tokens[i + 1]!;
  return { ids: Int32Array.from(tokens.slice(0, n)), targets, truncated: false };
}

/**
 * Tokenizes one pair within maxTokens tokens per side (at most the model's context + 1); both sides keep the same
 * prompt tokens. Null when a side has no response token (an empty reply with no EOS) or the prompt is empty.
 */
export function tokenizeDpoPair(
  tok: TextTokenizer,
  template: PromptTemplate,
  pair: PreferencePair,
  eosId: number,
  maxTokens: number,
): DpoExample | null {
  const c = splitResponse(tok, template, pair.chosen, eosId);
  const r = splitResponse(tok, template, pair.rejected, eosId);
  if (c.response.length === 0 || r.response.length === 0 || c.prompt.length === 0) return null;
  const longest = Math.max(c.response.length, r.response.length);
  const keepPrompt = Math.max(1, Math.min(c.prompt.length, maxTokens - longest));
  const prompt = c.prompt.slice(c.prompt.length - keepPrompt);
  const room = maxTokens - prompt.length;
  const cut = c.prompt.length > keepPrompt || longest > room;
  const chosen = toExample(prompt, c.response.slice(0, room));
  const rejected = toExample(prompt, r.response.slice(0, room));
  return { chosen: { ...chosen, truncated: cut }, rejected: { ...rejected, truncated: cut } };
}

/** One forward's rows: the chosen responses of the pairs, then their rejected responses. */
export function dpoPairBatch(pairs: readonly DpoExample[], padId: number): SftBatch {
  return padSftBatch([...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)], padId);
}
