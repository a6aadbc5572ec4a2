/**
 * A closed output pipe (`llmforge ... | head`) ends the command quietly with status 0 instead of an unhandled EPIPE
 * stack trace: the reader has what it wanted. The input is a 750 kB toy-world text encoded with GPT-2's tokenizer, so
 * the command still has megabytes of ids to write when the pipe closes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateToyWorld } from '../../src/data/toy-world.ts';
import { gpt2TokenizerDir } from '../helpers/gpt2-tokenizer.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('llmforge stops quietly when the reader closes the pipe', async () => {
  const input = join(tempDir('epipe'), 'toy.txt');
  writeFileSync(input, generateToyWorld({ documents: 4000 }).join('\n\n'));
  const child = spawn(
    process.execPath,
    ['bin/llmforge.js', 'tokenizer', 'encode', '--tokenizer', gpt2TokenizerDir(), '--input', input],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy(); // what `head -c` does once it has its bytes
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
});
