/**
 * Records read from a JSON array file or a JSONL file (one JSON value per line, blank lines skipped), each checked
 * by a caller's parser that names the file and record (or line) in its errors: instruction and preference records,
 * responses to judge, multiple-choice items. An unreadable file, invalid JSON or an empty file is one user error.
 */
import { readFileSync } from 'node:fs';
import { DataError } from './errors.ts';

/**
 * Reads the records of a JSON array file or a JSONL file (one object per line), each checked by `parse`; `what`
 * names the expected records in the error for an empty file.
 */
export function loadJsonRecords<T>(path: string, parse: (value: unknown, where: string) => T, what: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: T[] = [];
  if (text.trimStart().startsWith('[')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new DataError(`${path}: not valid JSON (${(e as Error).message})`);
    }
    (doc as unknown[]).forEach((r, i) => {
      out.push(parse(r, `${path} record ${i}`));
    });
  } else {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new DataError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      out.push(parse(v, `${path}:${i + 1}`));
    });
  }
  if (out.length === 0) throw new DataError(`${path}: no records (expected a JSON array or JSONL of ${what})`);
  return out;
}
