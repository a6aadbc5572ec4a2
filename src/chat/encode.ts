/**
 * Prompt encoding shared by fine-tuning, alignment, evaluation and serving: a record rendered by its template and
 * encoded segment by segment, an EOS token after every response (so training and generation see the same ids), each
 * token marked as learned (part of a response or its EOS) or not; and the ids to generate a reply from (the turns so
 * far, encoded the same way, then the template's assistant cue).
 */
import { encodeDocument, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { SftRecord } from './records.ts';
import type { PromptTemplate } from './templates.ts';

function encodeText(tok: TextTokenizer, text: string, specials: boolean): number[] {
  if (specials && tok instanceof Tokenizer) return tok.encode(text, { special: 'allow' });
  return encodeDocument(tok, text);
}

/** Token ids of the whole record and, per token, whether it is learned (part of a response or its EOS). */
export function encodeRecord(
  tok: TextTokenizer,
  template: PromptTemplate,
  r: SftRecord,
  eosId: number,
): { tokens: number[]; learned: boolean[] } {
  const tokens: number[] = [];
  const learned: boolean[] = [];
  for (const seg of template.segments(r)) {
    const ids = encodeText(tok, seg.text, template.specialsInText);
    if (seg.train && ids[ids.length - 1] !== eosId) ids.push(eosId);
    for (const id of ids) {
      tokens.push(id);
      learned.push(seg.train);
    }
  }
  return { tokens, learned };
}

/**
 * Ids to generate a reply from: the record's turns encoded as in training (an EOS after every earlier response),
 * then the template's assistant cue. Falls back to encoding `template.prompt` whole when the cue cannot be split.
 */
export function encodePrompt(tok: TextTokenizer, template: PromptTemplate, r: SftRecord, eosId: number): number[] {
  const prompt = template.prompt(r);
  const turns = template.segments(r).filter((s) => !s.train || s.text !== '');
  const text = turns.map((s) => s.text).join('');
  if (!prompt.startsWith(text)) return encodeText(tok, prompt, template.specialsInText);
  const ids = encodeRecord(tok, template, r, eosId).tokens;
  return ids.concat(encodeText(tok, prompt.slice(text.length), template.specialsInText));
}
