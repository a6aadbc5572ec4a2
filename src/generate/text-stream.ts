/**
 * Turning generated ids into text as they arrive. A byte-level BPE `Tokenizer` streams through its own
 * `streamDecoder()`, which holds back an incomplete UTF-8 character until its last byte comes. Any other
 * `TextTokenizer` is decoded incrementally: the ids so far are decoded and the part not yet released is returned,
 * with trailing U+FFFD characters held back while they may still complete. Ids the model has but the tokenizer does
 * not (a vocabulary padded for speed) have no text.
 */
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { Tokenizer, type StreamDecoder } from '../tokenizer/tokenizer.ts';

export class TextStream {
  private readonly decoder: StreamDecoder | null;
  private readonly ids: number[] = [];
  private released = '';

  constructor(private readonly tokenizer: TextTokenizer) {
    this.decoder = tokenizer instanceof Tokenizer ? tokenizer.streamDecoder() : null;
  }

  /** Text completed by this token (possibly ''). */
  push(id: number): string {
    if (id >= this.tokenizer.vocabSize) return '';
    if (this.decoder) return this.decoder.push([id]);
    this.ids.push(id);
    let text = this.tokenizer.decode(this.ids);
    let end = text.length;
    while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
    text = text.slice(0, end);
    // Only text past what was already released is new (for a decode that is not prefix-stable, a best effort).
    const fresh = text.slice(this.released.length);
    if (text.length > this.released.length) this.released = text;
    return fresh;
  }

  /** Whatever is still held back (an incomplete character decodes as U+FFFD). */
  flush(): string {
    if (this.decoder) return this.decoder.flush();
    const text = this.tokenizer.decode(this.ids);
    const fresh = text.startsWith(this.released) ? text.slice(this.released.length) : '';
    this.released = text;
    return fresh;
  }
}
