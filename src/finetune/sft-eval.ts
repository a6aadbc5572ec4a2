/**
 * SFT evaluation on held-out records: validation loss over response tokens (the same targets as training),
 * and greedy responses to the held-out instructions scored against their references by exact match and ROUGE-L,
 * returned as rows ready to save as JSONL for later judging.
 */
import { generate } from '../generate/generate.ts';
import type { LanguageModel } from '../models/model.ts';
import { noGrad } from '../tensor/autograd.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { padSftBatch } from './sft-batch.ts';
import { splitReference, type SftRecord } from '../chat/records.ts';
import { encodePrompt } from '../chat/encode.ts';
import type { SftExample } from './sft-tokenize.ts';
import { exactMatch, rougeL } from '../eval/rouge.ts';
import type { PromptTemplate } from '../chat/templates.ts';

/** Mean cross-entropy per learned target over all examples (batches of B, padded). */
export function sftValidationLoss(
  model: LanguageModel,
  examples: readonly SftExample[],
  B: number,
  padId: number,
): number {
  let sum = 0;
  let count = 0;
  noGrad(() => {
    for (let i = 0; i < examples.length; i += B) {
      const batch = padSftBatch(examples.slice(i, i + B), padId);
      const n = batch.targets.filter((t) => t !== -100).length;
      if (n === 0) continue;
      const { loss } = model.forward(batch.ids, batch.B, batch.T, batch.targets);
      sum += loss!.data[0]! * n;
      count += n;
    }
  });
  return count === 0 ? Number.NaN : sum / count;
}

export interface ResponseRow {
  prompt: string;
  reference: string;
  response: string;
  exactMatch: boolean;
  rougeL: number;
  stopReason: string;
}

export interface ResponseScores {
  rows: ResponseRow[];
  exactMatch: number;
  rougeL: number;
}

/** Greedy responses to each record's prompt (its last answer removed), scored against that answer. */
export function respondAndScore(
  model: LanguageModel,
  tok: TextTokenizer,
  template: PromptTemplate,
  records: readonly SftRecord[],
  opts: { eosId: number; maxNewTokens: number; onRow?: (i: number) => void },
): ResponseScores {
  const rows: ResponseRow[] = [];
  records.forEach((r, i) => {
    const { prompt, reference } = splitReference(r);
    const text = template.prompt(prompt);
    const ids = encodePrompt(tok, template, prompt, opts.eosId);
    const out = generate(model, ids, {
      temperature: 0,
      maxNewTokens: opts.maxNewTokens,
      eosId: opts.eosId,
      tokenizer: tok,
      onContextFull: 'stop',
    });
    const response = out.text;
    rows.push({
      prompt: text,
      reference,
      response,
      exactMatch: exactMatch(response, reference),
      rougeL: rougeL(response, reference).f1,
      stopReason: out.stopReason,
    });
    opts.onRow?.(i);
  });
  const mean = (f: (r: ResponseRow) => number): number =>
    rows.length === 0 ? 0 : rows.reduce((s, r) => s + f(r), 0) / rows.length;
  return { rows, exactMatch: mean((r) => (r.exactMatch ? 1 : 0)), rougeL: mean((r) => r.rougeL) };
}
