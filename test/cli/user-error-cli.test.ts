/**
 * The CLI's two ways of ending on an error, end to end: a user mistake found deep inside a command (a corrupt GGUF
 * file met by the GGUF reader) prints one `error:` line and exits 2, and a bug (a TypeError) reaching the same
 * report keeps Node's stack trace and exits 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';

test('a user mistake deep inside a command is one error line, no stack trace', () => {
  const dir = tempDir('user-error-cli');
  const bad = join(dir, 'bad.gguf');
  writeFileSync(bad, Buffer.from('this is not a GGUF file at all'));
  const r = spawnSync(
    process.execPath,
    ['bin/llmforge.js', 'import', '--format', 'gguf', bad, '--out', join(dir, 'out')],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^error: .*bad\.gguf.*not a GGUF file/);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.ok(!r.stderr.includes('    at '), r.stderr);
});

test('a bug reaching the CLI error report keeps its stack trace', () => {
  // The same promise shape as src/cli/main.ts: the command's rejection goes to reportCliError, which rethrows.
  const script = [
    "import { reportCliError } from './src/cli/report-error.ts';",
    "Promise.reject(new TypeError('boom: x is undefined')).then(() => {}, (err) => { process.exitCode = reportCliError(err); });",
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /TypeError: boom: x is undefined/);
  assert.match(r.stderr, /\n {4}at /);
});
