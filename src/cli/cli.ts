/**
 * The `llmforge` command table and its dispatcher: `main(argv)` finds the command, parses its options, prints
 * --help, runs it and resolves to the exit status (a user mistake rejects with a UserError, which the caller
 * reports). src/cli/main.ts is the process entry around it; tests run many command lines through `main` in one
 * process.
 */
import { parseArgs, renderHelp } from './args.ts';
import type { Command } from './command.ts';
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
import { reportCommand } from './commands/report.ts';
import { rewardCommand } from './commands/reward.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';
import { startCommand } from './commands/start.ts';
import { studioCommand } from './commands/studio.ts';
import { tokenizerCommand } from './commands/tokenizer.ts';
import { trainCommand } from './commands/train.ts';

/** Every command, in the order the top-level help lists them. */
export const commands: Command[] = [
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
  studioCommand,
  predictCommand,
  evalCommand,
  reportCommand,
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

/** Runs one command line (the arguments after `llmforge`) and returns the exit status; a UserError rejects. */
export async function main(argv: string[]): Promise<number> {
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
