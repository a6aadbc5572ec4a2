/**
 * `llmforge finetune domain`: continued pretraining of a base on the user's own text, with a before/after
 * perplexity table (held-out domain text, and general text to show forgetting) printed and written to
 * `<out>/domain-report.json`. Ctrl-C saves a checkpoint and exits with status 130; --resume continues the run.
 */
import { join } from 'node:path';
import { formatDomainReport } from '../../finetune/domain-report.ts';
import { DOMAIN_REPORT_FILE } from '../../finetune/domain.ts';
import { DEFAULT_DOMAIN_OPTIONS, runDomainAdaptation } from '../../finetune/domain-run.ts';
import { flagName, OptionCheck } from '../../train/option-check.ts';
import { UsageError, type OptionSpec, type Parsed } from '../args.ts';
import { runInterruptible } from '../interruptible.ts';
import { given } from './finetune-sft.ts';

/** Options only `domain` reads; it also reads model, data, out, steps, lr, batch-size, eval-every, val-frac, seed, resume and quiet. */
export const domainOptions: Record<string, OptionSpec> = {
  val: {
    type: 'string',
    help: 'domain: held-out domain text file (default: the last --val-frac of --data)',
    arg: 'FILE',
  },
  general: {
    type: 'string',
    help: 'domain: general text for the forgetting check: a file or toy-world[:N] (default: none)',
    arg: 'FILE',
  },
  context: {
    type: 'number',
    help: "domain: training and perplexity window in tokens (default: the base's context length)",
    arg: 'T',
  },
  stride: { type: 'number', help: 'domain: perplexity window stride, 1..context (default: context)', arg: 'S' },
  warmup: {
    type: 'number',
    help: 'sft and domain: warmup updates (default: steps / 10, at most 10 (sft) or 100 (domain))',
    arg: 'N',
  },
  'eval-iters': {
    type: 'number',
    help: `domain: validation batches per evaluation during training (default: ${DEFAULT_DOMAIN_OPTIONS.evalIters})`,
    arg: 'N',
  },
};

/** How option errors of `finetune domain` name its flags. */
const CHECK = new OptionCheck('finetune domain', (f) => ({ evalInterval: '--eval-every' })[f] ?? flagName(f));

/** Flags as runDomainAdaptation's options; every default is DEFAULT_DOMAIN_OPTIONS'. */
export async function runDomain(args: Parsed): Promise<void> {
  const o = args.options;
  if (typeof o.model !== 'string')
    throw new UsageError('finetune domain: --model <base model dir | run dir | hf://owner/name> is required');
  if (typeof o.data !== 'string')
    throw new UsageError('finetune domain: --data <domain text file>[,<file>...] is required');
  if (typeof o.out !== 'string') throw new UsageError('finetune domain: --out <dir> is required');
  if (o.train !== undefined && o.train !== 'all')
    throw new UsageError(
      `finetune domain: --train ${String(o.train)} is not supported; domain adaptation trains all weights`,
    );
  const [model, data, out] = [o.model, o.data, o.out];
  const result = await runInterruptible(out, (signal) =>
    runDomainAdaptation(
      {
        base: model,
        data: data.split(',').filter((f) => f !== ''),
        out,
        resume: o.resume === true,
        quiet: o.quiet === true,
        signal,
        ...given({
          val: o.val,
          valFrac: o['val-frac'],
          general: o.general,
          steps: o.steps,
          lr: o.lr,
          minLr: o['min-lr'],
          batchSize: o['batch-size'],
          context: o.context,
          stride: o.stride,
          warmup: o.warmup,
          evalInterval: o['eval-every'],
          evalIters: o['eval-iters'],
          seed: o.seed,
          precision: o.precision,
        }),
      },
      CHECK,
    ),
  );
  if (result.report === null) return;
  process.stdout.write(
    `${formatDomainReport(result.report)}\nwrote ${join(out, DOMAIN_REPORT_FILE)}; the adapted model loads with --model ${out} (generate, predict, chat, eval ppl)\n`,
  );
}
