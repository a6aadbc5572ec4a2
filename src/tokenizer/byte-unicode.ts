/**
 * GPT-2's reversible byte <-> unicode mapping: every byte becomes one printable character, so a byte-level BPE
 * vocabulary can be stored as ordinary strings (encoder.json, tokenizer.json). Printable Latin-1 bytes map to
 * themselves; the other 68 bytes map to U+0100 onwards in byte order.
 */

function build(): string[] {
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b);
  for (let b = 0xae; b <= 0xff; b++) direct.push(b);
  const table = new Array<string>(256);
  const isDirect = new Set(direct);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(isDirect.has(b) ? b : 256 + next++);
  }
  return table;
}

/** BYTE_TO_CHAR[b] is the character standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = build();

/** The byte a mapped character stands for. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** Maps raw bytes to their character string. */
export function bytesToChars(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

/** Maps a character string back to bytes; returns null if a character is not a mapped byte. */
export function charsToBytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = CHAR_TO_BYTE.get(s[i]!);
    if (b === undefined) return null;
    out[i] = b;
  }
  return out;
}
