/**
 * `llmforge bench charlm` cleans up its temporary run directory (the trainer's checkpoints) when interrupted: a
 * Ctrl-C (SIGINT) once the directory exists stops the run after the current update with exit code 130 and one error
 * line, and the directory is gone. The child's TMPDIR is a fresh directory, so only this run's files are looked at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers/temp-dir.ts';

test('bench charlm: Ctrl-C stops with exit code 130 and removes the temporary run directory', async () => {
  const tmp = tempDir('charlm-bench');
  const data = join(tmp, 'text.txt');
  writeFileSync(data, 'the cat sat on the mat. the dog sat on the log.\n'.repeat(200));
  const runDirs = (): string[] => readdirSync(tmp).filter((n) => n.startsWith('llmforge-charlm-'));
  const child = spawn(
    process.execPath,
    ['bin/llmforge.js', 'bench', 'charlm', '--data', data, '--iters', '5000', '--json'],
    {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  while (runDirs().length === 0 && child.exitCode === null) await sleep(20);
  assert.equal(runDirs().length, 1, `the run directory never appeared:\n${stderr}`);
  child.kill('SIGINT');
  const [code, signal] = await exited;
  assert.equal(signal, null, stderr);
  assert.equal(code, 130, stderr);
  assert.match(stderr, /(^|\n)error: bench charlm: interrupted at step \d+\/5000; no result\n$/);
  assert.deepEqual(runDirs(), []);
});
