/**
 * The character-level tokenizer (the classic tinyshakespeare baseline): one id per distinct Unicode code point
 * of the training text, sorted, with an error naming the character and offset for text outside the vocabulary.
 */
export class CharTokenizer {
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    this.chars = chars;
    this.index = new Map(chars.map((c, i) => [c, i]));
    if (this.index.size !== chars.length) throw new RangeError('CharTokenizer: characters must be distinct');
  }

  /** The sorted set of code points in `text`. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(Array.from(text))].sort());
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let offset = 0;
    for (const c of text) {
      const id = this.index.get(c);
      if (id === undefined)
        throw new RangeError(
          `CharTokenizer.encode: character ${JSON.stringify(c)} at offset ${offset} is not in the vocabulary`,
        );
      out.push(id);
      offset += c.length;
    }
    return out;
  }

  decode(ids: readonly number[]): string {
    return ids
      .map((id, pos) => {
        const c = this.chars[id];
        if (c === undefined)
          throw new RangeError(
            `CharTokenizer.decode: id ${id} at position ${pos} is out of range [0, ${this.chars.length})`,
          );
        return c;
      })
      .join('');
  }
}
