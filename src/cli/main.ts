#!/usr/bin/env node
/**
 * The `llmforge` command line: dispatches to one file per command under ./commands, prints --help for each, and
 * turns user mistakes (any UserError: a UsageError, a bad input file, ...) into one clear line instead of a stack trace.
 */
import { main } from './cli.ts';
import { reportCliError } from './report-error.ts';

// A closed pipe (`llmforge ... | head`) is the reader saying it has enough: stop quietly, as Unix tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportCliError(err);
  },
);
