/**
 * Multiple-choice items for `llmforge eval mc`, read from JSONL (or a JSON array): each has a `question` or a
 * `context` (the text the choices continue), `choices` (at least two distinct non-empty strings) and `answer`, the
 * correct choice as its 0-based index or as its text. A malformed item is one error naming the file, line and field,
 * what was expected and what was received. An optional `category` string groups items for per-category accuracy.
 */
import { loadJsonRecords } from '../data/json-records.ts';
import { UserError } from '../util/user-error.ts';

export class McItemError extends UserError {}

export interface McItem {
  /** The text the choices continue (the item's `context`, else its `question`). */
  context: string;
  choices: string[];
  /** Index of the correct choice. */
  answer: number;
  /** Optional group name (the item's `category`): accuracy is also reported per category. */
  category?: string;
}

const show = (v: unknown): string => (JSON.stringify(v) ?? String(v)).slice(0, 60);

/** Checks one parsed item; `where` names it in errors ("items.jsonl:3"). */
export function parseMcItem(value: unknown, where: string): McItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new McItemError(
      `${where}: expected an object {"question"|"context", "choices", "answer"}, received ${show(value)}`,
    );
  const o = value as Record<string, unknown>;
  const field = 'context' in o ? 'context' : 'question';
  const context = o[field];
  if (typeof context !== 'string' || context.trim() === '')
    throw new McItemError(
      `${where}: field "${field}" must be a non-empty string (the text the choices continue), received ${show(context)}`,
    );
  const choices = o.choices;
  if (
    !Array.isArray(choices) ||
    choices.length < 2 ||
    !choices.every((c) => typeof c === 'string' && c.trim() !== '')
  ) {
    throw new McItemError(
      `${where}: field "choices" must be an array of at least 2 non-empty strings, received ${show(choices)}`,
    );
  }
  const texts = choices as string[];
  const dup = texts.find((c, i) => texts.indexOf(c) !== i);
  if (dup !== undefined)
    throw new McItemError(`${where}: field "choices" lists ${show(dup)} twice; choices must differ`);
  const a = o.answer;
  let answer: number;
  if (typeof a === 'number') {
    if (!(Number.isInteger(a) && a >= 0 && a < texts.length))
      throw new McItemError(
        `${where}: field "answer" must be a choice index in [0, ${texts.length - 1}] or a choice's text, received ${a}`,
      );
    answer = a;
  } else if (typeof a === 'string') {
    answer = texts.indexOf(a);
    if (answer < 0)
      throw new McItemError(`${where}: field "answer" ${show(a)} is not one of the choices ${show(texts)}`);
  } else {
    throw new McItemError(`${where}: field "answer" must be a choice index or a choice's text, received ${show(a)}`);
  }
  const category = o.category;
  if (category !== undefined && typeof category !== 'string')
    throw new McItemError(`${where}: field "category" must be a string when given, received ${show(category)}`);
  return { context, choices: texts, answer, ...(category !== undefined ? { category } : {}) };
}

/** Reads and checks every item of a JSONL or JSON-array file. */
export function loadMcItems(path: string): McItem[] {
  return loadJsonRecords(path, parseMcItem, 'multiple-choice items {"question"|"context", "choices", "answer"}');
}
