/** `llmforge doctor`: which backend and instruction set the kernels use, thread count, and how to fix a missing addon. */
import { backend, cpuInfo, nativeAvailable } from '../../backend/index.ts';
import type { Command } from '../command.ts';

export const doctorCommand: Command = {
  spec: {
    name: 'doctor',
    summary: 'Show the compute backend, CPU features and threads in use',
    usage: 'llmforge doctor [--json]',
    options: { json: { type: 'boolean', help: 'Print one JSON object' } },
  },
  run(args) {
    const cpu = cpuInfo();
    const b = backend();
    const report = {
      backend: b.name,
      native: nativeAvailable(),
      isa: cpu?.isa ?? 'n/a',
      avx512: cpu?.avx512 ?? false,
      avx512bf16: cpu?.avx512bf16 ?? false,
      avx2: cpu?.avx2 ?? false,
      threads: b.numThreads(),
      node: process.version,
    };
    if (args.options.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    for (const [k, v] of Object.entries(report)) process.stdout.write(`${k.padEnd(11)} ${v}\n`);
    if (!report.native) process.stdout.write('\nThe native addon is not built: run `npm run build:native` (needs g++, make, python3).\n');
  },
};
