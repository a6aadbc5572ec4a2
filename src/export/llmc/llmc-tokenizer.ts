/**
 * llm.c's tokenizer file (`gpt2_tokenizer.bin`), which its samplers use to print text: a 1024-byte header (magic
 * 20240328, version 2, vocabulary size, end-of-text id), then for each id its byte string as one length byte and
 * the bytes. Written from a byte-level BPE `Tokenizer` (special tokens as their UTF-8 text); ids without a token
 * are written as empty strings.
 */
import { writeFileAtomic } from '../../util/atomic.ts';
import { eosId } from '../../tokenizer/text-tokenizer.ts';
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import {
  headerBytes,
  LLMC_TOKENIZER_MAGIC,
  LLMC_TOKENIZER_VERSION,
  LlmcFormatError,
  newHeader,
} from '../../io/llmc/llmc-format.ts';

/** Writes `tok` (padded with empty tokens to `vocabSize` ids) as an llm.c tokenizer file. */
export function writeLlmcTokenizer(path: string, tok: Tokenizer, vocabSize = tok.vocabSize): void {
  const h = newHeader(LLMC_TOKENIZER_MAGIC, LLMC_TOKENIZER_VERSION);
  h[2] = vocabSize;
  h[3] = eosId(tok) ?? 0;
  const parts: Uint8Array[] = [headerBytes(h)];
  const specials = new Map([...tok.specialTokens].map(([text, id]) => [id, text]));
  for (let id = 0; id < vocabSize; id++) {
    const known = specials.has(id) || (tok.bpe.idToToken[id] ?? '') !== '';
    const bytes = known ? tok.decodeBytes([id]) : new Uint8Array(0);
    if (bytes.length > 255)
      throw new LlmcFormatError(
        `${path}: token ${id} is ${bytes.length} bytes long; llm.c stores at most 255 per token`,
      );
    parts.push(Uint8Array.of(bytes.length), bytes);
  }
  writeFileAtomic(path, Buffer.concat(parts));
}
