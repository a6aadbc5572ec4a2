/**
 * Tests of the one user-error class: domain errors (safetensors, data, usage) are UserErrors, and the CLI's error
 * report turns a UserError from deep inside into one `error:` line with its exit status while a plain Error or a
 * TypeError (a bug) is rethrown unchanged, stack trace included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/cli/args.ts';
import { reportCliError } from '../../src/cli/report-error.ts';
import { DataError } from '../../src/data/errors.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { SafetensorsError } from '../../src/io/safetensors-header.ts';
import { isUserError, UserError } from '../../src/util/user-error.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function report(err: unknown): { code: number; text: string } {
  let text = '';
  const code = reportCliError(err, (t) => {
    text += t;
  });
  return { code, text };
}

test('UserError is an Error named Error with an optional exit status; domain errors extend it', () => {
  const e = new UserError('x.json: field "a" must be a number, received "b"');
  assert.ok(e instanceof Error && isUserError(e));
  assert.equal(String(e), 'Error: x.json: field "a" must be a number, received "b"');
  assert.equal(e.exitCode, undefined);
  assert.equal(new UserError('stopped', { exitCode: 130 }).exitCode, 130);
  assert.ok(new UsageError('u') instanceof UserError);
  assert.ok(new DataError('d') instanceof UserError);
  assert.ok(new SafetensorsError('s') instanceof UserError);
  assert.ok(!isUserError(new TypeError('t')) && !isUserError('a string') && !isUserError(undefined));
});

test('a UserError from deep inside is reported as one line with exit status 2', () => {
  const bad = join(tempDir('user-error'), 'bad.safetensors');
  writeFileSync(bad, Buffer.from([1, 2, 3]));
  let thrown: unknown;
  try {
    readSafetensors(bad);
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof SafetensorsError, String(thrown));
  const { code, text } = report(thrown);
  assert.equal(code, 2);
  assert.ok(text.startsWith(`error: ${bad}`), text);
  assert.ok(text.endsWith('\n') && text.indexOf('\n') === text.length - 1, `not one line: ${JSON.stringify(text)}`);
  assert.ok(!text.includes('    at '));
  assert.equal(report(new UserError('run stopped', { exitCode: 130 })).code, 130);
});

test('a plain Error or a TypeError is rethrown unchanged, stack and all', () => {
  for (const bug of [
    new Error('invariant broken'),
    new TypeError("Cannot read properties of undefined (reading 'shape')"),
  ]) {
    assert.throws(
      () => report(bug),
      (e: unknown) => e === bug && /\n {4}at /.test((e as Error).stack ?? ''),
    );
  }
  // An error merely carrying the old duck-typed flag is not a user error any more.
  const flagged = Object.assign(new Error('flagged'), { userError: true });
  assert.throws(
    () => report(flagged),
    (e: unknown) => e === flagged,
  );
});
