/**
 * Tokenizer: text <-> token ids with byte-level BPE. Encoding splits out special tokens (when allowed), splits
 * the rest with the pre-tokenization regex, turns each word into UTF-8 bytes and applies BPE merges (cached per
 * word in an LRU). Decoding maps ids back to bytes and then to text; the round trip is exact for any string
 * (lone UTF-16 surrogates, which have no UTF-8 form, are encoded as U+FFFD as TextEncoder does).
 */
import { type ByteLevelBpe, TokenizerFormatError } from './bpe.ts';
import { CHAR_TO_BYTE } from './byte-unicode.ts';
import { LruCache } from './lru.ts';
import { pretokenizerRegex, type PretokenizerName } from './pretokenize.ts';
import { UserError } from '../util/user-error.ts';

/**
 * What to do with special-token text (e.g. "<|endoftext|>") found in the input:
 * 'reject' throws (the default: user text should not smuggle control tokens), 'allow' encodes it as the special
 * token, 'text' encodes it as ordinary text.
 */
export type SpecialMode = 'reject' | 'allow' | 'text';

export interface EncodeOptions {
  special?: SpecialMode;
}

export class SpecialTokenError extends UserError {}

const encoder = new TextEncoder();
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Tokenizer {
  readonly bpe: ByteLevelBpe;
  readonly pretokenizer: PretokenizerName;
  /** Special token text -> id (added tokens such as <|endoftext|>). */
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly specialById = new Map<number, string>();
  private readonly regex: RegExp;
  private readonly specialRegex: RegExp | null;
  private readonly cache = new LruCache<string, number[]>(50_000);
  /** Extra settings carried through load/save (e.g. the chat template from tokenizer_config.json). */
  readonly extras: Record<string, unknown> = {};

  constructor(
    bpe: ByteLevelBpe,
    opts: { pretokenizer?: PretokenizerName; specialTokens?: ReadonlyMap<string, number> } = {},
  ) {
    this.bpe = bpe;
    this.pretokenizer = opts.pretokenizer ?? 'gpt2';
    this.regex = pretokenizerRegex(this.pretokenizer);
    this.specialTokens = opts.specialTokens ?? new Map();
    for (const [text, id] of this.specialTokens) {
      if (text.length === 0) throw new TokenizerFormatError('Tokenizer: a special token cannot be empty');
      this.specialById.set(id, text);
    }
    const alternatives = [...this.specialTokens.keys()].sort((a, b) => b.length - a.length).map(escapeRegex);
    this.specialRegex = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'g') : null;
  }

  /** Number of ids (the largest id + 1, special tokens included). */
  get vocabSize(): number {
    let n = this.bpe.vocabSize;
    for (const id of this.specialTokens.values()) n = Math.max(n, id + 1);
    return n;
  }

  /** The id of a special token, or undefined. */
  specialId(text: string): number | undefined {
    return this.specialTokens.get(text);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const mode = opts.special ?? 'reject';
    const out: number[] = [];
    if (this.specialRegex === null || mode === 'text') {
      this.encodeOrdinary(text, out);
      return out;
    }
    let last = 0;
    this.specialRegex.lastIndex = 0;
    for (let m = this.specialRegex.exec(text); m !== null; m = this.specialRegex.exec(text)) {
      if (mode === 'reject') {
        throw new SpecialTokenError(
          `encode: the text contains the special token ${JSON.stringify(m[0])} at offset ${m.index}; ` +
            "pass { special: 'allow' } to encode it as a special token or { special: 'text' } to encode it as plain text",
        );
      }
      this.encodeOrdinary(text.slice(last, m.index), out);
      out.push(this.specialTokens.get(m[0])!);
      last = m.index + m[0].length;
    }
    this.encodeOrdinary(text.slice(last), out);
    return out;
  }

  /** Encodes many texts (same options for each). */
  encodeBatch(texts: readonly string[], opts: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, opts));
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (text.length === 0) return;
    const re = this.regex;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const word = m[0];
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = this.bpe.encodeBytes(encoder.encode(word));
        this.cache.set(word, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    }
  }

  /** The bytes that ids stand for (special tokens as their UTF-8 text). Throws on an unknown id. */
  decodeBytes(ids: readonly number[]): Uint8Array {
    const parts: number[] = [];
    for (const [pos, id] of ids.entries()) {
      const special = this.specialById.get(id);
      if (special !== undefined) {
        for (const b of encoder.encode(special)) parts.push(b);
        continue;
      }
      const tok = this.bpe.idToToken[id];
      if (tok === undefined || tok === '')
        throw new RangeError(`decode: id ${id} at position ${pos} is not in the vocabulary (size ${this.vocabSize})`);
      for (const ch of tok) parts.push(CHAR_TO_BYTE.get(ch)!);
    }
    return Uint8Array.from(parts);
  }

  /** Text for ids; byte sequences that are not valid UTF-8 (e.g. a cut multi-byte character) become U+FFFD. */
  decode(ids: readonly number[]): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /** The text of one token (may be a partial UTF-8 character, shown with U+FFFD). */
  tokenText(id: number): string {
    return this.decode([id]);
  }

  /** A decoder for generation: push ids as they come, get text back, incomplete UTF-8 held until complete. */
  streamDecoder(): StreamDecoder {
    return new StreamDecoder(this);
  }
}

/** Incremental decoding that never emits half a UTF-8 character. */
export class StreamDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  constructor(private readonly tokenizer: Tokenizer) {}

  /** Text completed by these ids (possibly ''). */
  push(ids: readonly number[]): string {
    return this.decoder.decode(this.tokenizer.decodeBytes(ids), { stream: true });
  }

  /** Whatever is held back, with U+FFFD for an incomplete final character. */
  flush(): string {
    return this.decoder.decode();
  }
}
