/**
 * Training metrics: model FLOPs per token (nanoGPT's estimate, 6N + 12 L T C with C the attention width H * D, N
 * without the position table), model FLOPs utilization against a stated peak, and the `<out>/metrics.jsonl` log
 * (one JSON object per log or evaluation line). On resume the log is cut back to the checkpoint's step so a resumed
 * run never leaves duplicate or orphaned lines behind.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.ts';
import { headSize } from '../models/config.ts';
import type { LanguageModel } from '../models/model.ts';

/** Forward + backward FLOPs per trained token at context T (matmuls 6N, attention 12 L T H D; H D = C by default). */
export function flopsPerToken(model: LanguageModel, T: number): number {
  let n = 0;
  for (const [name, p] of model.namedParameters()) if (!name.endsWith('wpe.weight')) n += p.size;
  const c = model.config;
  return 6 * n + 12 * c.nLayer * T * c.nHead * headSize(c);
}

/**
 * The peak MFU is measured against: matmuls in bf16 run at twice the fp32 rate (AVX512_BF16 and AMX-BF16 do two
 * multiply-adds per fp32 lane; models/cost.ts's cpu entry has the same 2x), so a bf16 run is held to 2x the fp32
 * peak `fp32PeakGflops` (TrainConfig.peakGflops) rather than shown at twice its real utilization.
 */
export function mfuPeakGflops(fp32PeakGflops: number, precision: 'fp32' | 'bf16'): number {
  return precision === 'bf16' ? 2 * fp32PeakGflops : fp32PeakGflops;
}

/** Model FLOPs utilization: achieved FLOP/s over the peak (peakGflops in GFLOP/s). */
export function mfu(flopsPerTok: number, tokensPerSecond: number, peakGflops: number): number {
  return (flopsPerTok * tokensPerSecond) / (peakGflops * 1e9);
}

export type MetricsRecord = { step: number } & Record<string, number | string | null>;

export class MetricsLog {
  constructor(readonly path: string) {}

  append(record: MetricsRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  /** Keeps only records with step <= `step` (a resumed run continues from there). */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => {
        if (line.trim() === '') return false;
        try {
          return (JSON.parse(line) as { step?: number }).step! <= step;
        } catch {
          return false; // a line torn by a crash mid-write
        }
      });
    writeFileAtomic(this.path, kept.map((l) => `${l}\n`).join(''));
  }

  /** Every record in the file. */
  read(): MetricsRecord[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as MetricsRecord);
  }
}
