/**
 * `llmforge finetune domain`: continued pretraining of a base on the user's own text, with a before/after
 * perplexity table (held-out domain text, and general text to show forgetting) printed and written to
 * `<out>/domain-report.json`. Ctrl-C saves a checkpoint and exits with status 130; --resume continues the run.
 */
import { join } from 'node:path';
import { formatDomainReport } from '../../finetune/domain-report.ts';
import { adaptDomain, DOMAIN_REPORT_FILE } from '../../finetune/domain.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../train/config.ts';
import { parsePrecisionSetting } from '../../train/precision.ts';
import { UsageError, type OptionSpec, type Parsed } from '../args.ts';

/** Options only `domain` reads; it also reads model, data, out, steps, lr, batch-size, eval-every, val-frac, seed, resume and quiet. */
export const domainOptions: Record<string, OptionSpec> = {
  val: { type: 'string', help: 'domain: held-out domain text file (default: the last --val-frac of --data)', arg: 'FILE' },
  general: { type: 'string', help: 'domain: general text for the forgetting check: a file or toy-world[:N] (default: none)', arg: 'FILE' },
  context: { type: 'number', help: "domain: training and perplexity window in tokens (default: the base's context length)", arg: 'T' },
  stride: { type: 'number', help: 'domain: perplexity window stride, 1..context (default: context)', arg: 'S' },
  warmup: { type: 'number', help: 'domain: warmup updates (default: steps / 10, at most 100)', arg: 'N' },
  'eval-iters': { type: 'number', help: 'domain: validation batches per evaluation during training', default: 20, arg: 'N' },
};

function optionalInt(args: Parsed, name: string, min: number): number | undefined {
  const v = args.options[name];
  if (v === undefined) return undefined;
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw new UsageError(`finetune domain: --${name} must be an integer >= ${min}, received ${String(v)}`);
  return v;
}

export async function runDomain(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.model !== 'string') throw new UsageError('finetune domain: --model <base model dir | run dir | hf://owner/name> is required');
  if (typeof o.data !== 'string') throw new UsageError('finetune domain: --data <domain text file>[,<file>...] is required');
  if (typeof o.out !== 'string') throw new UsageError('finetune domain: --out <dir> is required');
  if (o.train !== undefined && o.train !== 'all') throw new UsageError(`finetune domain: --train ${String(o.train)} is not supported; domain adaptation trains all weights`);
  const steps = optionalInt(args, 'steps', 1)!;
  const context = optionalInt(args, 'context', 1);
  const stride = optionalInt(args, 'stride', 1);
  const lr = o.lr as number;
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    steps,
    lr,
    minLr: lr / 10,
    warmup: optionalInt(args, 'warmup', 0) ?? Math.min(100, Math.floor(steps / 10)),
    batchSize: optionalInt(args, 'batch-size', 1)!,
    context: context ?? 0,
    evalInterval: optionalInt(args, 'eval-every', 0)!,
    evalIters: optionalInt(args, 'eval-iters', 1)!,
    logInterval: Math.max(1, Math.floor(steps / 10)),
    seed: o.seed as number,
    precision: parsePrecisionSetting(o.precision, 'finetune domain: --precision'),
  };
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    if (++interrupts === 1) {
      process.stderr.write('\ninterrupt: finishing this update and saving a checkpoint (Ctrl-C again to quit without saving)\n');
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await adaptDomain({
      base: o.model, data: o.data.split(',').filter((f) => f !== ''), out: o.out, config,
      ...(typeof o.val === 'string' ? { val: o.val } : {}),
      valFraction: o['val-frac'] as number,
      ...(typeof o.general === 'string' ? { general: o.general } : {}),
      ...(context !== undefined ? { evalContext: context } : {}),
      ...(stride !== undefined ? { evalStride: stride } : {}),
      resume: o.resume === true, quiet: o.quiet === true, signal: controller.signal,
    });
    if (result.stopped || result.report === null) {
      process.stdout.write(`stopped at step ${result.step}/${steps}; resume with: llmforge finetune domain --model ${o.model} --data ${o.data} --out ${o.out} --resume\n`);
      process.exit(130);
    }
    process.stdout.write(`${formatDomainReport(result.report)}\nwrote ${join(o.out, DOMAIN_REPORT_FILE)}; the adapted model loads with --model ${o.out} (generate, predict, chat, eval ppl)\n`);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
