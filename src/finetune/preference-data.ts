/**
 * Preference pairs for alignment (reward models, DPO): one prompt with a chosen and a rejected response, read from a
 * JSON array or JSONL file in the common layouts: Alpaca style (`instruction`, optional `input`, `chosen`,
 * `rejected`; an `output` field is ignored), a text prompt (`prompt`, `chosen`, `rejected` strings), a chat prompt
 * (`prompt` a list of messages, `chosen`/`rejected` a string or the assistant message list), or two whole
 * conversations (`chosen`/`rejected` message lists sharing every turn but the last). Each side becomes an
 * instruction record (src/chat/records.ts), so prompt templates, tokenization and response masking are the
 * SFT ones. Malformed records are user errors naming the file, record and field.
 */
import { loadJsonRecords } from '../data/json-records.ts';
import { parseSftRecord, type ChatMessage, type SftRecord } from '../chat/records.ts';
import { UserError } from '../util/user-error.ts';

export interface PreferencePair {
  chosen: SftRecord;
  rejected: SftRecord;
}

function responseText(r: SftRecord): string {
  return r.kind === 'alpaca' ? r.output : r.messages[r.messages.length - 1]!.content;
}

/** A field holding a list of chat messages, checked through the SFT parser (which wants the last one from the assistant). */
function messageList(value: unknown, where: string, field: string, needAssistantLast: boolean): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new UserError(
      `${where}: field "${field}" must be a string or a non-empty list of {role, content}, received ${JSON.stringify(value)?.slice(0, 60)}`,
    );
  const probe = needAssistantLast ? value : [...value, { role: 'assistant', content: '' }];
  const parsed = parseSftRecord({ messages: probe }, `${where} field "${field}"`);
  const messages = (parsed as { messages: ChatMessage[] }).messages;
  return needAssistantLast ? messages : messages.slice(0, -1);
}

function sameMessages(a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean {
  return a.length === b.length && a.every((m, i) => m.role === b[i]!.role && m.content === b[i]!.content);
}

/** Checks one parsed preference record; `where` names it in errors ("prefs.json record 3"). */
export function parsePreferenceRecord(value: unknown, where: string): PreferencePair {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UserError(`${where}: expected an object, received ${JSON.stringify(value)?.slice(0, 60)}`);
  const o = value as Record<string, unknown>;
  for (const field of ['chosen', 'rejected'] as const) {
    if (!(field in o))
      throw new UserError(
        `${where}: field "${field}" is missing (a preference record has a prompt, "chosen" and "rejected")`,
      );
  }
  if (typeof o.instruction === 'string') {
    for (const field of ['chosen', 'rejected'] as const) {
      if (typeof o[field] !== 'string')
        throw new UserError(
          `${where}: field "${field}" must be a string in an Alpaca-style record, received ${JSON.stringify(o[field])?.slice(0, 60)}`,
        );
    }
    const base = { instruction: o.instruction, input: o.input };
    return {
      chosen: parseSftRecord({ ...base, output: o.chosen }, where),
      rejected: parseSftRecord({ ...base, output: o.rejected }, where),
    };
  }
  if ('prompt' in o) {
    const prompt: ChatMessage[] =
      typeof o.prompt === 'string'
        ? [{ role: 'user', content: o.prompt }]
        : messageList(o.prompt, where, 'prompt', false);
    const side = (field: 'chosen' | 'rejected'): SftRecord => {
      const v = o[field];
      const reply = typeof v === 'string' ? [{ role: 'assistant', content: v }] : messageList(v, where, field, true);
      return { kind: 'chat', messages: [...prompt, ...reply] };
    };
    return { chosen: side('chosen'), rejected: side('rejected') };
  }
  if (Array.isArray(o.chosen) && Array.isArray(o.rejected)) {
    const chosen = messageList(o.chosen, where, 'chosen', true);
    const rejected = messageList(o.rejected, where, 'rejected', true);
    if (!sameMessages(chosen.slice(0, -1), rejected.slice(0, -1))) {
      throw new UserError(
        `${where}: "chosen" and "rejected" conversations must share every turn but the last (the prompt); they differ before it`,
      );
    }
    return { chosen: { kind: 'chat', messages: chosen }, rejected: { kind: 'chat', messages: rejected } };
  }
  throw new UserError(
    `${where}: no prompt: expected "instruction" (Alpaca style), "prompt" (text or messages), or "chosen" and "rejected" as whole conversations`,
  );
}

export interface PreferenceData {
  pairs: PreferencePair[];
  /** Records whose chosen and rejected responses are the same text: they carry no preference and are left out. */
  identical: number;
}

/** Reads preference pairs from a JSON array or JSONL file; pairs with identical responses are dropped and counted. */
export function loadPreferencePairs(path: string): PreferenceData {
  const all = loadJsonRecords(path, parsePreferenceRecord, 'preference records (a prompt, "chosen" and "rejected")');
  const pairs = all.filter((p) => responseText(p.chosen) !== responseText(p.rejected));
  if (pairs.length === 0)
    throw new UserError(
      `${path}: every record's chosen and rejected responses are identical; there is no preference to learn`,
    );
  return { pairs, identical: all.length - pairs.length };
}
