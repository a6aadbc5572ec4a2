/** `llmforge bench <gemm|ops|attention>`: kernel benchmarks printing one JSON object per line (see bench/). */
import { UsageError } from '../args.ts';
import type { Command } from '../command.ts';

export const benchCommand: Command = {
  spec: {
    name: 'bench',
    summary: 'Benchmark kernels (gemm, ops, attention); JSON lines with --json',
    usage: 'llmforge bench <gemm|ops|attention> [--json] [--reps N] [--threads N] [--torch]',
    options: {
      json: { type: 'boolean', help: 'Print one JSON object per line' },
      reps: { type: 'number', help: 'Timed repetitions per case', arg: 'N' },
      threads: { type: 'number', help: 'Native threads (default: all cores or LLMFORGE_THREADS)', arg: 'N' },
      torch: { type: 'boolean', help: 'Also run the PyTorch reference in the same run (needs /usr/bin/python3 with torch)' },
    },
  },
  async run(args) {
    const [which] = args.positionals;
    throw new UsageError(`bench: unknown benchmark "${which ?? ''}"; expected gemm, ops or attention`);
  },
};
