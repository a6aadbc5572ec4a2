/**
 * Hugging Face `tokenizer.json` for byte-level BPE (GPT-2, Llama 3, Qwen2 and our own): reads model.vocab,
 * model.merges (either "a b" strings or [a, b] pairs), added_tokens, the ByteLevel (or GPT-4 style Split)
 * pre-tokenizer; writes the same layout so our tokenizers open in the Python ecosystem. Errors name the file and
 * the JSON path. `tokenizer_config.json` (chat template, special token names) is read into `extras`.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ByteLevelBpe, TokenizerFormatError } from './bpe.ts';
import { PATTERNS, type PretokenizerName } from './pretokenize.ts';
import { Tokenizer } from './tokenizer.ts';
import { writeFileAtomic } from '../util/atomic.ts';

type Json = Record<string, unknown>;

function fail(source: string, path: string, message: string): never {
  throw new TokenizerFormatError(`${source}: at ${path}: ${message}`);
}

function obj(source: string, path: string, v: unknown): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(
      source,
      path,
      `expected an object, received ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`,
    );
  return v as Json;
}

/** Which of our pre-tokenizers a tokenizer.json pre_tokenizer corresponds to. */
function pretokenizerOf(source: string, pre: unknown): PretokenizerName {
  if (pre === null || pre === undefined)
    fail(source, '$.pre_tokenizer', 'byte-level BPE needs a pre_tokenizer (ByteLevel or Split + ByteLevel)');
  const p = obj(source, '$.pre_tokenizer', pre);
  if (p.type === 'ByteLevel') {
    if (p.use_regex === false)
      fail(source, '$.pre_tokenizer.use_regex', 'ByteLevel without its regex is not supported');
    if (p.add_prefix_space === true)
      fail(source, '$.pre_tokenizer.add_prefix_space', 'add_prefix_space=true is not supported');
    return 'gpt2';
  }
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) {
    const split = (p.pretokenizers as Json[]).find((x) => x?.type === 'Split');
    const pattern = (split?.pattern as Json | undefined)?.Regex;
    // The GPT-4 style split is recognised by its digit-run cap.
    if (typeof pattern === 'string' && pattern.includes('\\p{N}{1,3}')) return 'cl100k';
    if ((p.pretokenizers as Json[]).some((x) => x?.type === 'ByteLevel' && x.use_regex !== false)) return 'gpt2';
  }
  fail(
    source,
    '$.pre_tokenizer',
    `unsupported pre_tokenizer ${JSON.stringify(p).slice(0, 200)} (expected ByteLevel, or a Sequence of a GPT-4 style Split and ByteLevel)`,
  );
}

/** Parses tokenizer.json text. */
export function parseTokenizerJson(text: string, source = 'tokenizer.json'): Tokenizer {
  let root: Json;
  try {
    root = obj(source, '$', JSON.parse(text));
  } catch (e) {
    if (e instanceof TokenizerFormatError) throw e;
    throw new TokenizerFormatError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const model = obj(source, '$.model', root.model);
  if (model.type !== undefined && model.type !== 'BPE')
    fail(source, '$.model.type', `expected "BPE", received ${JSON.stringify(model.type)}`);
  const rawVocab = obj(source, '$.model.vocab', model.vocab);
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(rawVocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id))
      fail(source, `$.model.vocab[${JSON.stringify(tok)}]`, `expected an integer id, received ${JSON.stringify(id)}`);
    vocab.set(tok, id);
  }
  if (!Array.isArray(model.merges)) fail(source, '$.model.merges', 'expected an array');
  const merges: [string, string][] = (model.merges as unknown[]).map((m, i) => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2)
        fail(source, `$.model.merges[${i}]`, `expected "left right", received ${JSON.stringify(m)}`);
      return [parts[0]!, parts[1]!];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    return fail(
      source,
      `$.model.merges[${i}]`,
      `expected "left right" or ["left", "right"], received ${JSON.stringify(m)}`,
    );
  });
  const specials = new Map<string, number>();
  const added = root.added_tokens ?? [];
  if (!Array.isArray(added)) fail(source, '$.added_tokens', 'expected an array');
  (added as unknown[]).forEach((a, i) => {
    const t = obj(source, `$.added_tokens[${i}]`, a);
    if (typeof t.content !== 'string' || typeof t.id !== 'number')
      fail(source, `$.added_tokens[${i}]`, 'expected {id: number, content: string}');
    specials.set(t.content, t.id);
    if (vocab.get(t.content) === t.id) vocab.delete(t.content);
  });
  const pretokenizer = pretokenizerOf(source, root.pre_tokenizer);
  return new Tokenizer(new ByteLevelBpe(vocab, merges, source), { pretokenizer, specialTokens: specials });
}

/** Loads a tokenizer from a tokenizer.json file or a directory holding one (plus tokenizer_config.json). */
export function loadTokenizerJson(path: string): Tokenizer {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TokenizerFormatError(
      `${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const tok = parseTokenizerJson(text, file);
  const configPath = join(file, '..', 'tokenizer_config.json');
  if (existsSync(configPath)) {
    try {
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as Json;
      tok.extras.tokenizerConfig = config;
      if (typeof config.chat_template === 'string') tok.extras.chatTemplate = config.chat_template;
    } catch (e) {
      throw new TokenizerFormatError(`${configPath}: not valid JSON (${(e as Error).message})`);
    }
  }
  return tok;
}

/** The tokenizer.json document for a tokenizer (ByteLevel pre-tokenizer/decoder/post-processor, BPE model). */
export function toTokenizerJson(tok: Tokenizer): Json {
  const vocab: Record<string, number> = {};
  tok.bpe.idToToken.forEach((t, id) => {
    if (t !== '') vocab[t] = id;
  });
  const added = [...tok.specialTokens].map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const pre =
    tok.pretokenizer === 'gpt2'
      ? byteLevel
      : {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: PATTERNS.cl100k }, behavior: 'Isolated', invert: false },
            { ...byteLevel, use_regex: false },
          ],
        };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.sort((a, b) => a.id - b.id),
    normalizer: null,
    pre_tokenizer: pre,
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: tok.bpe.merges.map(([a, b]) => [a, b]),
    },
  };
}

/**
 * Writes tokenizer.json and tokenizer_config.json (special tokens, and the chat template when the tokenizer
 * carries one) into `dir`, each atomically (temporary file, then rename).
 */
export function saveTokenizer(dir: string, tok: Tokenizer): void {
  mkdirSync(dir, { recursive: true });
  const specials = [...tok.specialTokens.keys()];
  const previous = (tok.extras.tokenizerConfig as Json | undefined) ?? {};
  const config: Json = {
    ...previous,
    tokenizer_class: previous.tokenizer_class ?? 'PreTrainedTokenizerFast',
    model_max_length: previous.model_max_length ?? 1_000_000,
    ...(specials.includes('<|endoftext|>')
      ? { eos_token: previous.eos_token ?? '<|endoftext|>', bos_token: previous.bos_token ?? '<|endoftext|>' }
      : {}),
    ...(typeof tok.extras.chatTemplate === 'string' ? { chat_template: tok.extras.chatTemplate } : {}),
  };
  for (const [name, doc] of [
    ['tokenizer.json', toTokenizerJson(tok)],
    ['tokenizer_config.json', config],
  ] as const) {
    writeFileAtomic(join(dir, name), `${JSON.stringify(doc, null, name === 'tokenizer.json' ? undefined : 2)}\n`);
  }
}
