#!/usr/bin/env node
/**
 * The `llmforge` command line: dispatches to one file per command under ./commands, prints --help for each, and
 * turns user mistakes (any UserError: a UsageError, a bad input file, ...) into one clear line instead of a stack trace.
 */
import { parseArgs, renderHelp } from './args.ts';
import type { Command } from './command.ts';
import { reportCliError } from './report-error.ts';
import { benchCommand } from './commands/bench.ts';
import { chatCommand } from './commands/chat.ts';
import { classifyCommand } from './commands/classify.ts';
import { dataCommand } from './commands/data.ts';
import { doctorCommand } from './commands/doctor.ts';
import { dpoCommand } from './commands/dpo.ts';
import { estimateCommand } from './commands/estimate.ts';
import { evalCommand } from './commands/eval.ts';
import { exportCommand } from './commands/export.ts';
import { finetuneCommand } from './commands/finetune.ts';
import { generateCommand } from './commands/generate.ts';
import { importCommand } from './commands/import.ts';
import { infoCommand } from './commands/info.ts';
import { ppoCommand } from './commands/ppo.ts';
import { predictCommand } from './commands/predict.ts';
import { pullCommand } from './commands/pull.ts';
import { rewardCommand } from './commands/reward.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';
import { startCommand } from './commands/start.ts';
import { tokenizerCommand } from './commands/tokenizer.ts';
import { trainCommand } from './commands/train.ts';

const commands: Command[] = [
  startCommand,
  runCommand,
  tokenizerCommand,
  dataCommand,
  trainCommand,
  finetuneCommand,
  rewardCommand,
  dpoCommand,
  ppoCommand,
  classifyCommand,
  generateCommand,
  chatCommand,
  serveCommand,
  predictCommand,
  evalCommand,
  infoCommand,
  pullCommand,
  exportCommand,
  importCommand,
  estimateCommand,
  benchCommand,
  doctorCommand,
];

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length)) + 4;
  return [
    'llmforge: the whole life of a large language model, in TypeScript.',
    '',
    'Usage: llmforge <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    '',
    "Run `llmforge <command> --help` for a command's options.",
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${topHelp()}\n`);
    return 0;
  }
  const cmd = commands.find((c) => c.spec.name === name);
  if (!cmd) {
    process.stderr.write(`llmforge: unknown command "${name}".\n\n${topHelp()}\n`);
    return 2;
  }
  const parsed = parseArgs(cmd.spec, rest);
  if (parsed.help) {
    process.stdout.write(`${renderHelp(cmd.spec)}\n`);
    return 0;
  }
  await cmd.run(parsed);
  return 0;
}

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
