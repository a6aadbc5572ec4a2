/**
 * Temporary directories for tests that clean up after themselves: `tempDir(tag)` creates a fresh
 * `<os tmpdir>/llmforge-<tag>-XXXXXX` directory and returns its path; every directory made this way is removed,
 * recursively, once all the tests of the file that imported this module have finished. The removal is a single
 * node:test `after` hook registered on the file's root when this module loads, not one per call, so it never runs
 * while a later test of the same file may still use a directory, whichever test (or hook) created it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const made: string[] = [];

after(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory `<os tmpdir>/llmforge-<tag>-XXXXXX`, removed when the test file is done. */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `llmforge-${tag}-`));
  made.push(dir);
  return dir;
}
