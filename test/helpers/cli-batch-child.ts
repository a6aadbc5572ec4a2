/**
 * The child process of cli-batch.ts: reads a JSON list of command lines, runs each through the CLI's `main` in this
 * one process, with a fresh empty temporary directory as the working directory, stdout and stderr captured and
 * process.exit turned into a thrown signal, and appends one JSON result line per case to the results file (so a
 * case that hangs or kills the process loses only itself). Arguments: <cases.json> <results.jsonl> <first index>.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/cli.ts';
import { reportCliError } from '../../src/cli/report-error.ts';

interface Case {
  argv: string[];
  timeoutMs?: number;
}

class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

const [casesPath, resultsPath, firstArg] = process.argv.slice(2) as [string, string, string];
const cases = JSON.parse(readFileSync(casesPath, 'utf8')) as Case[];
const home = process.cwd();
const realStdout = process.stdout.write.bind(process.stdout);
const realStderr = process.stderr.write.bind(process.stderr);
const realExit = process.exit.bind(process);

let stray: unknown[] = [];
process.on('uncaughtException', (e) => stray.push(e));
process.on('unhandledRejection', (e) => stray.push(e));

function text(chunk: unknown): string {
  return typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
}

for (let i = Number(firstArg); i < cases.length; i++) {
  const c = cases[i]!;
  const cwd = mkdtempSync(join(tmpdir(), 'llmforge-batch-'));
  let stdout = '';
  let stderr = '';
  stray = [];
  process.stdout.write = ((chunk: unknown) => {
    stdout += text(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => {
    stderr += text(chunk);
    return true;
  }) as typeof process.stderr.write;
  process.exit = ((code?: number) => {
    throw new ExitSignal(code ?? 0);
  }) as typeof process.exit;
  process.chdir(cwd);
  let code: number;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`TIMEOUT after ${c.timeoutMs ?? 30000} ms`)), c.timeoutMs ?? 30000);
    });
    code = await Promise.race([main(c.argv), timeout]);
  } catch (err) {
    if (err instanceof ExitSignal) code = err.code;
    else {
      try {
        code = reportCliError(err, (t) => {
          stderr += t;
        });
      } catch (bug) {
        stderr += `${bug instanceof Error ? (bug.stack ?? String(bug)) : String(bug)}\n`;
        code = 1;
      }
    }
  } finally {
    clearTimeout(timer);
    process.stdout.write = realStdout;
    process.stderr.write = realStderr;
    process.exit = realExit;
    process.chdir(home);
  }
  // Let stray rejections and stream errors of the case surface before it is judged.
  await new Promise((r) => setTimeout(r, 10));
  for (const e of stray) stderr += `${e instanceof Error ? (e.stack ?? String(e)) : String(e)}\n`;
  const written = readdirSync(cwd, { recursive: true }).map(String);
  rmSync(cwd, { recursive: true, force: true });
  appendFileSync(resultsPath, `${JSON.stringify({ index: i, code, stdout, stderr, written })}\n`);
}
realExit(0);
