/**
 * One instruction record -> token ids and next-token targets for supervised fine-tuning: the record is encoded by
 * src/chat/encode.ts (an EOS token follows every response, so the model learns to stop), and a target is
 * -100 (ignored by the loss) unless the token it predicts belongs to a response, or masking is off. Also the
 * `--preview` rendering, one line per token with the learned and the masked positions marked.
 */
import { encodeRecord } from '../chat/encode.ts';
import type { SftRecord } from '../chat/records.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';

export interface SftExample {
  /** Input ids (n). */
  ids: Int32Array;
  /** Target per input position (n): the next token, or -100 where masked. */
  targets: Int32Array;
  /** The full sequence was longer than maxLen + 1 tokens and was cut. */
  truncated: boolean;
}

export interface TokenizeOptions {
  eosId: number;
  /** Loss on response tokens only (default true); false learns every token. */
  maskPrompt?: boolean;
  /** Longest input (the model's blockSize); the sequence is cut to maxLen + 1 tokens. */
  maxLen: number;
}

export function tokenizeRecord(
  tok: TextTokenizer,
  template: PromptTemplate,
  r: SftRecord,
  opts: TokenizeOptions,
): SftExample {
  const mask = opts.maskPrompt ?? true;
  let { tokens, learned } = encodeRecord(tok, template, r, opts.eosId);
  const truncated = tokens.length > opts.maxLen + 1;
  if (truncated) {
    tokens = tokens.slice(0, opts.maxLen + 1);
    learned = learned.slice(0, opts.maxLen + 1);
  }
  const n = Math.max(tokens.length - 1, 0);
  const ids = Int32Array.from(tokens.slice(0, n));
  const targets = new Int32Array(n);
  for (let i = 0; i < n; i++) targets[i] = !mask || learned[i + 1] ? tokens[i + 1]! : -100;
  return { ids, targets, truncated };
}

/** A readable view of one record: the rendered text, then each token marked LEARN (a loss target) or masked. */
export function formatPreview(
  tok: TextTokenizer,
  template: PromptTemplate,
  r: SftRecord,
  opts: TokenizeOptions,
): string {
  const ex = tokenizeRecord(tok, template, r, opts);
  const tokens = [...ex.ids];
  const { tokens: full } = encodeRecord(tok, template, r, opts.eosId);
  if (full.length > tokens.length) tokens.push(full[tokens.length]!);
  const learnedCount = ex.targets.filter((t) => t !== -100).length;
  const rendered = template
    .segments(r)
    .map((s) => (s.train ? `${s.text}<eos>` : s.text))
    .join('');
  const lines = [
    `template: ${template.name}, loss on ${(opts.maskPrompt ?? true) ? 'response tokens only' : 'every token'}`,
    '--- rendered ---',
    rendered,
    '--- tokens ---',
  ];
  lines.push(
    `${tokens.length} tokens: ${learnedCount} learned (LEARN: a loss target), ${tokens.length - learnedCount} masked${ex.truncated ? `; cut to ${opts.maxLen + 1} tokens (the context length)` : ''}`,
  );
  tokens.forEach((id, j) => {
    const learn = j > 0 && ex.targets[j - 1] !== -100;
    const text = id === opts.eosId ? '<eos>' : JSON.stringify(tok.decode([id]));
    lines.push(`${String(j).padStart(5)} ${String(id).padStart(6)}  ${learn ? 'LEARN ' : 'masked'}  ${text}`);
  });
  return lines.join('\n');
}
