/**
 * Texts to evaluate on, as users name them: a text file (read whole), a .jsonl file (its "text" fields, one
 * document per line, joined by newlines), or `toy-world` / `toy-world:N`, a sample of N (default 300) documents
 * of llmforge's generated toy-world corpus drawn with a seed the demo corpus does not use (general text for a base
 * pretrained on the toy world). A missing or empty file is one clear error naming the path.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { generateToyWorld } from '../data/toy-world.ts';
import { UserError } from '../util/user-error.ts';

export class TextInputError extends UserError {}

export interface EvalText {
  /** Short name for tables (the file's base name, or "toy-world"). */
  label: string;
  /** Where it came from (the path, or "toy-world:N"). */
  source: string;
  text: string;
}

/** The seed of the toy-world evaluation sample (the demo corpus uses seed 0). */
export const TOY_WORLD_EVAL_SEED = 7;

/** Reads one evaluation text (see the file comment); `what` names the option in errors (e.g. "--text"). */
export function readEvalText(spec: string, what = 'text'): EvalText {
  const toy = /^toy-world(?::(\d+))?$/.exec(spec);
  if (toy) {
    const n = toy[1] === undefined ? 300 : Number(toy[1]);
    if (!(n >= 1)) throw new TextInputError(`${what} ${spec}: the toy-world sample needs at least 1 document`);
    return {
      label: 'toy-world',
      source: `toy-world:${n}`,
      text: `${generateToyWorld({ documents: n, seed: TOY_WORLD_EVAL_SEED }).join('\n')}\n`,
    };
  }
  let raw: string;
  try {
    raw = readFileSync(spec, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TextInputError(
      `${what} ${spec}: cannot read the file (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, expected a text file' : (code ?? (e as Error).message)})`,
    );
  }
  let text = raw;
  if (/\.jsonl$/i.test(spec)) {
    const docs: string[] = [];
    raw.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch (e) {
        throw new TextInputError(`${what} ${spec}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      const t = (doc as { text?: unknown } | null)?.text;
      if (typeof t !== 'string')
        throw new TextInputError(`${what} ${spec}:${i + 1}: expected an object with a string "text" field`);
      docs.push(t);
    });
    text = docs.join('\n');
  }
  if (text.trim() === '') throw new TextInputError(`${what} ${spec}: the text is empty (nothing to score)`);
  return { label: basename(spec), source: spec, text };
}
