/**
 * Reading raw documents from data sources, streamed so corpora larger than memory pass through: .txt/.md files
 * (one document per file, or one per blank-line separated paragraph), .jsonl files (one document per line, taken
 * from a chosen string field), directories and globs of those, and gzip (.gz) versions of each. Bad input is a
 * one-line error naming the file and line.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { DataError } from './errors.ts';
import { expandPath } from './glob.ts';
import { UserError } from '../util/user-error.ts';

export interface SourceSpec {
  /** Name in reports (default: the path). */
  name: string;
  /** A file, a directory (recursive) or a glob (`*`, `**`, `?`). */
  path: string;
  /** .jsonl: the string field holding the text (default "text"). */
  field?: string;
  /** .txt/.md: one document per blank-line separated paragraph instead of one per file (default false). */
  paragraphs?: boolean;
  /** Mixture weight: this source's share of the training tokens (default: its natural share). */
  weight?: number;
}

export interface RawDocument {
  text: string;
  /** `file` or `file:line`, for messages. */
  where: string;
}

function openText(file: string): NodeJS.ReadableStream {
  const raw = createReadStream(file);
  if (!/\.gz$/i.test(file)) return raw;
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

function wrapError(file: string, e: unknown): Error {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  return new DataError(`${file}: cannot read (${code ?? (e as Error).message})`);
}

function kindOf(file: string): 'jsonl' | 'text' {
  return /\.jsonl(\.gz)?$/i.test(file) ? 'jsonl' : 'text';
}

async function* lines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: openText(file), crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

async function* jsonlDocuments(file: string, field: string): AsyncGenerator<RawDocument> {
  let n = 0;
  for await (const line of lines(file)) {
    n++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new DataError(`${file}:${n}: not valid JSON (${(e as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DataError(
        `${file}:${n}: expected a JSON object with a "${field}" field, received ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
      );
    }
    const text = (value as Record<string, unknown>)[field];
    if (text === undefined) {
      const keys = Object.keys(value).slice(0, 8).join(', ');
      throw new DataError(
        `${file}:${n}: no field "${field}" (the object has: ${keys || 'no fields'}); choose one with --input-field`,
      );
    }
    if (typeof text !== 'string')
      throw new DataError(`${file}:${n}: field "${field}" must be a string, received ${typeof text}`);
    yield { text, where: `${file}:${n}` };
  }
}

async function* paragraphDocuments(file: string): AsyncGenerator<RawDocument> {
  let buf: string[] = [];
  let start = 1;
  let n = 0;
  for await (const line of lines(file)) {
    n++;
    if (line.trim() === '') {
      if (buf.length > 0) yield { text: buf.join('\n'), where: `${file}:${start}` };
      buf = [];
      continue;
    }
    if (buf.length === 0) start = n;
    buf.push(line);
  }
  if (buf.length > 0) yield { text: buf.join('\n'), where: `${file}:${start}` };
}

/** The longest single document (characters) read as one string; JavaScript strings cannot grow much further. */
export const MAX_DOCUMENT_CHARS = 256 * 1024 * 1024;

async function* wholeFile(file: string): AsyncGenerator<RawDocument> {
  const decoder = new TextDecoder('utf-8');
  let text = '';
  for await (const chunk of openText(file) as AsyncIterable<Buffer>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length > MAX_DOCUMENT_CHARS) {
      throw new DataError(
        `${file}: more than ${MAX_DOCUMENT_CHARS / 1024 / 1024}M characters as one document; split it into documents with --paragraphs (blank lines) or use .jsonl`,
      );
    }
  }
  text += decoder.decode();
  yield { text, where: file };
}

/** The documents of one file. */
export async function* readFileDocuments(
  file: string,
  opts: { field?: string; paragraphs?: boolean } = {},
): AsyncGenerator<RawDocument> {
  const gen =
    kindOf(file) === 'jsonl'
      ? jsonlDocuments(file, opts.field ?? 'text')
      : opts.paragraphs
        ? paragraphDocuments(file)
        : wholeFile(file);
  try {
    yield* gen;
  } catch (e) {
    throw wrapError(file, e);
  }
}

/** The files of a source (expanded, sorted). */
export function sourceFiles(spec: SourceSpec): string[] {
  return expandPath(spec.path);
}

/** Every document of a source, file by file in sorted order. */
export async function* readSource(spec: SourceSpec): AsyncGenerator<RawDocument> {
  for (const file of sourceFiles(spec)) {
    yield* readFileDocuments(file, {
      ...(spec.field !== undefined ? { field: spec.field } : {}),
      ...(spec.paragraphs !== undefined ? { paragraphs: spec.paragraphs } : {}),
    });
  }
}
