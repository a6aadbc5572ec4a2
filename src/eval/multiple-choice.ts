/**
 * Multiple-choice accuracy by log-likelihood, as EleutherAI's lm-evaluation-harness scores such tasks: each choice
 * is appended to the item's context after one space and the model's log-probability of the choice's tokens given
 * everything before them is summed. The prediction is the choice with the highest sum ("acc") and, to remove the
 * bias towards short answers, the highest sum divided by the choice's length in UTF-8 bytes ("acc_norm"). A
 * sequence longer than the model's context keeps its last tokens (the choice always survives). Sequences run
 * batched by length, without autograd; log-softmax is taken in float64. Accuracy comes with a 95% Wilson interval.
 */
import type { LanguageModel } from '../models/model.ts';
import { noGrad } from '../tensor/autograd.ts';
import { encodeDocument, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import type { McItem } from './mc-items.ts';
import { wilsonInterval, type Interval } from './wilson.ts';
import { UserError } from '../util/user-error.ts';

export class McScoreError extends UserError {}

export interface McPrediction {
  /** 0-based item index in the input. */
  index: number;
  answer: number;
  /** Summed log-probability (nats) of each choice's tokens. */
  logprobs: number[];
  /** logprobs[i] / UTF-8 bytes of choice i. */
  normalized: number[];
  /** Argmax of logprobs (first on ties). */
  pred: number;
  /** Argmax of normalized (first on ties). */
  predNorm: number;
}

export interface McResult {
  items: McPrediction[];
  n: number;
  correct: number;
  correctNorm: number;
  accuracy: number;
  accuracyNorm: number;
  /** 95% Wilson intervals of the two accuracies. */
  ci: Interval;
  ciNorm: Interval;
  /** Sequences whose context was cut on the left to fit the model. */
  truncated: number;
}

export interface McOptions {
  /** Sequences per forward pass (default: as many as keep the logits near 32M floats, at most 64). */
  batchSize?: number;
  /** Called with 0 before the first forward pass, then after each, with sequences done and total. */
  onProgress?: (done: number, total: number) => void;
}

/** One (item, choice) sequence: the model reads `ids`, and targets ids[from..] are the choice's tokens. */
interface McRequest {
  item: number;
  choice: number;
  ids: number[];
  /** Index in `ids` of the choice's first token. */
  from: number;
}

const argmax = (xs: readonly number[]): number => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/** The text a choice is scored as: one space between context and choice unless either side already has one. */
export function continuation(context: string, choice: string): string {
  return /\s$/.test(context) || /^\s/.test(choice) ? choice : ` ${choice}`;
}

function encode(tok: TextTokenizer, text: string, what: string): number[] {
  try {
    return encodeDocument(tok, text);
  } catch (e) {
    throw new McScoreError(
      `multiple choice: cannot tokenize ${what} with the model's tokenizer (${(e as Error).message})`,
    );
  }
}

function buildRequests(
  items: readonly McItem[],
  tok: TextTokenizer,
  block: number,
): { requests: McRequest[]; truncated: number } {
  const requests: McRequest[] = [];
  let truncated = 0;
  items.forEach((it, i) => {
    const ctx = encode(tok, it.context, `item ${i}'s context`);
    it.choices.forEach((c, j) => {
      const cont = encode(tok, continuation(it.context, c), `item ${i} choice ${j}`);
      if (cont.length > block)
        throw new McScoreError(
          `multiple choice: item ${i} choice ${j} is ${cont.length} tokens, more than the model's context ${block} can score`,
        );
      let ids = [...ctx, ...cont];
      if (ids.length > block + 1) {
        ids = ids.slice(ids.length - block - 1);
        truncated++;
      }
      requests.push({ item: i, choice: j, ids, from: ids.length - cont.length });
    });
  });
  return { requests, truncated };
}

/** Scores every item (see the file comment). */
export function scoreMultipleChoice(
  model: LanguageModel,
  tok: TextTokenizer,
  items: readonly McItem[],
  opts: McOptions = {},
): McResult {
  const block = model.config.blockSize;
  const V = model.config.vocabSize;
  const { requests, truncated } = buildRequests(items, tok, block);
  const logprobs = items.map((it) => new Array<number>(it.choices.length).fill(0));
  // Longest first, so each batch pads little.
  const order = requests.map((_, i) => i).sort((a, b) => requests[b]!.ids.length - requests[a]!.ids.length);
  const wasTraining = model.training;
  model.eval();
  opts.onProgress?.(0, requests.length);
  try {
    noGrad(() => {
      for (let s = 0; s < order.length; ) {
        const T = requests[order[s]!]!.ids.length - 1; // inputs: all but the last token
        const maxB = opts.batchSize ?? Math.max(1, Math.min(64, Math.floor(2 ** 25 / (Math.max(1, T) * V))));
        const batch = order.slice(s, s + maxB).map((k) => requests[k]!);
        const B = batch.length;
        const input = new Int32Array(B * T); // right-padded with id 0: causal attention never reads the padding
        batch.forEach((r, b) => {
          input.set(r.ids.slice(0, -1), b * T);
        });
        const logits = model.forward(input, B, T).logits.data; // (B, T, V)
        batch.forEach((r, b) => {
          let sum = 0;
          for (let t = r.from - 1; t < r.ids.length - 1; t++) {
            const row = logits.subarray((b * T + t) * V, (b * T + t + 1) * V);
            let max = -Infinity;
            for (let v = 0; v < V; v++) if (row[v]! > max) max = row[v]!;
            let z = 0;
            for (let v = 0; v < V; v++) z += Math.exp(row[v]! - max);
            sum += row[r.ids[t + 1]!]! - max - Math.log(z);
          }
          logprobs[r.item]![r.choice] = sum;
        });
        s += B;
        opts.onProgress?.(s, requests.length);
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const preds: McPrediction[] = items.map((it, i) => {
    const lp = logprobs[i]!;
    const normalized = lp.map((x, j) => x / Math.max(1, Buffer.byteLength(it.choices[j]!)));
    return { index: i, answer: it.answer, logprobs: lp, normalized, pred: argmax(lp), predNorm: argmax(normalized) };
  });
  const n = preds.length;
  const correct = preds.filter((p) => p.pred === p.answer).length;
  const correctNorm = preds.filter((p) => p.predNorm === p.answer).length;
  return {
    items: preds,
    n,
    correct,
    correctNorm,
    accuracy: correct / n,
    accuracyNorm: correctNorm / n,
    ci: wilsonInterval(correct, n),
    ciNorm: wilsonInterval(correctNorm, n),
    truncated,
  };
}
