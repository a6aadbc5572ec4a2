/**
 * Instruction-tuning records as files hold them: Alpaca-style objects (`instruction`, optional `input`, `output`)
 * or chat objects (`messages`: a list of `{role, content}` ending with an assistant turn), read from a JSON array
 * or a JSONL file. Every malformed record is a user error naming the file, the record and the field.
 */
import { loadJsonRecords } from '../data/json-records.ts';
import { UserError } from '../util/user-error.ts';

export interface ChatMessage {
  role: string;
  content: string;
}

export type SftRecord =
  | { kind: 'alpaca'; instruction: string; input: string; output: string }
  | { kind: 'chat'; messages: ChatMessage[] };

/** Checks one parsed record; `where` names it in errors ("data.json record 3"). */
export function parseSftRecord(value: unknown, where: string): SftRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UserError(`${where}: expected an object, received ${JSON.stringify(value)?.slice(0, 60)}`);
  const o = value as Record<string, unknown>;
  if ('messages' in o) {
    const msgs = o.messages;
    if (!Array.isArray(msgs) || msgs.length === 0)
      throw new UserError(`${where}: field "messages" must be a non-empty array of {role, content}`);
    const messages = msgs.map((m, i) => {
      const mm = m as Record<string, unknown> | null;
      if (typeof mm !== 'object' || mm === null || typeof mm.role !== 'string' || typeof mm.content !== 'string') {
        throw new UserError(
          `${where}: messages[${i}] must be {"role": string, "content": string}, received ${JSON.stringify(m)?.slice(0, 60)}`,
        );
      }
      return { role: mm.role, content: mm.content };
    });
    if (messages[messages.length - 1]!.role !== 'assistant')
      throw new UserError(
        `${where}: the last message must have role "assistant" (the response to learn), received "${messages[messages.length - 1]!.role}"`,
      );
    return { kind: 'chat', messages };
  }
  for (const field of ['instruction', 'output'] as const) {
    if (typeof o[field] !== 'string')
      throw new UserError(
        `${where}: field "${field}" must be a string (Alpaca record) or the record must have "messages"; received ${JSON.stringify(o[field])}`,
      );
  }
  if (o.input !== undefined && typeof o.input !== 'string')
    throw new UserError(`${where}: field "input" must be a string, received ${JSON.stringify(o.input)}`);
  return {
    kind: 'alpaca',
    instruction: o.instruction as string,
    input: (o.input as string | undefined) ?? '',
    output: o.output as string,
  };
}

/** Reads instruction records from a JSON array file or a JSONL file (one object per line). */
export function loadSftRecords(path: string): SftRecord[] {
  return loadJsonRecords(path, parseSftRecord, 'Alpaca or chat records');
}

/** The record as chat messages (an Alpaca record becomes one user turn, instruction + input, and the answer). */
export function toMessages(r: SftRecord): ChatMessage[] {
  if (r.kind === 'chat') return r.messages;
  const user = r.input.trim() === '' ? r.instruction : `${r.instruction}\n\n${r.input}`;
  return [
    { role: 'user', content: user },
    { role: 'assistant', content: r.output },
  ];
}

/** The reference answer (the last assistant turn) and the record without it, for evaluation. */
export function splitReference(r: SftRecord): { prompt: SftRecord; reference: string } {
  if (r.kind === 'alpaca') return { prompt: { ...r, output: '' }, reference: r.output };
  return {
    prompt: { kind: 'chat', messages: r.messages.slice(0, -1) },
    reference: r.messages[r.messages.length - 1]!.content,
  };
}
