/**
 * `llmforge doctor`: which backend and instruction set the kernels use, the CPU's bf16 features (AMX-BF16,
 * AVX512_BF16) and what `--precision auto` resolves to here (through src/train/precision.ts, the same decision a
 * training run makes), thread count, and how to fix a missing addon.
 */
import { backend, cpuInfo, nativeAvailable } from '../../backend/index.ts';
import { resolvePrecision } from '../../train/precision.ts';
import type { Command } from '../command.ts';

/** `--precision auto` here: the resolved precision and why, or the error a run would stop with (bad LLMFORGE_MATMUL). */
function autoPrecision(): { auto: string; why: string } {
  try {
    const r = resolvePrecision('auto');
    return { auto: r.precision, why: r.why.replace(/^auto: /, '') };
  } catch (err) {
    return { auto: 'invalid', why: err instanceof Error ? err.message : String(err) };
  }
}

export const doctorCommand: Command = {
  spec: {
    name: 'doctor',
    summary: 'Show the compute backend, CPU features, bf16 support and threads in use',
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
      amxBf16: cpu?.amxBf16 ?? false,
      avx2: cpu?.avx2 ?? false,
      precision: autoPrecision(),
      threads: b.numThreads(),
      node: process.version,
    };
    if (args.options.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    for (const [k, v] of Object.entries(report)) {
      const text = v === report.precision ? `auto -> ${report.precision.auto} (${report.precision.why})` : String(v);
      process.stdout.write(`${k.padEnd(11)} ${text}\n`);
    }
    if (!report.native)
      process.stdout.write('\nThe native addon is not built: run `npm run build:native` (needs g++, make, python3).\n');
  },
};
