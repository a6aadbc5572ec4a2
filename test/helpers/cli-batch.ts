/**
 * Runs many `llmforge` command lines fast: one child process (cli-batch-child.ts) loads the CLI once and runs every
 * case through its `main`, each in a fresh empty working directory, and reports per case the exit status, stdout,
 * stderr and the files left in that directory. A case that hangs past its timeout or kills the child is reported as
 * such (status null) and the child is restarted at the next case.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp-dir.ts';

export interface BatchCase {
  argv: string[];
  /** Per-case limit in the child (default 30 s). */
  timeoutMs?: number;
}

export interface BatchResult {
  argv: string[];
  /** The exit status main gave (or process.exit's), null when the child died or hung on this case. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Paths left in the case's working directory, relative to it. */
  written: string[];
}

const CHILD = fileURLToPath(new URL('./cli-batch-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function runCliBatch(cases: BatchCase[]): BatchResult[] {
  const dir = tempDir('cli-batch');
  const casesPath = join(dir, 'cases.json');
  const resultsPath = join(dir, 'results.jsonl');
  writeFileSync(casesPath, JSON.stringify(cases));
  const results = new Map<number, BatchResult>();
  let next = 0;
  while (next < cases.length) {
    const budget = cases.slice(next).reduce((s, c) => s + (c.timeoutMs ?? 30_000), 10_000);
    const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, casesPath, resultsPath, String(next)], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: budget,
    });
    if (existsSync(resultsPath))
      for (const line of readFileSync(resultsPath, 'utf8').split('\n')) {
        if (line === '') continue;
        const o = JSON.parse(line) as BatchResult & { index: number };
        results.set(o.index, { ...o, argv: cases[o.index]!.argv });
      }
    let done = next;
    while (results.has(done)) done++;
    if (done < cases.length) {
      // The child died or hung on case `done`: record it and go on after it.
      results.set(done, {
        argv: cases[done]!.argv,
        code: null,
        stdout: r.stdout ?? '',
        stderr: `child ended (status ${r.status}, signal ${r.signal}) on this case: ${r.stderr ?? ''}`,
        written: [],
      });
      done++;
    }
    next = done;
  }
  return cases.map((_, i) => results.get(i)!);
}
