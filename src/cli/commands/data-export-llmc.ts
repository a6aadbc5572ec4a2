/**
 * `llmforge data export-llmc <dir> --out <dir>`: converts a dataset prepared by `llmforge data prepare` into
 * karpathy/llm.c token shards (<name>_train_000000.bin, <name>_val_000000.bin, ...; <name> is the dataset
 * directory's name), one per llmforge shard, so data prepared here feeds llm.c's (multi-GPU) training. Registered
 * as a subcommand of `llmforge data`.
 */
import { basename, resolve } from 'node:path';
import { exportLlmcShards } from '../../export/llmc/llmc-dataset.ts';
import { UsageError, type Parsed } from '../args.ts';

export const DATA_EXPORT_LLMC_USAGE = 'llmforge data export-llmc <dir> --out <dir>';

export function runDataExportLlmc(args: Parsed): void {
  const dir = args.positionals[1];
  const out = args.options.out as string | undefined;
  if (dir === undefined)
    throw new UsageError(`data export-llmc: give the prepared dataset directory (${DATA_EXPORT_LLMC_USAGE})`);
  if (out === undefined) throw new UsageError(`data export-llmc: --out <dir> is required (${DATA_EXPORT_LLMC_USAGE})`);
  if (args.positionals.length > 2)
    throw new UsageError(`data export-llmc: unexpected argument "${args.positionals[2]}"`);
  if (resolve(dir) === resolve(out))
    throw new UsageError('data export-llmc: --out must differ from the dataset directory');
  const prefix = basename(resolve(dir)).replace(/[^\w.-]+/g, '_');
  const summary = exportLlmcShards(dir, out, { prefix, progress: !(args.options.quiet as boolean | undefined) });
  process.stdout.write(
    `exported ${summary.tokens.train.toLocaleString('en-US')} train and ${summary.tokens.val.toLocaleString('en-US')} val tokens as ${summary.files.length} llm.c shard(s)\n` +
      `wrote ${summary.files.join(', ')} to ${out}\n`,
  );
}
