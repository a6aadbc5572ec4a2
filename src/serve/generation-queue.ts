/**
 * One generation at a time: requests wait their turn in arrival order (`GenerationQueue.run`), and each generation
 * runs `generateTokens` one token per turn of the event loop (`runGeneration`), so the server keeps accepting
 * connections and notices a client that went away; an aborted signal ends the generation after the current token
 * (a request aborted while still waiting never starts).
 */
import { generateTokens, type GenerateOptions, type GenerateSummary } from '../generate/generate.ts';
import type { LanguageModel } from '../models/model.ts';

export class GenerationQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Requests queued or running. */
  get size(): number {
    return this.waiting;
  }

  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => {});
  }

  /** Runs `task` after every task queued before it has settled; its result (or error) is returned. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(task).finally(() => this.waiting--);
    this.tail = result.catch(() => {});
    return result;
  }
}

export interface GenerationResult {
  /** The generation's summary, or null when it was aborted before the end. */
  summary: GenerateSummary | null;
  /** Tokens generated (up to the abort, if any). */
  tokens: number;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Generates from `promptIds` (see generateTokens), yielding to the event loop after each token; stops when `signal` aborts. */
export async function runGeneration(
  model: LanguageModel,
  promptIds: readonly number[],
  opts: GenerateOptions,
  signal: AbortSignal,
): Promise<GenerationResult> {
  if (signal.aborted) return { summary: null, tokens: 0 };
  const it = generateTokens(model, promptIds, opts);
  let tokens = 0;
  try {
    for (;;) {
      const r = it.next();
      if (r.done) return { summary: r.value, tokens };
      tokens++;
      await nextTurn();
      if (signal.aborted) return { summary: null, tokens };
    }
  } finally {
    it.return(undefined as never); // restores the model's training flag when abandoned; a no-op once finished
  }
}
