/**
 * Judged answers: responses (a JSONL of {prompt, response, reference?}, e.g. `finetune sft`'s responses.jsonl)
 * scored by a reward model, summarized as the mean reward; two response files on the same prompts give a pairwise
 * win rate (A beats B when its reward is higher; a tie counts half); references, when present, add exact match and
 * ROUGE-L F1. A prompt already rendered by the reward model's own template (as SFT writes it) is unwrapped back to
 * the user turn before the reward model renders it again.
 */
import { exactMatch, rougeL } from './rouge.ts';
import { loadJsonRecords } from '../data/json-records.ts';
import type { SftRecord } from '../chat/records.ts';
import type { PromptTemplate } from '../chat/templates.ts';
import { wilsonInterval, type Interval } from './wilson.ts';
import { UserError } from '../util/user-error.ts';

export class JudgeInputError extends UserError {}

export interface JudgedResponse {
  prompt: string;
  response: string;
  reference?: string;
  /** Where the row came from ("file:line"). */
  where: string;
}

/** Checks one parsed line of a responses file. */
export function parseResponseRow(value: unknown, where: string): JudgedResponse {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JudgeInputError(
      `${where}: expected an object {"prompt", "response", "reference"?}, received ${(JSON.stringify(value) ?? String(value)).slice(0, 60)}`,
    );
  const o = value as Record<string, unknown>;
  for (const field of ['prompt', 'response'] as const) {
    if (typeof o[field] !== 'string')
      throw new JudgeInputError(
        `${where}: field "${field}" must be a string, received ${o[field] === undefined ? 'nothing' : (JSON.stringify(o[field]) ?? '').slice(0, 60)}`,
      );
  }
  if (o.reference !== undefined && o.reference !== null && typeof o.reference !== 'string')
    throw new JudgeInputError(
      `${where}: field "reference" must be a string when given, received ${(JSON.stringify(o.reference) ?? '').slice(0, 60)}`,
    );
  return {
    prompt: o.prompt as string,
    response: o.response as string,
    ...(typeof o.reference === 'string' ? { reference: o.reference } : {}),
    where,
  };
}

export function loadResponses(path: string): JudgedResponse[] {
  return loadJsonRecords(path, parseResponseRow, 'responses {"prompt", "response", "reference"?}');
}

const SENTINEL = '\u0000judge-user-turn\u0000';

/** The user turn inside `prompt` when `prompt` is the template's rendering of one user turn, else `prompt` itself. */
export function userTurn(template: PromptTemplate, prompt: string): string {
  const [prefix, suffix] = template
    .prompt({ kind: 'chat', messages: [{ role: 'user', content: SENTINEL }] })
    .split(SENTINEL) as [string, string | undefined];
  if (suffix === undefined) return prompt;
  const fits = prompt.length >= prefix.length + suffix.length && prompt.startsWith(prefix) && prompt.endsWith(suffix);
  return fits ? prompt.slice(prefix.length, prompt.length - suffix.length) : prompt;
}

/** The chat record a reward model scores for one row. */
export function rewardRecord(template: PromptTemplate, row: JudgedResponse): SftRecord {
  return {
    kind: 'chat',
    messages: [
      { role: 'user', content: userTurn(template, row.prompt) },
      { role: 'assistant', content: row.response },
    ],
  };
}

export interface WinRate {
  n: number;
  wins: number;
  losses: number;
  ties: number;
  /** (wins + ties / 2) / n. */
  winRate: number;
  /** 95% Wilson interval of wins / (wins + losses), the win rate among decided pairs. */
  ci: Interval;
}

/** A's win rate over B from paired rewards (a[i] and b[i] answer the same prompt). */
export function winRate(a: readonly number[], b: readonly number[]): WinRate {
  if (a.length !== b.length || a.length === 0)
    throw new RangeError(
      `winRate: expected two equally long, non-empty reward lists, received ${a.length} and ${b.length}`,
    );
  let wins = 0;
  let losses = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) wins++;
    else if (a[i]! < b[i]!) losses++;
  }
  const n = a.length;
  const ties = n - wins - losses;
  return { n, wins, losses, ties, winRate: (wins + ties / 2) / n, ci: wilsonInterval(wins, wins + losses) };
}

/**
 * Pairs the rows of B with those of A by prompt (the k-th occurrence of a prompt in A with its k-th in B): indices
 * into B, in A's order. Every prompt must be answered equally often in both files.
 */
export function pairByPrompt(
  a: readonly JudgedResponse[],
  b: readonly JudgedResponse[],
  aName: string,
  bName: string,
): number[] {
  const slots = new Map<string, number[]>();
  b.forEach((r, i) => {
    const list = slots.get(r.prompt);
    if (list) list.push(i);
    else slots.set(r.prompt, [i]);
  });
  const out = a.map((r) => {
    const i = slots.get(r.prompt)?.shift();
    if (i === undefined)
      throw new JudgeInputError(
        `${r.where}: ${bName} has no response to this prompt (${JSON.stringify(r.prompt.slice(-60))}); A and B must answer the same prompts`,
      );
    return i;
  });
  const left = [...slots.values()].flat();
  if (left.length > 0)
    throw new JudgeInputError(
      `${b[left[0]!]!.where}: ${aName} has no response to this prompt (${JSON.stringify(b[left[0]!]!.prompt.slice(-60))}); A and B must answer the same prompts`,
    );
  return out;
}

export interface ReferenceScores {
  /** Rows with a reference. */
  n: number;
  exactMatch: number;
  /** Mean ROUGE-L F1. */
  rougeL: number;
}

/** Exact match rate and mean ROUGE-L F1 over the rows that carry a reference; null when none does. */
export function referenceScores(rows: readonly JudgedResponse[]): ReferenceScores | null {
  const withRef = rows.filter((r): r is JudgedResponse & { reference: string } => r.reference !== undefined);
  if (withRef.length === 0) return null;
  const em = withRef.filter((r) => exactMatch(r.response, r.reference)).length;
  const rl = withRef.reduce((s, r) => s + rougeL(r.response, r.reference).f1, 0);
  return { n: withRef.length, exactMatch: em / withRef.length, rougeL: rl / withRef.length };
}
