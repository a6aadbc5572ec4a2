/**
 * Reading a trainer's saved run state (sft-state.json, classify-state.json, state.json, ...) as untrusted input:
 * a file that is not JSON, not an object, of another format, or with a field of the wrong type (a step that is not
 * a count, RNG words that are not numbers) is one error line naming the file and the field, instead of a bare
 * SyntaxError, a TypeError from deep in the resume, or a resume that silently runs on an all-zero generator.
 */
import { readFileSync } from 'node:fs';
import { rngStateProblem } from '../tensor/random.ts';
import { UserError } from '../util/user-error.ts';

export class StateFileError extends UserError {}

/**
 * What a field must hold: `count` a non-negative integer, `number` a finite number, `number?` that or null (or
 * absent), `rng` an Rng.getState() snapshot, `strings` an array of strings, `object` a JSON object; a trailing
 * `?` on any kind lets the field be absent or null.
 */
export type StateField =
  | 'count'
  | 'number'
  | 'rng'
  | 'strings'
  | 'object'
  | `${'count' | 'number' | 'rng' | 'strings' | 'object'}?`;

function problem(kind: string, v: unknown): string | undefined {
  switch (kind) {
    case 'count':
      return Number.isInteger(v) && (v as number) >= 0 ? undefined : 'a non-negative integer';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : 'a finite number';
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'an array of strings';
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'an object';
    default: {
      const p = rngStateProblem(v);
      return p === undefined ? undefined : `an RNG state (${p})`;
    }
  }
}

/**
 * Reads the JSON object in `path`, checks `"format"` equals `format` (when given) and each field of `fields`, and
 * returns it; `what` names the state in messages ("an SFT run state").
 */
export function readStateFile(
  path: string,
  what: string,
  format: string | undefined,
  fields: Record<string, StateField>,
): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new StateFileError(`${path}: cannot read ${what} (${why})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new StateFileError(`${path}: expected ${what} (a JSON object), received ${JSON.stringify(doc).slice(0, 60)}`);
  const o = doc as Record<string, unknown>;
  if (format !== undefined && o.format !== format)
    throw new StateFileError(
      `${path}: not ${what} (expected "format": "${format}", received ${JSON.stringify(o.format)})`,
    );
  for (const [name, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const v = o[name];
    if (optional && (v === undefined || v === null)) continue;
    const p = problem(optional ? spec.slice(0, -1) : spec, v);
    if (p !== undefined)
      throw new StateFileError(`${path}: "${name}" must be ${p}, received ${JSON.stringify(v) ?? 'nothing'}`);
  }
  return o;
}
