/**
 * A closed output pipe (`llmforge ... | head`) ends the command quietly with status 0 instead of an unhandled EPIPE
 * stack trace: the reader has what it wanted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

test('llmforge stops quietly when the reader closes the pipe', async () => {
  const child = spawn(process.execPath, ['bin/llmforge.js', 'tokenizer', 'encode', '--tokenizer', '../shared/data/gpt2-tokenizer', '--input', '../shared/data/tinyshakespeare/input.txt'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy(); // what `head -c` does once it has its bytes
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
});
