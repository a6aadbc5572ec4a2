/**
 * OpenAI's original GPT-2 tokenizer files: `encoder.json` (token -> id) and `vocab.bpe` (a version line, then
 * one merge "a b" per line), and the same two files under Hugging Face's slow-tokenizer names (`vocab.json`,
 * `merges.txt`) with the special tokens and unknown token of `tokenizer_config.json`. Errors name the file and
 * the line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteLevelBpe, TokenizerFormatError } from './bpe.ts';
import { Tokenizer } from './tokenizer.ts';

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TokenizerFormatError(
      `${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

/** Parses merges text: optional "#version" first line, then "a b" per line. */
export function parseMerges(text: string, source: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new TokenizerFormatError(
        `${source}:${i + 1}: expected a merge "left right" (two tokens separated by one space), received ${JSON.stringify(line)}`,
      );
    }
    merges.push([parts[0]!, parts[1]!]);
  });
  return merges;
}

export function loadGpt2Files(
  encoderJsonPath: string,
  vocabBpePath: string,
  opts: { specials?: ReadonlyMap<string, number>; unkToken?: string } = {},
): Tokenizer {
  let encoder: unknown;
  try {
    encoder = JSON.parse(readText(encoderJsonPath));
  } catch (e) {
    if (e instanceof TokenizerFormatError) throw e;
    throw new TokenizerFormatError(`${encoderJsonPath}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof encoder !== 'object' || encoder === null || Array.isArray(encoder)) {
    throw new TokenizerFormatError(`${encoderJsonPath}: expected a JSON object mapping token strings to ids`);
  }
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(encoder)) {
    if (typeof id !== 'number')
      throw new TokenizerFormatError(
        `${encoderJsonPath}: token ${JSON.stringify(tok)} maps to ${JSON.stringify(id)}, expected an integer id`,
      );
    vocab.set(tok, id);
  }
  const merges = parseMerges(readText(vocabBpePath), vocabBpePath);
  const specials = new Map<string, number>(opts.specials ?? []);
  const eot = vocab.get('<|endoftext|>');
  if (eot !== undefined) specials.set('<|endoftext|>', eot);
  for (const [text, id] of specials) if (vocab.get(text) === id) vocab.delete(text);
  const unkId = opts.unkToken === undefined ? undefined : (specials.get(opts.unkToken) ?? vocab.get(opts.unkToken));
  const bpe = new ByteLevelBpe(
    vocab,
    merges,
    `${encoderJsonPath} + ${vocabBpePath}`,
    unkId === undefined ? {} : { unkId },
  );
  return new Tokenizer(bpe, { pretokenizer: 'gpt2', specialTokens: specials });
}

/** The content of a special token entry of tokenizer_config.json (a string or {content}). */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const content = (v as { content?: unknown } | null | undefined)?.content;
  return typeof content === 'string' ? content : undefined;
}

/**
 * Hugging Face's slow GPT2Tokenizer files in `dir`: vocab.json + merges.txt, with added tokens, the unknown token
 * and the chat template from tokenizer_config.json when present.
 */
export function loadHfVocabMerges(dir: string): Tokenizer {
  const configPath = join(dir, 'tokenizer_config.json');
  let config: Record<string, unknown> = {};
  if (existsSync(configPath)) {
    try {
      config = JSON.parse(readText(configPath)) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof TokenizerFormatError) throw e;
      throw new TokenizerFormatError(`${configPath}: not valid JSON (${(e as Error).message})`);
    }
  }
  const specials = new Map<string, number>();
  const added = config.added_tokens_decoder;
  if (typeof added === 'object' && added !== null) {
    for (const [id, entry] of Object.entries(added as Record<string, unknown>)) {
      const text = tokenContent(entry);
      if (text !== undefined && Number.isInteger(Number(id))) specials.set(text, Number(id));
    }
  }
  const unkToken = tokenContent(config.unk_token);
  const tok = loadGpt2Files(join(dir, 'vocab.json'), join(dir, 'merges.txt'), {
    specials,
    ...(unkToken !== undefined ? { unkToken } : {}),
  });
  if (existsSync(configPath)) {
    tok.extras.tokenizerConfig = config;
    if (typeof config.chat_template === 'string') tok.extras.chatTemplate = config.chat_template;
  }
  return tok;
}
